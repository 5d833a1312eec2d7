"""C3's evidence: size trends within same-family ladders, with the model as the unit.

A ladder is the instruct models of one family at two or more sizes (Qwen2.5-Coder 0.5B and
1.5B). Each ladder step (two consecutive sizes) gives, per prompt, the change of a measure per
decade of parameters; the trend row tests the mean over steps, with prompts nested within
steps (n = steps), so the interval carries model-to-model variance. Models of different
families are drawn in the plots but never make a trend.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, Literal

import numpy as np

from homogeny.experiments.base import Evidence, ExperimentContext, not_testable
from homogeny.experiments.c3_size.artifacts import (
    CLAIM,
    Measures,
    effective_per_draw,
    model_bars,
    per_100m_params,
    per_draw,
    prompt_matrix,
)
from homogeny.experiments.c3_size.imported import ImportedSet
from homogeny.experiments.c3_size.measures import ModelRun, PromptMeasures
from homogeny.importing.capabilities import why_not
from homogeny.suites.prompt import Prompt

PRIMARY_METRIC = "distinct_per_draw_vs_size"
Step = tuple[ModelRun, ModelRun]  # (smaller, larger) of one family


@dataclass(frozen=True)
class TrendRow:
    """One ladder-trend row: its role, the reading it tests, question, sign and prediction."""

    metric: str
    role: str
    reading: str  # strong (seed) | weak (paper) | concentration
    question: str
    sign: str
    unit: str
    predicted: Literal["above", "below"]
    value: Callable[[PromptMeasures], float]
    need: str = "texts"  # what the measure needs of a model (importing.capabilities.NEEDS)


TREND_ROWS = (
    TrendRow(
        PRIMARY_METRIC,
        "primary",
        "strong",
        "Seed reading: does a bigger model of the same family give fewer distinct samples per "
        "draw?",
        "change of distinct@K / K (all outputs, MiniLM classes at cosine 0.85) per decade of "
        "parameters between sizes of one family; negative = the bigger gives fewer",
        "distinct@K/K per decade of parameters",
        "below",
        per_draw,
    ),
    TrendRow(
        "effective_per_draw_vs_size",
        "secondary",
        "strong",
        "Seed reading on valid outputs: does a bigger model of the same family give fewer "
        "distinct valid samples per draw? (the paper expected more effective diversity)",
        "change of distinct valid outputs / K per decade of parameters within one family; "
        "negative = the bigger gives fewer",
        "distinct valid outputs/K per decade of parameters",
        "below",
        effective_per_draw,
    ),
    TrendRow(
        "top1_mass_vs_size",
        "secondary",
        "concentration",
        "Does a bigger model of the same family concentrate probability mass (higher top-1 "
        "probability per token)?",
        "change of mean per-token top-1 probability per decade of parameters within one "
        "family; positive = the bigger is more concentrated",
        "probability per decade of parameters",
        "above",
        lambda m: m.top1,
        "logprobs",
    ),
    TrendRow(
        "entropy_vs_size",
        "secondary",
        "concentration",
        "Does a bigger model of the same family concentrate probability mass (lower per-token "
        "entropy)?",
        "change of mean per-token entropy (full distribution) per decade of parameters within "
        "one family; negative = the bigger is more concentrated",
        "nats per decade of parameters",
        "below",
        lambda m: m.entropy,
        "logprobs",
    ),
    TrendRow(
        "unique_per_100m_params_vs_size",
        "sanity",
        "weak",
        "Paper reading: are smaller models more parameter-efficient at unique content? "
        "(falls with size by construction unless diversity grows in proportion to size)",
        "change of distinct valid outputs / K per 100M parameters per decade of parameters "
        "within one family; negative = smaller models more efficient",
        "distinct valid outputs/K per 100M parameters per decade",
        "below",
        effective_per_draw,
    ),
)

# Per ladder step, the two models compared prompt by prompt (prompts are the unit: what these
# two checkpoints do, not what size does in general).
STEP_ROWS: tuple[tuple[str, TrendRow, str, str], ...] = (
    (
        "same_family_distinct_per_draw",
        TREND_ROWS[0],
        "Do these two sizes of one family differ in distinct samples per draw (fewer in the "
        "larger)?",
        "larger minus smaller model of one family, distinct@K / K; negative = the larger gives "
        "fewer distinct samples per draw",
    ),
    (
        "same_family_top1_mass",
        TREND_ROWS[2],
        "Do these two sizes of one family differ in top-1 probability per token (higher in the "
        "larger)?",
        "larger minus smaller model of one family, mean top-1 probability; positive = the larger "
        "is more concentrated",
    ),
)


def ladders(runs: Sequence[ModelRun]) -> dict[str, list[ModelRun]]:
    """family -> its instruct models of known size, smallest first, one per size; only
    families with at least two sizes."""
    by_family: dict[str, dict[int, ModelRun]] = {}
    for r in runs:
        if r.kind != "base" and r.params > 0 and r.family:
            by_family.setdefault(r.family, {}).setdefault(r.params, r)
    return {
        fam: [sizes[p] for p in sorted(sizes)] for fam, sizes in by_family.items() if len(sizes) > 1
    }


def ladder_steps(runs: Sequence[ModelRun]) -> list[Step]:
    """Consecutive (smaller, larger) pairs of every ladder."""
    return [pair for rs in ladders(runs).values() for pair in zip(rs, rs[1:])]


def step_slopes(
    row: TrendRow, step: Step, measures: Measures, prompt_ids: Sequence[str]
) -> np.ndarray:
    """Per prompt, the change of the row's measure per decade of parameters across one step
    (prompts where either model has no value are dropped)."""
    m = prompt_matrix(measures, [step[0].label, step[1].label], prompt_ids, row.value)
    if row.metric.startswith("unique_per_100m"):
        m = per_100m_params(m, step)
    decades = np.log10(step[1].params) - np.log10(step[0].params)
    diff = (m[:, 1] - m[:, 0]) / decades
    return diff[np.isfinite(diff)]


NO_VALUES = "a ladder model gave no value of this measure (e.g. a backend without logprobs)"


def no_ladder_reason(runs: Sequence[ModelRun]) -> str:
    """Why no size trend can be tested here, naming the families and a way to complete one."""
    fams = {r.family or "unknown family": r.label for r in runs if r.kind != "base"}
    named = "; ".join(f"{fam}: {label}" for fam, label in fams.items()) or "no instruct model"
    return (
        f"needs two sizes of one model family among the instruct models (a size ladder); here "
        f"one size each ({named}); add a second size, e.g. --models with both "
        f"zoo:qwen2.5-coder-0.5b and zoo:qwen2.5-coder-1.5b"
    )


def build_evidence(
    ctx: ExperimentContext,
    runs: Sequence[ModelRun],
    prompts: Sequence[Prompt],
    measures: Measures,
    imported: ImportedSet | None = None,
    named: Sequence[ModelRun] = (),
) -> list[Evidence]:
    """The ladder trend rows (the primary first), then each step's prompt-level comparison.
    Steps of imported ladders (texts only) join the trends whose measure needs only texts.
    `named`: every local model of the run, sampled or not (for the not-testable reason)."""
    ids = [p.id for p in prompts]
    steps = ladder_steps(runs)
    imp_steps = imported.steps if imported else []
    subject = ", ".join(f"{small.label} -> {big.label}" for small, big in [*steps, *imp_steps])
    members = sorted({r.label for step in [*steps, *imp_steps] for r in step})
    rows = []
    for row in TREND_ROWS:
        if runs:
            bars = model_bars(_all_models(row, runs, measures, ids), runs, ctx.seed)
        elif imported is not None:
            bars = _imported_bars(row, imported, ctx.seed)
        else:
            bars = {}
        bars["reading"] = row.reading
        groups = [step_slopes(row, s, measures, ids) for s in steps]
        needs_more = imported is not None and row.need != "texts"
        if imported is not None and not needs_more:
            groups += [step_slopes(row, s, imported.measures, imported.ids(s)) for s in imp_steps]
        if not groups or any(g.size == 0 for g in groups):
            reason = no_ladder_reason(runs or named) if not groups else NO_VALUES
            if needs_more and not groups:
                reason = why_not(imp_steps[0][0].label, row.need)
            rows.append(
                not_testable(
                    CLAIM,
                    row.question,
                    row.metric,
                    reason,
                    role=row.role,
                    unit=row.unit,
                    predicted=row.predicted,
                    threshold=0.0,
                    plot=bars,
                    models=tuple(r.label for r in runs or named),
                    quick=ctx.quick,
                )
            )
            continue
        rows.append(
            ctx.evidence(
                CLAIM,
                row.metric,
                groups,
                question=row.question,
                sign=row.sign,
                predicted=row.predicted,
                threshold=0.0,
                unit=row.unit,
                role=row.role,
                subject=subject,
                models=members,
                plot=bars,
                nested=True,
                min_n=2,
            )
        )
    rows.extend(_step_rows(ctx, steps, measures, ids))
    if imported is not None:
        for step in imp_steps:
            rows.extend(_step_rows(ctx, [step], imported.measures, imported.ids(step)))
    return rows


def _imported_bars(row: TrendRow, imported: ImportedSet | None, seed: int) -> dict[str, Any]:
    """Per-model bars of the imported ladder models (no local model ran)."""
    runs = imported.runs if imported is not None else []
    ids = imported.ids(runs) if imported is not None else []
    if not ids:
        return {"labels": [], "values": [], "low": [], "high": []}
    return model_bars(_all_models(row, runs, imported.measures, ids), runs, seed)


def _all_models(
    row: TrendRow, runs: Sequence[ModelRun], measures: Measures, ids: Sequence[str]
) -> np.ndarray:
    m = prompt_matrix(measures, [r.label for r in runs], ids, row.value)
    return per_100m_params(m, runs) if row.metric.startswith("unique_per_100m") else m


def _step_rows(
    ctx: ExperimentContext, steps: Sequence[Step], measures: Measures, ids: Sequence[str]
) -> list[Evidence]:
    """Larger minus smaller model of one ladder step, prompts as the unit (secondary)."""
    rows = []
    for small, big in steps:
        for metric, trend, question, sign in STEP_ROWS:
            m = prompt_matrix(measures, [small.label, big.label], ids, trend.value)
            if m.size == 0:
                continue
            diff = m[:, 1] - m[:, 0]
            diff = diff[np.isfinite(diff)]
            if diff.size < 2:
                continue
            rows.append(
                ctx.evidence(
                    CLAIM,
                    metric,
                    diff,
                    question=question,
                    sign=sign,
                    predicted=trend.predicted,
                    threshold=0.0,
                    unit=trend.unit.split(" per ")[0],
                    role="secondary",
                    subject=f"{big.label} vs {small.label}",
                    models=[small.label, big.label],
                    plot=model_bars(m, [small, big], ctx.seed),
                )
            )
    return rows
