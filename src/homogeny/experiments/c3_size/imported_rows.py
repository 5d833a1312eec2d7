"""C3's rows on imported ladders: distinct samples per draw against size with homogeny's own
equivalence and with NoveltyBench's released partitions, side by side, pooled over every
imported ladder step and per ladder (the ladder step is the unit, prompts nested within it).
Humans are a reference bar in the plots, never a ladder rung."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from homogeny.experiments.base import Evidence, ExperimentContext, not_testable
from homogeny.experiments.c3_size.artifacts import CLAIM
from homogeny.experiments.c3_size.imported import ImportedSet, Step, per_draw_table, step_values

NB_METRIC = "noveltybench_distinct_per_draw_vs_size"
LADDER_METRIC = "ladder_distinct_per_draw_vs_size"
LADDER_NB_METRIC = "ladder_noveltybench_distinct_per_draw_vs_size"
UNIT = "distinct@K/K per decade of parameters"
NB_QUESTION = (
    "Seed reading, on NoveltyBench's own equivalence: does a bigger model of the same family "
    "give fewer distinct samples per draw?"
)
LADDER_QUESTION = (
    "Within this family's size ladder: does a bigger model give fewer distinct samples per draw?"
)
HOMOGENY_SIGN = (
    "change of distinct@K / K (MiniLM classes at cosine 0.85) per decade of parameters, per "
    "ladder step of imported texts; negative = the bigger gives fewer"
)
NB_SIGN = (
    "change of NoveltyBench classes / K (its released partitions) per decade of parameters, "
    "per ladder step of imported texts; negative = the bigger gives fewer"
)


def imported_rows(ctx: ExperimentContext, imp: ImportedSet) -> list[Evidence]:
    """The pooled NoveltyBench-partition trend, then per ladder both measures side by side."""
    ours, theirs = per_draw_table(imp), imp.partitions
    rows = [_trend(ctx, imp, imp.steps, theirs, NB_METRIC, NB_QUESTION, NB_SIGN, "all")]
    for family, runs in imp.ladders.items():
        steps = list(zip(runs, runs[1:]))
        for metric, values, sign in ((LADDER_METRIC, ours, HOMOGENY_SIGN),
                                     (LADDER_NB_METRIC, theirs, NB_SIGN)):  # fmt: skip
            rows.append(_trend(ctx, imp, steps, values, metric, LADDER_QUESTION, sign, family))
    return rows


def _trend(
    ctx: ExperimentContext,
    imp: ImportedSet,
    steps: Sequence[Step],
    values: dict[str, dict[str, float]],
    metric: str,
    question: str,
    sign: str,
    family: str,
) -> Evidence:
    models = sorted({r.label for s in steps for r in s})
    groups = [step_values(values, s, imp.ids(s)) for s in steps]
    plot = per_model_bars(imp, [r for r in imp.runs if r.label in models], values)
    if not groups or any(g.size == 0 for g in groups):
        reason = "no imported draw carries a NoveltyBench partition for every ladder model"
        return not_testable(CLAIM, question, metric, reason, role="secondary", unit=UNIT,
                            predicted="below", threshold=0.0, plot=plot, models=tuple(models),
                            quick=ctx.quick)  # fmt: skip
    subject = ", ".join(f"{a.label} -> {b.label}" for a, b in steps)
    return ctx.evidence(
        CLAIM, metric, groups, question=question, sign=sign, predicted="below", threshold=0.0,
        unit=UNIT, role="secondary", subject=subject if family == "all" else f"{family}: {subject}",
        models=models, plot=plot, nested=True, min_n=2,
    )  # fmt: skip


def per_model_bars(
    imp: ImportedSet, runs: Sequence[object], values: dict[str, dict[str, float]]
) -> dict[str, object]:
    """Mean per-draw value of each model (smallest first), with humans as a reference bar."""
    labels = [r.label for r in runs]  # type: ignore[attr-defined]
    means = [float(np.mean(list(values[m].values()))) if values.get(m) else 0.0 for m in labels]
    if imp.human and values is imp.partitions:
        labels.append("human (reference, NoveltyBench partitions)")
        means.append(float(np.mean(list(imp.human.values()))))
    return {"labels": labels, "values": means}


def imported_artifact(imp: ImportedSet) -> dict[str, object]:
    """Per imported ladder model: params and mean distinct per draw both ways; humans too."""
    ours = per_draw_table(imp)
    return {
        "ladders": {f: [r.label for r in rs] for f, rs in imp.ladders.items()},
        "models": [
            {
                "model": r.label,
                "family": r.family,
                "params": r.params,
                "distinct_per_draw": float(np.mean(list(ours[r.label].values()))),
                "noveltybench_distinct_per_draw": float(
                    np.mean(list(imp.partitions[r.label].values()))
                )
                if imp.partitions.get(r.label)
                else None,
            }
            for r in imp.runs
        ],  # fmt: skip
        "human_noveltybench_distinct_per_draw": (
            float(np.mean(list(imp.human.values()))) if imp.human else None
        ),
    }
