"""Claim id -> experiment class, imported only when that claim runs."""

from __future__ import annotations

import importlib
import time
from collections.abc import Callable
from typing import Any

from homogeny.errors import HomogenyError, did_you_mean
from homogeny.experiments.base import Evidence, ExperimentContext
from homogeny.experiments.claims import CLAIMS, THESIS
from homogeny.store import Store

EXPERIMENTS: dict[str, str] = {c.id: c.target for c in CLAIMS.values()}
EXPERIMENTS[THESIS.id.lower()] = THESIS.target  # `homogeny run T` (an audit runs it last)


def experiment(claim: str) -> Any:
    """An instance of the experiment for `claim` (c1..c7)."""
    key = claim.strip().lower()
    if key not in EXPERIMENTS:
        raise HomogenyError(
            f"unknown claim {claim!r}{did_you_mean(key, list(EXPERIMENTS))}; "
            f"use one of {', '.join(EXPERIMENTS)}"
        )
    module, _, cls = EXPERIMENTS[key].partition(":")
    return getattr(importlib.import_module(module), cls)()


def canonical_claim(claim: str) -> str:
    """The stored spelling of a claim id: c1..c7 lower case, the thesis as "T"."""
    key = claim.strip().lower()
    return THESIS.id if key == THESIS.id.lower() else key


def run_in_store(
    store: Store,
    claim: str,
    ctx: ExperimentContext,
    command: str = "run",
    exp: Any = None,
    args: dict[str, Any] | None = None,
) -> list[Evidence]:
    """Run one claim inside an open store: a runs row, the experiment, its evidence replaced.
    `exp` defaults to the registered experiment for `claim`; `args` to the context's settings."""
    exp = exp if exp is not None else experiment(claim)
    if args is None:
        args = {"models": ctx.models, "quick": ctx.quick, "seed": ctx.seed, "options": ctx.options}
    store.begin_run(f"{command} {claim}", args)
    started = time.time()
    try:
        evidence = exp.run(ctx)
        store.replace_evidence(claim, [e.as_row() for e in evidence])
        store.put_artifact(claim, "timing", {"seconds": time.time() - started, "quick": ctx.quick})
        store.finish_run("done")  # inside the try: a stop landing here still marks the run
    except BaseException:
        store.finish_run("interrupted")
        raise
    return evidence


def run_claims(
    claims: list[str],
    models: list[str],
    store_path: str,
    quick: bool = False,
    seed: int = 0,
    executor: str = "local",
    ray_address: str | None = None,
    options: dict[str, Any] | None = None,
    log: Callable[[str], None] | None = None,
) -> list[Evidence]:
    """Run the named claims' experiments against one store and return all their evidence."""
    for c in claims:
        experiment(c)  # validate every name before any work starts
    from rich.console import Console

    console = Console(stderr=True)
    out: list[Evidence] = []
    with Store.open(store_path) as store:
        ctx = ExperimentContext(
            store=store,
            models=models,
            quick=quick,
            seed=seed,
            executor=executor,
            ray_address=ray_address,
            options=options or {},
            log=log or (lambda m: console.print(f"[dim]{m}[/]")),
        )
        for claim in claims:
            claim = canonical_claim(claim)
            console.rule(f"[bold]{claim}")
            out.extend(run_in_store(store, claim, ctx))
    return out
