"""Stage decomposition (claim T): how much of the measured convergence comes from each stage.

Convergence C(toggles) is a measured similarity (mean cosine similarity of MiniLM embeddings
between outputs that should differ: different users asking the same request) as a function
of binary toggles, one per stage, each switching that stage's pressure on or off under
control. The change from all-off to all-on is attributed to the stages with exact Shapley
values over the 2^m toggle configurations (Shapley 1953; m <= 4, so <= 16 configurations,
each measured from generated samples). Confidence intervals come from a bootstrap over
prompts that recomputes every configuration's value, and the Shapley values, per resample.

Pretraining cannot be switched off in a released model, so on real models it enters as the
level already present with every toggled pressure off (base model, users' own phrasings,
full-distribution sampling), measured against a random-pair baseline (outputs to different
requests). That is where Chen, Fortier & West 2026 ("Is Convergence Inevitable?", arXiv
2608.11426) locate convergence; the decomposition shows it rather than assuming the seed's
three engines. On the toy models trained here (`homogeny.toy`), pretraining is a real toggle
(an untrained model versus a pretrained one), next to RL post-training and temperature.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Hashable, Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np

if TYPE_CHECKING:
    from homogeny.experiments.stage_games import ModelGame

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
    players: Sequence[str], value: Mapping[frozenset[str], float] | Callable[[frozenset[str]], float]
) -> dict[str, float]:
    """Exact Shapley values (Shapley 1953) of a cooperative game: each player's average
    marginal contribution over all orders in which players join. `value` maps a coalition
    (frozenset of player names, the toggles that are on) to its measured value; the values
    sum to v(all) - v(none) (efficiency)."""
    players = list(players)
    if len(set(players)) != len(players):
        raise ValueError(f"player names must be distinct: {players}")
    get = value if callable(value) else value.__getitem__
    v = np.array([get(mask_coalition(players, mask)) for mask in coalition_masks(len(players))], dtype=float)
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
            "stages": self.stages, "shapley": self.shapley, "low": self.low, "high": self.high,
            "total": self.total, "total_low": self.total_low, "total_high": self.total_high,
            "baseline": self.baseline, "configs": self.configs, "n": self.n_units,
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
        raise ValueError(f"need unit_values of shape (n, {1 << len(players)}) and unit_baseline (n,)")
    if n == 0 or not np.isfinite(values).all() or not np.isfinite(base).all():
        raise ValueError("every unit needs a finite value in every configuration")
    w = shapley_matrix(len(players))

    def shares(v: np.ndarray, b: np.ndarray) -> np.ndarray:
        # columns: base level, each player's Shapley value, total, then every configuration
        return np.concatenate([(v[..., :1] - b[..., None]), v @ w.T, v[..., -1:] - b[..., None], v], axis=-1)

    point = shares(values.mean(0), np.asarray(base.mean()))
    rng = np.random.default_rng(seed)
    idx = rng.integers(0, n, size=(n_boot, n))
    boot = shares(values[idx].mean(1), base[idx].mean(1))
    lo, hi = np.percentile(boot, [2.5, 97.5], axis=0)
    m = len(players)
    lo, hi = np.minimum(lo, point), np.maximum(hi, point)
    configs = [
        {"toggles": {p: bool(mask >> i & 1) for i, p in enumerate(players)},
         "value": float(point[m + 2 + mask]), "low": float(lo[m + 2 + mask]), "high": float(hi[m + 2 + mask])}
        for mask in range(1 << m)
    ]
    return Decomposition(
        stages=[base_label, *players], shapley=[float(x) for x in point[: m + 1]],
        low=[float(x) for x in lo[: m + 1]], high=[float(x) for x in hi[: m + 1]],
        total=float(point[m + 1]), total_low=float(lo[m + 1]), total_high=float(hi[m + 1]),
        baseline=float(base.mean()), configs=configs, n_units=n,
    )


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


def model_game_evidence(ctx: Any, game: ModelGame) -> list[Any]:
    """Evidence rows for claim T from the model game: convergence by default (above the
    random-pair baseline), base-model convergence (Chen et al. 2026), each stage's share."""
    from homogeny.experiments.base import make_evidence
    from homogeny.models import model_info
    from homogeny.metrics import bootstrap_ci

    models = [model_info(s).model_id for s in ctx.models]
    d = game.decomposition
    rows = []
    common = [r for r in game.cross_model_same if r in game.cross_model_other]
    excess = np.array([game.cross_model_same[r] - game.cross_model_other[r] for r in common])
    if len(excess) >= 2:
        b = bootstrap_ci(np.mean, excess, seed=ctx.seed)
        who = "different models" if game.cross_by == "model" else "different users of one model"
        rows.append(make_evidence(
            "T", f"Does convergence appear by default: are answers to the same request from {who} more alike "
            "than answers to different requests (users' own phrasings, temperature 1)?",
            f"cross-{game.cross_by} convergence above random pairs",
            "positive = same-request answers are closer (MiniLM cosine) than the random-pair baseline",
            b.point, (b.low, b.high), len(excess), models=models, quick=ctx.quick,
            plot={"labels": ["same request", "random pairs"],
                  "values": [float(np.mean([game.cross_model_same[r] for r in common])),
                             float(np.mean([game.cross_model_other[r] for r in common]))]},
        ))
    for i, stage in enumerate(d.stages):
        if i == 0 and not game.base_models:
            continue  # without a base model the all-off level is not a pretraining measurement
        if i == 0:
            question = (f"Is convergence already present in the base model{'s' if len(game.base_models) > 1 else ''} "
                        f"({', '.join(game.base_models)}) before any post-training, with users' own phrasings and "
                        "full-distribution sampling (Chen, Fortier & West 2026)?")
            sign = "positive = base-model answers across users are closer than the random-pair baseline"
        else:
            question = f"How much convergence does the {stage} stage add (Shapley value over {len(d.stages) - 1} toggled stages)?"
            sign = f"positive = switching the {stage} pressure on raises cross-user similarity (MiniLM cosine)"
        rows.append(make_evidence(
            "T", question, f"stage share: {stage}", sign, d.shapley[i], (d.low[i], d.high[i]), d.n_units,
            models=models, quick=ctx.quick, plot=d.artifact() if i == 0 else None,
        ))
    return rows


