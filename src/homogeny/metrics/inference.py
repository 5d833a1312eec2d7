"""Calibrated inference on independent units: the one place a verdict's interval is computed.

Every primary rule in homogeny resamples its independent unit (a prompt, a model, a seed):
- under 10 units, an exact sign-flip permutation test (Fisher 1935; Pitman 1937) and the
  interval from inverting it (the values mu whose two-sided test keeps mu at level 0.05);
  with 5 or fewer units no test can reach p <= 0.05, so nothing is ever "supported" there;
- from 10 units on, a percentile bootstrap of the mean over units (Efron & Tibshirani 1993),
  with the interval's tails expanded for small n (Hesterberg 2015) so that its false-support
  rate on null data stays under 2.5% from n = 10 on;
- nested units (prompts within models, RL seeds within pretraining seeds) resample the outer
  unit, then the inner units within each drawn outer unit (Davison & Hinkley 1997, sec. 3.8),
  and n counts outer units.

`null_rate` gives the probability that a rule says "supported" when the truth sits exactly at
the threshold (symmetric noise), computed exactly for the sign-flip test and by simulation
with the same resampling for the bootstrap.
"""

from __future__ import annotations

import itertools
from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache
from typing import Literal

import numpy as np

from homogeny.errors import ParameterError

EXACT_BELOW = 10  # under this many independent units, exact tests only
ALPHA = 0.05  # two-sided; a verdict is "supported" when the 95% interval clears the threshold
Predicted = Literal["above", "below"]


@dataclass(frozen=True)
class Inference:
    """A mean over independent units with its 95% interval, one-sided p-value and method."""

    point: float
    low: float
    high: float
    p_value: float  # one-sided, in the predicted direction, against the threshold
    n_units: int
    method: str  # "sign-flip exact" | "bootstrap" | "hierarchical bootstrap"
    null_rate: float  # P("supported") at this n when the truth is at the threshold
    p_against: float = 1.0  # one-sided, in the direction opposite to the prediction

    @property
    def verdict(self) -> str:
        """supported / contradicted when the matching one-sided p is at most 0.025 (the two-sided
        95% level), else inconclusive."""
        if self.p_value <= ALPHA / 2:
            return "supported"
        if self.p_against <= ALPHA / 2:
            return "contradicted"
        return "inconclusive"


@lru_cache(maxsize=16)
def _sign_patterns(n: int) -> np.ndarray:
    """All 2^n sign patterns as a (2^n, n) matrix (n < 10: at most 512 rows)."""
    return np.array(list(itertools.product((1.0, -1.0), repeat=n)))


def sign_flip_pvalues(deviations: np.ndarray) -> tuple[float, float]:
    """Exact one-sided p-values (greater, less) of mean(deviations) vs 0 over all 2^n sign
    flips. Written here because scipy's permutation_test draws at random above 2^n > 9999
    and we need the exact enumeration only for n < 10 (at most 512 flips)."""
    d = np.asarray(deviations, dtype=np.float64)
    means = _sign_patterns(d.size) @ d / d.size
    observed = d.mean()
    tol = 1e-12 * max(1.0, float(np.abs(d).max(initial=0.0)))
    return float(np.mean(means >= observed - tol)), float(np.mean(means <= observed + tol))


def sign_flip_interval(values: np.ndarray) -> tuple[float, float]:
    """95% interval of the mean from inverting the exact two-sided sign-flip test: the mu in
    [min, max] of the data that the test keeps. With n <= 5 that is [min, max]."""
    x = np.asarray(values, dtype=np.float64)
    lo, hi = float(x.min()), float(x.max())
    if lo == hi:
        return lo, hi
    grid = np.linspace(lo, hi, 401)
    signs = _sign_patterns(x.size)
    # flipped means of (x - mu) for every mu at once: (signs @ x - mu * signs.sum(1)) / n
    flipped = (signs @ x)[:, None] / x.size - np.outer(signs.sum(axis=1) / x.size, grid)
    observed = x.mean() - grid
    tol = 1e-12 * max(1.0, float(np.abs(x).max()))
    p_greater = np.mean(flipped >= observed - tol, axis=0)
    p_less = np.mean(flipped <= observed + tol, axis=0)
    kept = grid[2 * np.minimum(p_greater, p_less) > ALPHA]
    return (float(kept.min()), float(kept.max())) if kept.size else (lo, hi)


def _bootstrap_means(values: np.ndarray, n_resamples: int, seed: int) -> np.ndarray:
    rng = np.random.default_rng(seed)
    idx = rng.integers(0, values.size, size=(n_resamples, values.size))
    return values[idx].mean(axis=1)


def _one_sided(p_greater: float, p_less: float, predicted: Predicted) -> float:
    return p_greater if predicted == "above" else p_less


