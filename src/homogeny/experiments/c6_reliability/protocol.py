"""The paper's protocol on verdict distributions: draw the replications, score them (omega,
alpha, consistency, modal accuracy) and set the judge's omega against a random judge's."""

from __future__ import annotations

import math
import zlib
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from typing import Any

import numpy as np

from homogeny.experiments.c6_reliability.judge import (
    NO_VERDICT_CODE,
    TEMPERATURES,
    Distributions,
)

REPLICATIONS = 100
FLOOR_SEED = 7919  # second key of the random judge's RNG, beside the run's seed


def draw_verdicts(
    probs: np.ndarray,
    replications: int,
    seed: int,
    temperature_index: int,
    item_ids: Sequence[str],
) -> np.ndarray:
    """Replications x questions matrix of verdict codes (A-E = 1-5, none = 6), each column
    drawn from that question's verdict distribution with its own seeded numpy RNG."""
    cols = []
    for q, item_id in enumerate(item_ids):
        rng = np.random.default_rng([seed, temperature_index, zlib.crc32(item_id.encode())])
        cols.append(rng.choice(len(probs[q]), size=replications, p=probs[q]) + 1)
    return np.column_stack(cols)


def fully_consistent(verdicts: np.ndarray) -> np.ndarray:
    """Per question (column): 1.0 when every replication gave the same verdict, else 0.0."""
    return np.all(verdicts == verdicts[:1], axis=0).astype(float)


def modal_correct(verdicts: np.ndarray, correct_codes: np.ndarray) -> np.ndarray:
    """Per question: 1.0 when the most frequent verdict (ties: the lowest code) is right."""
    modes = np.array(
        [np.bincount(col, minlength=NO_VERDICT_CODE + 1).argmax() for col in verdicts.T]
    )
    return (modes == correct_codes).astype(float)


def share_and_rank(p_zero: np.ndarray, p_one: np.ndarray) -> tuple[float, int]:
    """Where the temperature-~0 verdict falls in the temperature-1 distribution: its
    probability there and its rank (1 = most likely) among the six outcomes."""
    pick = int(np.argmax(p_zero))
    rank = 1 + int(np.sum(p_one > p_one[pick]))
    return float(p_one[pick]), rank


def reliability_by_temperature(
    dists: Distributions,
    item_ids: Sequence[str],
    correct_codes: np.ndarray,
    seed: int,
    replications: int = REPLICATIONS,
) -> list[dict[str, Any]]:
    """The paper's table for one judge: per temperature omega, alpha (homogeny.metrics
    judge_reliability), share of fully consistent questions, modal-pick correctness and the
    drawn verdict matrix itself."""
    from homogeny.metrics import judge_reliability

    rows = []
    for ti, t in enumerate(TEMPERATURES):
        probs = np.array([dists[i][t] for i in item_ids])
        verdicts = draw_verdicts(probs, replications, seed, ti, item_ids)
        rel = judge_reliability(verdicts)
        rows.append({
            "temperature": t, "omega": finite(rel.omega), "alpha": finite(rel.alpha),
            "n_constant": rel.n_constant, "consistent": fully_consistent(verdicts),
            "modal_correct": modal_correct(verdicts, correct_codes),
            "draw_accuracy": float(np.mean(verdicts == correct_codes[None, :])),
            "verdicts": verdicts,
        })  # fmt: skip
    return rows


def finite(x: float) -> float | None:
    """x, or None where it is NaN or infinite (an undefined omega or alpha)."""
    return float(x) if math.isfinite(x) else None


def random_judge_verdicts(
    n_questions: int, seed: int, replications: int = REPLICATIONS
) -> np.ndarray:
    """Replications x questions verdicts of a judge that picks A-E uniformly at random."""
    rng = np.random.default_rng([seed, FLOOR_SEED])
    return rng.integers(1, 6, size=(replications, n_questions)).astype(float)


def random_judge_floor(
    n_questions: int, seed: int, replications: int = REPLICATIONS
) -> dict[str, float | None]:
    """Omega and alpha of a judge that picks A-E uniformly at random on every replication.
    The paper's procedure correlates absolute values, so noise does not score 0: this is the
    floor to read the judge's own values against."""
    from homogeny.metrics import judge_reliability

    rel = judge_reliability(random_judge_verdicts(n_questions, seed, replications))
    return {"omega": finite(rel.omega), "alpha": finite(rel.alpha)}


def jackknife_scaled_omega(verdicts: np.ndarray, floor_verdicts: np.ndarray) -> np.ndarray:
    """Per question, Tukey's jackknife pseudo-value of the judge's omega placed between a
    uniform random judge's on the same questions (0) and perfect agreement (1):
    n * s(all) - (n - 1) * s(all but this question), s = (omega - floor) / (1 - floor), both
    omegas the paper's (homogeny.metrics.judge_reliability) on the same columns. Omega is one
    number for a set of questions, so splitting it into equal "parts" would count one
    measurement n times; the pseudo-values carry each question's own influence. They are
    returned centred on s(all), so their mean is the paper's scaled omega (not the jackknife's
    noisier bias-corrected one) and their spread the jackknife's: a test on their mean
    resamples questions, the unit. Questions with no verdict in any replication are
    left out (as the paper leaves them out). NaN everywhere when a scaled omega is undefined
    (under two varying questions, or a floor of 1)."""
    constant = np.all(verdicts == verdicts[:1], axis=0)
    answered = np.flatnonzero(~(constant & (verdicts[0] == NO_VERDICT_CODE)))
    n = answered.size
    if n < 3:
        return np.full(n, np.nan)
    full = _scaled_omega(verdicts, floor_verdicts, answered)
    loo = np.array(
        [_scaled_omega(verdicts, floor_verdicts, np.delete(answered, k)) for k in range(n)]
    )
    pseudo = n * full - (n - 1) * loo
    return full + (pseudo - pseudo.mean())  # centred: the paper's statistic, jackknife spread


def _scaled_omega(verdicts: np.ndarray, floor_verdicts: np.ndarray, cols: np.ndarray) -> float:
    from homogeny.metrics import judge_reliability

    omega = judge_reliability(verdicts[:, cols]).omega
    floor = judge_reliability(floor_verdicts[:, cols]).omega
    if not (math.isfinite(omega) and math.isfinite(floor)) or floor >= 1.0:
        return math.nan
    return (omega - floor) / (1.0 - floor)


@contextmanager
def one_blas_thread() -> Iterator[None]:
    """Factor analysis of a few dozen questions on one BLAS thread: more threads only contend
    on matrices this small (measured on 2 busy cores: half the CPU time, same numbers)."""
    try:
        from threadpoolctl import threadpool_limits
    except ImportError:  # an optional speed-up (installed with scikit-learn)
        yield
        return
    with threadpool_limits(limits=1, user_api="blas"):
        yield