def toy_evidence(ctx: Any, d: Decomposition) -> list[Any]:
    """Evidence rows from the toy game: the shares of pretraining and of RL post-training."""
    from homogeny.experiments.base import make_evidence

    rows = []
    for stage in ("pretraining", "post-training (RL)"):
        i = d.stages.index(stage)
        rows.append(make_evidence(
            "T", f"In toy models of different sizes trained here on one corpus (C2's), how much of their cross-model "
            f"convergence does {stage} account for (Shapley value over pretraining, RL and sampling)?",
            f"toy stage share: {stage}",
            f"positive = switching {stage} on makes the two models' answers to the same problem more alike "
            "(character-level similarity)", d.shapley[i], (d.low[i], d.high[i]), d.n_units,
            models=["toy-gpt"], quick=ctx.quick,
        ))
    return rows


class Thesis:
    """Claim T: convergence is the default but not inevitable. Decomposes the measured
    convergence by stage (real models and toy models) and tries counter-pressures."""

    claim = "T"
    title = "Inevitable, or a stack of design choices?"
    question = ("Is output convergence across models the default at every stage, and can counter-pressure "
                "added on purpose remove it?")

    def run(self, ctx: Any) -> list[Any]:
        from homogeny.experiments.counter_pressures import run_counter_pressures
        from homogeny.experiments.stage_games import model_game, toy_game

        game = model_game(ctx)
        artifact = game.decomposition.artifact()
        artifact.update(measure="mean cross-user MiniLM cosine of answers to the same request, averaged over models",
                        base_models=game.base_models)
        ctx.artifact("T", "stage_decomposition", artifact)
        ctx.artifact("T", "examples", game.examples)
        evidence = model_game_evidence(ctx, game)
        if not ctx.options.get("skip_toy"):
            toy, formats = toy_game(ctx)
            ctx.artifact("T", "toy_stage_decomposition", {**toy.artifact(), "measure": "character-level similarity",
                                                         "format_shares": formats})
            evidence += toy_evidence(ctx, toy)
        evidence += run_counter_pressures(ctx)
        return evidence