def infer_mean(
    values: Sequence[float] | np.ndarray,
    threshold: float = 0.0,
    predicted: Predicted = "above",
    seed: int = 0,
    n_resamples: int = 1000,
) -> Inference:
    """Mean of per-unit values with a calibrated 95% interval and one-sided p-value: exact
    sign-flip under 10 units, percentile bootstrap over units from 10 on."""
    x = np.asarray(values, dtype=np.float64).ravel()
    x = x[np.isfinite(x)]
    n = int(x.size)
    if n == 0:
        raise ParameterError("no finite unit values to infer from")
    point = float(x.mean())
    if n < EXACT_BELOW:
        if n == 1:
            return Inference(point, point, point, 1.0, 1, "sign-flip exact", 0.0)
        pg, pl = sign_flip_pvalues(x - threshold)
        lo, hi = sign_flip_interval(x)
        return Inference(
            point,
            min(lo, point),
            max(hi, point),
            _one_sided(pg, pl, predicted),
            n,
            "sign-flip exact",
            null_rate("sign-flip exact", n),
            _one_sided(pl, pg, predicted),
        )
    means = _bootstrap_means(x, n_resamples, seed)
    return _from_resamples(point, means, threshold, predicted, n, "bootstrap")


def infer_nested(
    groups: Sequence[Sequence[float] | np.ndarray],
    threshold: float = 0.0,
    predicted: Predicted = "above",
    seed: int = 0,
    n_resamples: int = 1000,
) -> Inference:
    """Mean over outer units of each unit's inner mean, for nested data (e.g. RL seeds within
    pretraining seeds). Under 10 outer units: the exact sign-flip test on outer-unit means;
    otherwise a two-level bootstrap (outer units, then inner values within each)."""
    arrays = [np.asarray(g, dtype=np.float64).ravel() for g in groups if len(g)]
    if not arrays:
        raise ParameterError("no groups to infer from")
    outer = np.array([a.mean() for a in arrays])
    if len(arrays) < EXACT_BELOW:
        return infer_mean(outer, threshold, predicted, seed, n_resamples)
    rng = np.random.default_rng(seed)
    means = np.empty(n_resamples)
    for r in range(n_resamples):
        picks = rng.integers(0, len(arrays), size=len(arrays))
        means[r] = np.mean(
            [arrays[i][rng.integers(0, arrays[i].size, arrays[i].size)].mean() for i in picks]
        )
    return _from_resamples(
        float(outer.mean()), means, threshold, predicted, len(arrays), "hierarchical bootstrap"
    )


def expanded_level(n: int) -> float:
    """The one-sided tail of the expanded percentile interval (Hesterberg 2015, "What teachers
    should know about the bootstrap", sec. 5.3): the percentile bootstrap is too narrow at small
    n, so the tail is widened to Phi(-sqrt(n/(n-1)) * t_{n-1}(1 - alpha/2)); it tends to
    alpha/2 as n grows."""
    from scipy import stats as sps  # imported on use: scipy.stats is slow to import

    t = sps.t.ppf(1 - ALPHA / 2, n - 1)
    return float(sps.norm.cdf(-np.sqrt(n / (n - 1)) * t))


def _from_resamples(
    point: float, means: np.ndarray, threshold: float, predicted: Predicted, n: int, method: str
) -> Inference:
    level = expanded_level(n)
    lo, hi = np.percentile(means, [100 * level, 100 * (1 - level)])
    # p-values rescaled so that p <= alpha/2 exactly when the expanded interval clears the
    # threshold: every rule (and Holm across claims) then compares against one level
    scale = (ALPHA / 2) / level
    pg = min(1.0, scale * float((np.sum(means <= threshold) + 1) / (means.size + 1)))
    pl = min(1.0, scale * float((np.sum(means >= threshold) + 1) / (means.size + 1)))
    return Inference(
        point,
        min(float(lo), point),
        max(float(hi), point),
        _one_sided(pg, pl, predicted),
        n,
        method,
        null_rate("bootstrap", n),
        _one_sided(pl, pg, predicted),
    )


@lru_cache(maxsize=256)
def null_rate(method: str, n: int, simulations: int = 2000, seed: int = 12345) -> float:
    """P(the rule says "supported") when the true mean equals the threshold, at n units.

    Exact for the sign-flip test (continuous symmetric noise: every sign pattern equally
    likely); for the bootstrap, simulated with standard normal units and the same resampling
    (1000 resamples, expanded percentile interval) that the rule uses."""
    if n < 2:
        return 0.0
    if method.startswith("sign-flip") or n < EXACT_BELOW:
        # The interval clears the threshold from above iff the observed mean is among the top
        # floor(alpha/2 * 2^n) of the 2^n equally likely flipped means.
        total = 2**n
        return float(np.floor(ALPHA / 2 * total) / total)
    rng = np.random.default_rng(seed)
    data = rng.standard_normal((simulations, n))
    level = expanded_level(n)
    hits = 0
    for row in data:
        means = row[rng.integers(0, n, size=(1000, n))].mean(axis=1)
        hits += (np.sum(means <= 0) + 1) / 1001 <= level
    return float(hits / simulations)


def holm(pvalues: Sequence[float], alpha: float = ALPHA / 2) -> list[bool]:
    """Holm (1979) step-down: which of the one-sided p-values are rejected at family-wise
    level `alpha` (default 0.025 one-sided, matching a two-sided 95% interval)."""
    order = np.argsort(pvalues)
    m = len(pvalues)
    reject = [False] * m
    for rank, i in enumerate(order):
        if pvalues[i] > alpha / (m - rank):
            break
        reject[i] = True
    return reject
