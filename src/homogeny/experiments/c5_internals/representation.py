"""The output-identical comparison of C5's language-model levels: are two independently trained
models' insides further apart, on prompts where they answer alike, than a weight-noised copy's
whose answers agree as often?"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from homogeny.experiments.base import Evidence, ExperimentContext, make_evidence

CLAIM = "c5"
MIN_IDENTICAL = 10  # output-identical prompts needed for a representation row
Ladder = list[tuple[float, list[str], list[np.ndarray]]]


def matched_agreement_comparison(
    out_a: list[str],
    st_a: list[np.ndarray],
    out_b: list[str],
    st_b: list[np.ndarray],
    ladder: Ladder,
    seed: int = 0,
) -> dict[str, Any]:
    """Compare model B with a noised copy C of model A whose greedy outputs agree with A's at
    most as often as B's do (the smallest noise that gets there; conservative, since more
    noise moves C's internals further). On prompts where A, B and C all give A's output,
    returns the mean over layers of debiased linear CKA and mutual k-NN (Huh et al. 2024) of
    C to A and of B to A, their differences with prompt-jackknife CIs, and the ladder."""
    from homogeny.metrics.representational import linear_cka, mutual_knn_alignment

    agree_ab = float(np.mean([a == b for a, b in zip(out_a, out_b)]))
    agreements = [float(np.mean([a == c for a, c in zip(out_a, o)])) for _, o, _ in ladder]
    pick = next((i for i, g in enumerate(agreements) if g <= agree_ab), len(ladder) - 1)
    scale, out_c, st_c = ladder[pick]
    same = np.array([i for i, (a, b, c) in enumerate(zip(out_a, out_b, out_c)) if a == b == c])
    pairs, own = _layer_pairs(len(st_a), len(st_b)), [(i, i) for i in range(len(st_a))]
    k = int(min(10, max(1, same.size // 4)))

    def similarity(idx: np.ndarray, other: list[np.ndarray], layers: list, knn: bool) -> float:
        return float(
            np.mean(
                [
                    mutual_knn_alignment(st_a[i][idx], other[j][idx], k)
                    if knn
                    else linear_cka(st_a[i][idx], other[j][idx])
                    for i, j in layers
                ]
            )
        )

    out: dict[str, Any] = {
        "agreement_ab": agree_ab,
        "noise_scales": [sc for sc, _, _ in ladder],
        "noise_agreement": agreements,
        "matched_scale": scale,
        "matched_agreement": agreements[pick],
        "n_identical": int(same.size),
        "noise_cka": [_safe(_mean_cka, st_a, l_st, out_a, l_out) for _, l_out, l_st in ladder],
    }
    if same.size < MIN_IDENTICAL:
        return out
    for name, knn in (("cka", False), ("knn", True)):
        out[f"{name}_ab"] = similarity(same, st_b, pairs, knn)
        out[f"{name}_copy"] = similarity(same, st_c, own, knn)

        def diff(idx: np.ndarray, knn: bool = knn) -> float:
            return similarity(idx, st_c, own, knn) - similarity(idx, st_b, pairs, knn)

        out[f"{name}_diff"] = grouped_jackknife_ci(diff, same, seed=seed)
    return out


def grouped_jackknife_ci(
    statistic: Callable[[np.ndarray], float], items: np.ndarray, groups: int = 20, seed: int = 0
) -> tuple[float, float, float]:
    """Normal 95% interval from a delete-a-group jackknife (Efron & Tibshirani 1993, ch. 11)
    of statistic(items). Used for similarities over prompts instead of the bootstrap, whose
    duplicated prompts are each other's nearest neighbours and inflate CKA and k-NN alike.
    Returns (point, low, high)."""
    point = float(statistic(items))
    order = np.random.default_rng(seed).permutation(items.size)
    folds = np.array_split(order, min(groups, items.size))
    values = np.array([statistic(np.delete(items, fold)) for fold in folds])
    g = len(folds)
    se = float(np.sqrt((g - 1) / g * np.sum((values - values.mean()) ** 2)))
    return point, point - 1.96 * se, point + 1.96 * se


def _mean_cka(
    st_a: list[np.ndarray], st_c: list[np.ndarray], out_a: list[str], out_c: list[str]
) -> float:
    from homogeny.metrics.representational import linear_cka

    idx = np.array([i for i, (a, c) in enumerate(zip(out_a, out_c)) if a == c])
    if idx.size < MIN_IDENTICAL:
        return float("nan")
    return float(np.mean([linear_cka(x[idx], y[idx]) for x, y in zip(st_a, st_c)]))


def _safe(fn: Any, *args: Any) -> float | None:
    try:
        value = fn(*args)
    except Exception:  # noqa: BLE001 - a degenerate layer (constant states) leaves a gap
        return None
    return value if np.isfinite(value) else None


def _layer_pairs(n_a: int, n_b: int) -> list[tuple[int, int]]:
    """Layers of A paired with the layer of B at the same relative depth."""
    return [(i, min(n_b - 1, round((i + 1) * n_b / n_a) - 1)) for i in range(n_a)]


def comparison_rows(
    ctx: ExperimentContext,
    r: dict[str, Any],
    level: str,
    subject: str,
    models: tuple[str, ...] = (),
) -> list[Evidence]:
    """Secondary rows (CKA, k-NN) of one model pair: prompts are resampled, so n counts the
    output-identical prompts of this one pair, not independent training runs."""
    if "cka_diff" not in r:
        ctx.log(
            f"c5: {level}: only {r['n_identical']} output-identical prompts "
            f"(< {MIN_IDENTICAL}); no representation rows"
        )
        return []
    rows = []
    for name, label in (("cka", "debiased linear CKA"), ("knn", "mutual k-NN alignment")):
        point, lo, hi = r[f"{name}_diff"]
        rows.append(
            make_evidence(
                CLAIM,
                "At equal output agreement, are independently trained models' internals "
                "further apart than a noised copy's?",
                f"{level}_{name}_copy_minus_pair",
                f"{label} to model A on output-identical prompts: noised copy of A (outputs agree "
                "as often as model B's or less) minus independently trained model B; > 0 = same "
                "outputs hide different insides (one model pair; prompts resampled)",
                point,
                (lo, hi),
                n=r["n_identical"],
                threshold=0.0,
                predicted="above",
                models=models,
                quick=ctx.quick,
                role="secondary",
                unit=label,
                subject=subject,
                n_units=r["n_identical"],
                method="grouped jackknife over prompts",
                source=f"{__name__}:comparison_rows",
                plot={
                    "labels": ["noised copy", "other model"],
                    "values": [r[f"{name}_copy"], r[f"{name}_ab"]],
                },
            )
        )
    return rows


def ladder_plot(r: dict[str, Any], label: str) -> dict[str, Any]:
    """Figure data: output agreement and CKA to the clean model against weight noise."""
    keys = (
        "agreement_ab",
        "cka_ab",
        "knn_ab",
        "cka_copy",
        "knn_copy",
        "matched_scale",
        "n_identical",
        "accuracy",
    )
    return {
        "x": r["noise_scales"],
        "xlabel": "weight noise (x each tensor's std)",
        "series": {
            "output agreement with clean": r["noise_agreement"],
            "CKA to clean (same outputs)": r["noise_cka"],
        },
        "title": f"{label}: outputs and internals under weight noise",
        "pair": {k: r.get(k) for k in keys},
    }
