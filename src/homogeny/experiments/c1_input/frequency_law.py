"""C1 (d) the paper's own test (Lu et al. 2026): is the high-frequency variant of an aligned
pair easier for the model (lower token NLL; higher accuracy on checkable questions)?"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import numpy as np

from homogeny.experiments.base import Evidence, ExperimentContext
from homogeny.experiments.c1_input.measures import (
    frequency_pair,
    info,
    is_correct,
    mcnemar_exact,
    mean_token_nll,
    short,
    sign_test,
)
from homogeny.experiments.c1_input.outputs import Outputs, by_recent_use
from homogeny.experiments.c1_input.plan import CLAIM, Plan
from homogeny.suites.prompt import Prompt


def text_pairs(plan: Plan) -> tuple[list[tuple[str, str]], dict[str, Any]]:
    """(low, high) texts from the plan's pair files, else from the checkable paraphrase
    families (rarest vs most common phrasing); and where they came from."""
    from homogeny.suites.catalog import paraphrase_families

    if plan.pairs:
        from homogeny.suites.files import read_pairs

        pairs = read_pairs(*plan.pairs)
        keep = plan.pairs_from_file
        return (pairs[:keep] if keep else pairs), {"source": "pair files", "file": plan.pairs[0]}
    found = [
        frequency_pair(g) for g in paraphrase_families(quick=False).values()
        if g[0].meta["kind"] == "checkable"
    ]  # fmt: skip
    pairs = [(lo.text, hi.text) for lo, hi in filter(None, found)]
    keep = plan.pairs_from_suite
    return (pairs[:keep] if keep else pairs), {"source": "checkable paraphrase families"}


def nll_rows(
    ctx: ExperimentContext, pairs: list[tuple[str, str]], source: dict[str, Any]
) -> Iterator[Evidence]:
    """Per model with exact logits: NLL(low) - NLL(high) per pair, teacher-forced."""
    from homogeny import models

    plot: dict[str, list[Any]] = {"labels": [], "values": [], "low": [], "high": []}
    found = {}
    for spec in by_recent_use(ctx.models):
        if info(spec).backend != "llamacpp":
            ctx.log(f"c1(d): {short(spec)} gives no exact logits here; NLL skipped")
            continue
        with models.open(spec, need="score") as backend:
            found[spec] = np.array(
                [mean_token_nll(backend, lo) - mean_token_nll(backend, hi) for lo, hi in pairs]
            )
    for spec in [m for m in ctx.models if m in found]:
        diffs = found[spec]
        row = ctx.evidence(
            CLAIM, "nll_low_minus_high", diffs,
            question="Is the high-frequency variant of an aligned pair easier for the model "
            "(lower mean token NLL)?",
            sign="positive = the low-frequency wording costs more nats per token than the "
            "high-frequency wording",
            unit="nats per token", role="secondary", subject=info(spec).model_id,
            models=[info(spec).model_id], plot={"sign_test": sign_test(diffs), **source},
        )  # fmt: skip
        for key, val in zip(plot, (short(spec), row.effect, row.ci_low, row.ci_high)):
            plot[key].append(val)
        yield row
    if plot["labels"]:
        ctx.artifact(CLAIM, "nll_low_minus_high", plot)


def accuracy_rows(
    ctx: ExperimentContext, pairs: list[tuple[Prompt, Prompt]], outputs: Outputs
) -> Iterator[Evidence]:
    """Per model: accuracy on the high- minus the low-frequency phrasing, per family."""

    def ok(out: dict[str, str], p: Prompt) -> bool:
        return is_correct(
            out[p.id], str(p.meta.get("answer", "")), p.meta.get("answer_aliases", ())
        )

    for spec, out in outputs.items():
        low_ok = np.array([ok(out, lo) for lo, _ in pairs], dtype=float)
        high_ok = np.array([ok(out, hi) for _, hi in pairs], dtype=float)
        yield ctx.evidence(
            CLAIM, "accuracy_high_minus_low", high_ok - low_ok,
            question="Is the model more accurate on the high-frequency phrasing of checkable "
            "questions?",
            sign="positive = the common wording is answered correctly more often (greedy output "
            "contains the answer)",
            unit="share of families", role="secondary", subject=info(spec).model_id,
            models=[info(spec).model_id],
            plot={
                "mcnemar": mcnemar_exact(low_ok.astype(bool), high_ok.astype(bool)),
                "accuracy_low": float(low_ok.mean()),
                "accuracy_high": float(high_ok.mean()),
            },
        )  # fmt: skip


def frequency_law_rows(
    ctx: ExperimentContext, plan: Plan, families: dict[str, list[Prompt]], outputs: Outputs
) -> Iterator[Evidence]:
    """The NLL rows on the plan's pairs and the accuracy rows on this run's checkable
    families (when there are at least two)."""
    pairs, source = text_pairs(plan)
    yield from nll_rows(ctx, pairs, {**source, "pairs": len(pairs)})
    found = [frequency_pair(g) for g in families.values() if g[0].meta["kind"] == "checkable"]
    checkable = [p for p in found if p is not None]
    if len(checkable) >= 2:
        yield from accuracy_rows(ctx, checkable, outputs)
