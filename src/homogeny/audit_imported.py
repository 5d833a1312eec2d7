"""`homogeny audit --generations PATH ...`: the audit over generations made elsewhere.

The PATHs are imported into the audit's store first (homogeny.importing: read and checked
before the store opens, importing twice adds nothing); their models (`imported:NAME`, texts
only) join the run's models. A claim that reads imported texts (its experiment class sets
`reads_imported`) gets every model; any other claim runs on the models homogeny can sample,
and where there is none, its primary row says "not testable on imported texts" and why.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from homogeny.experiments.base import Evidence, ExperimentContext, not_testable
from homogeny.importing.capabilities import is_imported, why_not
from homogeny.store import Store


def import_generations(paths: Sequence[Path], store_path: str) -> list[str]:
    """Import `paths` into the store (nothing twice) and return the imported model ids."""
    from homogeny.importing.load import import_files

    summary = import_files(list(paths), store_path)
    print(
        f"imported {summary.samples} samples of {len(summary.models)} models from "
        f"{summary.files} files ({summary.new} new)"
    )
    return sorted(summary.models)


def audit_models(given: Sequence[str], store_path: str) -> list[str]:
    """The run's models: `given` (--models, or the installed embedded models without it),
    plus every imported model of the store unless `given` names some `imported:NAME`
    itself (then exactly `given`: that is how to pick imported models, or leave local out)."""
    if any(is_imported(m) for m in given):
        return list(given)
    from homogeny.importing.stored import imported_models

    with Store.open(store_path, read_only=True) as store:
        imported = [m.model_id for m in imported_models(store)]
    return [*given, *imported]


def run_claim(
    store: Store, claim: str, ctx: ExperimentContext, args: dict[str, Any], exp: Any = None
) -> list[Evidence]:
    """Run one claim of the audit (its runs row, its evidence stored): all models if it reads
    imported texts, else the models homogeny can sample; with none of those, its primary row
    not testable on imported texts. `args`: the settings recorded in its runs row."""
    from homogeny.experiments.registry import experiment, run_in_store

    exp = exp if exp is not None else experiment(claim)
    imported = [m for m in ctx.models if is_imported(m)]
    if not imported or getattr(exp, "reads_imported", False):
        return run_in_store(store, claim, ctx, command="audit", exp=exp, args=args)
    local = [m for m in ctx.models if not is_imported(m)]
    if local:
        sub = dataclasses.replace(ctx, models=local)
        return run_in_store(store, claim, sub, command="audit", exp=exp, args=args)
    return run_in_store(store, claim, ctx, command="audit", exp=NotTestable(exp), args=args)


class NotTestable:
    """A claim none of whose studies can run on texts-only models: its declared primary row,
    not testable on imported texts, with the reason."""

    def __init__(self, exp: Any) -> None:
        self.exp = exp

    def run(self, ctx: ExperimentContext) -> list[Evidence]:
        """The claim's primary row (or one row under its claim id), not testable here."""
        rule = getattr(type(self.exp), "primary", None)
        reason = why_not(ctx.models[0], "generate")
        extra: dict[str, Any] = {"role": "primary", "models": tuple(ctx.models), "quick": ctx.quick}
        if rule is not None:
            extra.update(unit=rule.unit, predicted=rule.predicted, threshold=rule.threshold)
        metric = rule.metric if rule is not None else "claim"
        return [not_testable(self.exp.claim, self.exp.question, metric, reason, **extra)]
