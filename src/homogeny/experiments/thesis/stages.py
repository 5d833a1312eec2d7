"""Stage decomposition (claim T): how much of the measured convergence comes from each stage.

Convergence C(toggles) is a measured similarity (mean cosine similarity of MiniLM embeddings
between outputs that should differ: different users asking the same request) as a function
of binary toggles, one per stage, each switching that stage's pressure on or off under
control. The change from all-off to all-on is attributed to the stages with exact Shapley
values over the 2^m toggle configurations (Shapley 1953; m <= 4, so <= 16 configurations,
each measured from generated samples). Confidence intervals come from a bootstrap over
prompts that recomputes every configuration's value, and the Shapley values, per resample.

Every player is an intervention on the same weights (`games`): input (users' own phrasings or
their frequency-flattened rewrites), format (chat template or the raw prompt), sampling
(temperature 1 or greedy); post-training weights only from a declared same-checkpoint pair.
Pretraining cannot be switched off in a released model, so it is reported as the level the
base model starts from against the random different-prompt floor, not as a toggle. That is
where Chen, Fortier & West 2026 ("Is Convergence Inevitable?", arXiv 2608.11426) locate
convergence. On the toy models trained here (`toy`), pretraining (against a shuffled-corpus
pretraining) and RL are real toggles.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Hashable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

# ---- Shapley values --------------------------------------------------------------------


def coalition_masks(m: int) -> list[int]:
    """All 2^m coalitions of m players as bit masks (bit i set = player i's toggle on)."""
    return list(range(1 << m))


def shapley_matrix(m: int) -> np.ndarray:
    """The (m, 2^m) matrix W with phi = W @ v for a game given as values v[mask].

    phi_i = sum over coalitions S without i of |S|! (m-|S|-1)! / m! * (v(S+i) - v(S)).
    Written here because no maintained library computes exact Shapley values of a small
    explicit game (shap and friends approximate model attributions)."""
    w = np.zeros((m, 1 << m))
    for i in range(m):
        bit = 1 << i
        for mask in range(1 << m):
            if mask & bit:
                continue
            size = mask.bit_count()
            weight = math.factorial(size) * math.factorial(m - size - 1) / math.factorial(m)
            w[i, mask | bit] += weight
            w[i, mask] -= weight
    return w


def shapley_values(
    players: Sequence[str],
    value: Mapping[frozenset[str], float] | Callable[[frozenset[str]], float],
) -> dict[str, float]:
    """Exact Shapley values (Shapley 1953) of a cooperative game: each player's average
    marginal contribution over all orders in which players join. `value` maps a coalition
    (frozenset of player names, the toggles that are on) to its measured value; the values
    sum to v(all) - v(none) (efficiency)."""
    players = list(players)
    if len(set(players)) != len(players):
        raise ValueError(f"player names must be distinct: {players}")
    get = value if callable(value) else value.__getitem__
    v = np.array(
        [get(mask_coalition(players, mask)) for mask in coalition_masks(len(players))], dtype=float
    )
    phi = shapley_matrix(len(players)) @ v
    return {p: float(x) for p, x in zip(players, phi)}


def mask_coalition(players: Sequence[str], mask: int) -> frozenset[str]:
    """The coalition (players whose toggle is on) of a bit mask."""
    return frozenset(p for i, p in enumerate(players) if mask >> i & 1)


# ---- decomposition with bootstrap intervals ---------------------------------------------


@dataclass
class Decomposition:
    """Stage shares of the convergence above the random-pair baseline, with 95% intervals.

    `stages[0]` is the level already present with every toggle off (above `baseline`), the
    others are Shapley values of the toggled stages; they sum to `total` = C(all on) -
    baseline. `configs` holds every configuration's measured C with its interval."""

    stages: list[str]
    shapley: list[float]
    low: list[float]
    high: list[float]
    total: float
    total_low: float
    total_high: float
    baseline: float
    configs: list[dict[str, Any]]
    n_units: int

    def artifact(self) -> dict[str, Any]:
        """The ("T", "stage_decomposition") artifact shape the report draws as a waterfall."""
        return {
            "stages": self.stages,
            "shapley": self.shapley,
            "low": self.low,
            "high": self.high,
            "total": self.total,
            "total_low": self.total_low,
            "total_high": self.total_high,
            "baseline": self.baseline,
            "configs": self.configs,
            "n": self.n_units,
        }


def decompose(
    players: Sequence[str],
    unit_values: np.ndarray,
    unit_baseline: np.ndarray,
    base_label: str = "pretraining (base level)",
    n_boot: int = 2000,
    seed: int = 0,
) -> Decomposition:
    """Attribute convergence to stages. `unit_values[u, mask]` is the convergence measured on
    unit u (a prompt) in configuration `mask`; `unit_baseline[u]` its random-pair baseline.
    Percentile bootstrap over units (resampled with replacement, every configuration and the
    Shapley values recomputed per resample)."""
    players = list(players)
    values = np.asarray(unit_values, dtype=float)
    base = np.asarray(unit_baseline, dtype=float)
    n, k = values.shape
    if k != 1 << len(players) or base.shape != (n,):
        raise ValueError(
            f"need unit_values of shape (n, {1 << len(players)}) and unit_baseline (n,)"
        )
    if n == 0 or not np.isfinite(values).all() or not np.isfinite(base).all():
        raise ValueError("every unit needs a finite value in every configuration")
    w = shapley_matrix(len(players))

    def shares(v: np.ndarray, b: np.ndarray) -> np.ndarray:
        # columns: base level, each player's Shapley value, total, then every configuration
        return np.concatenate(
            [(v[..., :1] - b[..., None]), v @ w.T, v[..., -1:] - b[..., None], v], axis=-1
        )

    point = shares(values.mean(0), np.asarray(base.mean()))
    rng = np.random.default_rng(seed)
    idx = rng.integers(0, n, size=(n_boot, n))
    boot = shares(values[idx].mean(1), base[idx].mean(1))
    lo, hi = np.percentile(boot, [2.5, 97.5], axis=0)
    m = len(players)
    lo, hi = np.minimum(lo, point), np.maximum(hi, point)
    configs = [
        {
            "toggles": {p: bool(mask >> i & 1) for i, p in enumerate(players)},
            "value": float(point[m + 2 + mask]),
            "low": float(lo[m + 2 + mask]),
            "high": float(hi[m + 2 + mask]),
        }
        for mask in range(1 << m)
    ]
    return Decomposition(
        stages=[base_label, *players],
        shapley=[float(x) for x in point[: m + 1]],
        low=[float(x) for x in lo[: m + 1]],
        high=[float(x) for x in hi[: m + 1]],
        total=float(point[m + 1]),
        total_low=float(lo[m + 1]),
        total_high=float(hi[m + 1]),
        baseline=float(base.mean()),
        configs=configs,
        n_units=n,
    )


def unit_shapley(players: Sequence[str], unit_values: np.ndarray) -> np.ndarray:
    """Per-unit Shapley values, shape (n, m): Shapley values are linear in the game's values,
    so a stage's Shapley value on the mean game is the mean of these over units, and any
    difference of two stages is a mean of per-unit differences (an ordinary one-sample test)."""
    values = np.asarray(unit_values, dtype=float)
    return values @ shapley_matrix(len(list(players))).T


def leading_gap(players: Sequence[str], unit_values: np.ndarray) -> tuple[str, str, np.ndarray]:
    """(largest stage, runner-up, per-unit Shapley value of the largest minus the runner-up),
    the two ranked by their mean Shapley values; needs at least two players."""
    players = list(players)
    if len(players) < 2:
        raise ValueError("a gap needs at least two stages")
    per_unit = unit_shapley(players, unit_values)
    order = np.argsort(-per_unit.mean(axis=0), kind="stable")
    top, second = int(order[0]), int(order[1])
    return players[top], players[second], per_unit[:, top] - per_unit[:, second]


# ---- convergence measurements on embeddings ----------------------------------------------


def cross_source_similarity(
    embeddings: np.ndarray, requests: Sequence[Hashable], sources: Sequence[Hashable]
) -> dict[Hashable, float]:
    """Per request, the mean cosine similarity between outputs to that request from different
    sources (users, models): the Artificial-Hivemind convergence (Jiang et al. 2025). A request
    with no pair of different sources is left out."""
    x = _unit_rows(embeddings)
    req, src = np.asarray(requests, dtype=object), np.asarray(sources, dtype=object)
    out: dict[Hashable, float] = {}
    for r in dict.fromkeys(requests):
        rows = np.flatnonzero(req == r)
        sim = x[rows] @ x[rows].T
        differ = src[rows][:, None] != src[rows][None, :]
        if differ.any():
            out[r] = float(sim[differ].mean())
    return out


def random_pair_similarity(
    embeddings: np.ndarray, requests: Sequence[Hashable], sources: Sequence[Hashable]
) -> dict[Hashable, float]:
    """Per request, the mean cosine similarity between its outputs and outputs to *other*
    requests from different sources: the level two unrelated answers reach by chance."""
    x = _unit_rows(embeddings)
    req, src = np.asarray(requests, dtype=object), np.asarray(sources, dtype=object)
    out: dict[Hashable, float] = {}
    for r in dict.fromkeys(requests):
        mine, other = np.flatnonzero(req == r), np.flatnonzero(req != r)
        if not len(other):
            continue
        sim = x[mine] @ x[other].T
        differ = src[mine][:, None] != src[other][None, :]
        if differ.any():
            out[r] = float(sim[differ].mean())
    return out


def _unit_rows(embeddings: np.ndarray) -> np.ndarray:
    x = np.asarray(embeddings, dtype=np.float64)
    norms = np.linalg.norm(x, axis=1, keepdims=True)
    return x / np.where(norms == 0, 1.0, norms)


def text_similarity(a: Sequence[str], b: Sequence[str]) -> np.ndarray:
    """Normalised Indel similarity (rapidfuzz ratio / 100) of every pair (a_i, b_j): the toy
    outputs are short character strings, for which a sentence embedding is not meaningful."""
    from rapidfuzz import fuzz, process

    return process.cdist(list(a), list(b), scorer=fuzz.ratio, dtype=np.float32, workers=1) / 100.0
