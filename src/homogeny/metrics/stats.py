"""Intervals and tests: every headline number in homogeny carries one.

Bootstrap resampling is over observation indices, so a statistic may take any data (arrays,
lists of texts, tuples of paired arrays); permutation tests use scipy.stats.permutation_test.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from homogeny.errors import ParameterError


@dataclass(frozen=True)
class BootstrapResult:
    """A point estimate on the full data with its percentile bootstrap interval."""

    point: float
    low: float
    high: float
    confidence: float
    n: int


@dataclass(frozen=True)
class TestResult:
    """A two-sided test: the observed statistic and its p-value."""

    __test__ = False  # not a pytest test class

    statistic: float
    pvalue: float
    n_resamples: int


def _as_tuple(data: Any) -> tuple[Any, ...]:
    return data if isinstance(data, tuple) else (data,)


def _take(item: Any, idx: np.ndarray) -> Any:
    if isinstance(item, np.ndarray):
        return item[idx]
    return [item[i] for i in idx]


def _length(parts: tuple[Any, ...]) -> int:
    sizes = {len(p) for p in parts}
    if len(sizes) != 1:
        raise ParameterError(f"paired data must have equal lengths, got {sorted(sizes)}")
    return sizes.pop()


def bootstrap_ci(
    statistic: Callable[..., float],
    data: Any,
    n_resamples: int = 1000,
    seed: int = 0,
    confidence: float = 0.95,
) -> BootstrapResult:
    """Percentile bootstrap interval (Efron & Tibshirani 1993, ch. 13) of statistic(data).

    `data` is one sequence or a tuple of equally long sequences resampled together (pairs stay
    paired); `statistic` receives the resampled parts as positional arguments. Deterministic
    for a given seed."""
    parts = _as_tuple(data)
    n = _length(parts)
    if n < 2:
        raise ParameterError(f"bootstrap needs at least 2 observations, got {n}")
    if not 0 < confidence < 1:
        raise ParameterError(f"confidence must be in (0, 1), got {confidence}")
    parts = tuple(p if isinstance(p, np.ndarray) else list(p) for p in parts)

    def on_indices(idx: np.ndarray) -> float:
        idx = np.asarray(idx, dtype=np.int64)
        return float(statistic(*(_take(p, idx) for p in parts)))

    point = float(statistic(*parts))
    values = _resampled_statistics(on_indices, n, n_resamples, seed)
    tail = (1 - confidence) / 2 * 100
    low, high = np.percentile(values, [tail, 100 - tail])
    low, high = (
        min(float(low), point),
        max(float(high), point),
    )  # a skewed bootstrap may miss the point
    return BootstrapResult(point=point, low=low, high=high, confidence=confidence, n=n)


def _resampled_statistics(
    on_indices: Callable[[np.ndarray], float], n: int, n_resamples: int, seed: int
) -> np.ndarray:
    """statistic on n_resamples index resamples. Drawn here rather than by scipy.stats.bootstrap,
    which needs numeric arrays and materialises every resample at once."""
    if n_resamples < 1:
        raise ParameterError(f"n_resamples must be >= 1, got {n_resamples}")
    rng = np.random.default_rng(seed)
    return np.array(
        [on_indices(rng.integers(0, n, size=n)) for _ in range(n_resamples)], dtype=np.float64
    )


def paired_difference_ci(
    a: Sequence[float] | np.ndarray,
    b: Sequence[float] | np.ndarray,
    statistic: Callable[[np.ndarray], float] = np.mean,
    n_resamples: int = 1000,
    seed: int = 0,
    confidence: float = 0.95,
) -> BootstrapResult:
    """Percentile bootstrap interval of statistic(a) - statistic(b) for paired observations
    (a_i, b_i measured on the same unit, e.g. the same prompt), pairs resampled together."""
    xa, xb = np.asarray(a, dtype=np.float64), np.asarray(b, dtype=np.float64)
    return bootstrap_ci(
        lambda u, v: float(statistic(u)) - float(statistic(v)),
        (xa, xb),
        n_resamples=n_resamples,
        seed=seed,
        confidence=confidence,
    )


def permutation_test(
    a: Sequence[float] | np.ndarray,
    b: Sequence[float] | np.ndarray,
    paired: bool = False,
    n_resamples: int = 10000,
    seed: int = 0,
) -> TestResult:
    """Two-sided permutation test of mean(a) - mean(b) (Fisher 1935; Pitman 1937).

    paired=True flips the sign of each within-pair difference (scipy permutation_type
    "samples"); otherwise group labels are permuted ("independent"). Exact when the number of
    distinct permutations is at most n_resamples."""
    xa, xb = np.asarray(a, dtype=np.float64), np.asarray(b, dtype=np.float64)
    if paired and xa.shape != xb.shape:
        raise ParameterError(f"paired samples must have equal lengths, got {xa.size} and {xb.size}")
    if min(xa.size, xb.size) < 1 or (not paired and xa.size + xb.size < 3):
        raise ParameterError("too few observations for a permutation test")

    def mean_difference(x: np.ndarray, y: np.ndarray, axis: int = -1) -> np.ndarray:
        return np.mean(x, axis=axis) - np.mean(y, axis=axis)

    from scipy import stats as sps  # imported on use: scipy.stats takes ~1 s to import

    res = sps.permutation_test(
        (xa, xb),
        mean_difference,
        permutation_type="samples" if paired else "independent",
        vectorized=True,
        n_resamples=n_resamples,
        alternative="two-sided",
        random_state=np.random.default_rng(seed),
    )
    return TestResult(
        statistic=float(res.statistic), pvalue=float(res.pvalue), n_resamples=n_resamples
    )
