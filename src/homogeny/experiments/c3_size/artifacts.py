"""C3's figures and tables: per-model bars, distinct@k and Vendi curves, examples."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

from homogeny.experiments.base import ExperimentContext
from homogeny.experiments.c3_size.measures import TOKEN_BUDGETS, ModelRun, PromptMeasures
from homogeny.metrics import bootstrap_ci
from homogeny.suites.prompt import Prompt

CLAIM = "c3"
PER_PARAMS = 1e8  # "per parameter" is reported per 100M parameters
N_RESAMPLES = 1000
Measures = dict[str, dict[str, PromptMeasures]]  # model label -> prompt id -> measures


def prompt_matrix(
    measures: Measures,
    labels: Sequence[str],
    prompt_ids: Sequence[str],
    value: Callable[[PromptMeasures], float],
) -> np.ndarray:
    """A prompts x models matrix of value(PromptMeasures)."""
    return np.array([[float(value(measures[m][p])) for m in labels] for p in prompt_ids])


def per_draw(m: PromptMeasures) -> float:
    """distinct@K / K over all outputs."""
    return float(m.distinct_curve[-1] / m.n_samples)


def effective_per_draw(m: PromptMeasures) -> float:
    """Distinct valid outputs / K."""
    return m.effective_unique / m.n_samples


def per_100m_params(matrix: np.ndarray, runs: Sequence[ModelRun]) -> np.ndarray:
    """A prompts x models matrix divided by each model's parameters in units of 100M."""
    return matrix / (np.array([r.params for r in runs], dtype=float) / PER_PARAMS)


def model_label(run: ModelRun) -> str:
    """The model's label, marked when it is a base model (raw completion, not an answer)."""
    return f"{run.label} (base, raw completion)" if run.kind == "base" else run.label


def model_bars(matrix: np.ndarray, runs: Sequence[ModelRun], seed: int) -> dict[str, Any]:
    """Per-model means with bootstrap CIs over prompts, as a bars plot (base models marked).
    Descriptive only: the verdicts come from the evidence rows."""
    values, low, high = [], [], []
    for j in range(matrix.shape[1]):
        col = matrix[:, j][np.isfinite(matrix[:, j])]
        if col.size >= 2:
            res = bootstrap_ci(np.mean, col, n_resamples=N_RESAMPLES, seed=seed)
            point, lo, hi = res.point, res.low, res.high
        else:
            point = lo = hi = float(col.mean()) if col.size else 0.0
        values.append(point)
        low.append(lo)
        high.append(hi)
    return {"labels": [model_label(r) for r in runs], "values": values, "low": low, "high": high}


def write_artifacts(
    ctx: ExperimentContext,
    runs: Sequence[ModelRun],
    prompts: Sequence[Prompt],
    measures: Measures,
) -> None:
    """Curves, efficiency bars, model notes and side-by-side examples for the report."""
    ids = [p.id for p in prompts]
    labels = [r.label for r in runs]
    ctx.artifact(CLAIM, "distinct_at_k", _mean_curves(runs, ids, measures, "distinct"))
    ctx.artifact(CLAIM, "vendi_by_token_budget", _mean_curves(runs, ids, measures, "vendi"))
    eff = prompt_matrix(measures, labels, ids, effective_per_draw)
    ctx.artifact(CLAIM, "effective_per_sample", model_bars(eff, runs, ctx.seed))
    per_param = model_bars(per_100m_params(eff, runs), runs, ctx.seed)
    ctx.artifact(CLAIM, "effective_per_100m_params", per_param)
    seconds = prompt_matrix(measures, labels, ids, lambda m: m.seconds)
    unique = prompt_matrix(measures, labels, ids, lambda m: m.effective_unique)
    ctx.artifact(
        CLAIM,
        "effective_per_cpu_second",
        {
            "labels": [model_label(r) for r in runs],
            "values": [
                float(unique[:, j].sum() / max(seconds[:, j].sum(), 1e-9)) for j in range(len(runs))
            ],
        },
    )
    for kind in ("function", "text"):
        kind_ids = [
            p.id for p in prompts if (p.meta.get("kind") == "function") == (kind == "function")
        ]
        if kind_ids:
            shares = prompt_matrix(measures, labels, kind_ids, lambda m: m.valid_share)
            ctx.artifact(CLAIM, f"valid_share_{kind}", model_bars(shares, runs, ctx.seed))
    ctx.artifact(CLAIM, "models", [_model_note(r) for r in runs])
    ctx.artifact(CLAIM, "examples", example_outputs(runs, prompts))


def _mean_curves(
    runs: Sequence[ModelRun], ids: Sequence[str], measures: Measures, which: str
) -> dict[str, Any]:
    if which == "vendi":
        x = list(TOKEN_BUDGETS)
        curve: Callable[[PromptMeasures], np.ndarray] = lambda m: m.vendi_by_budget  # noqa: E731
    else:
        k = min(len(m.distinct_curve) for ms in measures.values() for m in ms.values())
        x = list(range(1, k + 1))
        curve = lambda m: m.distinct_curve[:k]  # noqa: E731
    series = {
        model_label(r): np.mean([curve(measures[r.label][p]) for p in ids], axis=0).tolist()
        for r in runs
    }
    return {"x": x, "series": series}


def _model_note(run: ModelRun) -> dict[str, Any]:
    note = "base model: raw completion of the prompt, kept out of size trends"
    return {
        "model": run.label,
        "params": run.params,
        "kind": run.kind,
        "family": run.family,
        "note": note if run.kind == "base" else "",
    }


def example_outputs(
    runs: Sequence[ModelRun], prompts: Sequence[Prompt], per_kind: int = 1, shown: int = 3
) -> list[dict[str, Any]]:
    """The first outputs of each model on one prompt of each task kind, side by side."""
    picked: dict[str, list[Prompt]] = {}
    for p in prompts:
        picked.setdefault(str(p.meta.get("kind")), []).append(p)
    return [
        {
            "prompt": p.display,
            "outputs": {
                model_label(r): [row["text"] for row in r.rows[p.id][:shown]] for r in runs
            },
        }
        for group in picked.values()
        for p in group[:per_kind]
    ]
