"""Reliability of repeated judgments: Cronbach's alpha, McDonald's omega, exact-repeat rate.

Items are columns, observations rows: for an LLM judge, a column is one question and a row
one replication of the judge over all questions (Schroeder & Wood-Doughty 2024, "Can You Trust
LLM Judgments? Reliability of LLM-as-a-Judge", arXiv 2412.12509). `judge_reliability` is
that paper's whole procedure; it reproduces its released tables (tests/test_reliability_paper.py).

Factor analysis is written here (minres fitted by L-BFGS-B, oblimin by gradient projection)
because the paper's reference, reliabilipy, breaks on scikit-learn >= 1.6 through
factor_analyzer; the algorithms and defaults follow factor_analyzer 0.5.1 step by step.
"""

from __future__ import annotations

import math
import re
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np

from homogeny.errors import ParameterError

_VERDICT = re.compile(r"Best Response:\W*([A-Ea-e])")
NO_VERDICT = 6.0
SEVERAL_VERDICTS = 7.0


def _items(item_scores: np.ndarray | Sequence[Sequence[float]]) -> np.ndarray:
    x = np.asarray(item_scores, dtype=np.float64)
    if x.ndim != 2:
        raise ParameterError(f"item scores must be 2-d (observations, items), got shape {x.shape}")
    if x.shape[1] < 2 or x.shape[0] < 2:
        raise ParameterError(f"need at least 2 observations and 2 items, got shape {x.shape}")
    if not np.all(np.isfinite(x)):
        raise ParameterError("item scores contain NaN or infinity; drop or impute them first")
    if np.any(x.std(axis=0) == 0):
        raise ParameterError(
            "an item is constant across observations; its correlations are undefined"
        )
    return x


def _correlations(x: np.ndarray, absolute: bool = False) -> np.ndarray:
    r = np.corrcoef(x, rowvar=False)
    return np.abs(r) if absolute else r


# ---- alpha ---------------------------------------------------------------------------------
def cronbach_alpha(
    item_scores: np.ndarray | Sequence[Sequence[float]], standardized: bool = False
) -> float:
    """Cronbach's alpha (Cronbach 1951): k/(k-1) * (1 - sum of item variances / variance of
    the total score). standardized=True: the same on the correlation matrix R,
    k/(k-1) * (1 - k / sum(R)), i.e. k rbar / (1 + (k-1) rbar)."""
    x = _items(item_scores)
    k = x.shape[1]
    if standardized:
        return _alpha_from_correlations(_correlations(x))
    item_var = x.var(axis=0, ddof=1).sum()
    total_var = x.sum(axis=1).var(ddof=1)
    return float(k / (k - 1) * (1 - item_var / total_var))


def _alpha_from_correlations(r: np.ndarray) -> float:
    k = r.shape[0]
    vt = r.sum()
    return float((vt - np.trace(r)) / vt * k / (k - 1))


# ---- factor analysis -------------------------------------------------------------------------
def _smc(r: np.ndarray) -> np.ndarray:
    """Squared multiple correlation of each item with all others: 1 - 1/diag(R^-1).

    A singular R (more items than observations, or duplicated items) has no inverse; the
    pseudo-inverse then gives the start values, clipped to [0, 1] (factor_analyzer fails here)."""
    try:
        inverse = np.linalg.inv(r)
    except np.linalg.LinAlgError:
        inverse = np.linalg.pinv(r)
    with np.errstate(divide="ignore", invalid="ignore"):
        smc = 1 - 1 / np.diag(inverse)
    if not np.all(np.isfinite(smc)) or np.any((smc < 0) | (smc > 1)):
        smc = np.clip(np.nan_to_num(1 - 1 / np.diag(np.linalg.pinv(r)), nan=1.0), 0.0, 1.0)
    return smc


def _top_loadings(reduced: np.ndarray, n_factors: int, floor: float) -> np.ndarray:
    import scipy.linalg

    values, vectors = scipy.linalg.eigh(reduced)
    values = np.maximum(values[::-1][:n_factors], floor)
    return vectors[:, ::-1][:, :n_factors] * np.sqrt(values)


def _minres_objective(psi: np.ndarray, r: np.ndarray, n_factors: int) -> float:
    reduced = r.copy()
    np.fill_diagonal(reduced, 1 - psi)
    loadings = _top_loadings(reduced, n_factors, np.finfo(float).eps * 100)
    return float(((reduced - loadings @ loadings.T) ** 2).sum())


def _ml_objective(psi: np.ndarray, r: np.ndarray, n_factors: int) -> float:
    scale = 1 / np.sqrt(psi)
    values = np.linalg.eigvalsh(r * np.outer(scale, scale))[::-1][n_factors:]
    return float(-(np.sum(np.log(values) - values) - n_factors + r.shape[0]))


def factor_loadings(r: np.ndarray, n_factors: int = 1, method: str = "minres") -> np.ndarray:
    """Unrotated loadings of an n_factors common-factor model of correlation matrix R.

    minres (Harman & Jones 1966; psych's fa default) minimises the squared off-model residuals
    over the uniquenesses; ml is Joreskog's maximum likelihood (R's factanal). Both start from
    1 - SMC and run L-BFGS-B with uniquenesses in [0.005, 1], as factor_analyzer does."""
    if method not in ("minres", "ml"):
        raise ParameterError(f"unknown factor method {method!r}; use 'minres' or 'ml'")
    from scipy.optimize import minimize  # imported on use: scipy.optimize is slow to import

    start = 1 - _smc(r)
    objective = _ml_objective if method == "ml" else _minres_objective
    res = minimize(
        objective,
        start,
        args=(r, n_factors),
        method="L-BFGS-B",
        bounds=[(0.005, 1.0)] * r.shape[0],
        options={"maxiter": 1000},
    )
    psi = res.x
    if method == "ml":
        scale = 1 / np.sqrt(psi)
        values, vectors = np.linalg.eigh(r * np.outer(scale, scale))
        values = np.maximum(values[::-1][:n_factors] - 1, 0)
        return np.sqrt(psi)[:, None] * (vectors[:, ::-1][:, :n_factors] * np.sqrt(values))
    reduced = r.copy()
    np.fill_diagonal(reduced, 1 - psi)
    values, vectors = np.linalg.eigh(reduced)
    values = np.maximum(values[::-1][:n_factors], 0)
    return vectors[:, ::-1][:, :n_factors] * np.sqrt(values)


def oblimin(loadings: np.ndarray, max_iter: int = 500, tol: float = 1e-5) -> np.ndarray:
    """Direct quartimin/oblimin rotation (gamma = 0; Jennrich 2002) by the gradient
    projection algorithm of Bernaards & Jennrich 2005 (GPArotation's GPFoblq), returning the
    rotated pattern loadings."""
    a = loadings
    n_factors = a.shape[1]
    off = ~np.eye(n_factors, dtype=bool)

    def criterion(lam: np.ndarray) -> tuple[float, np.ndarray]:
        weights = (lam**2) @ off
        return float((lam**2 * weights).sum() / 4), lam * weights

    t = np.eye(n_factors)
    lam = a @ np.linalg.inv(t).T
    f, grad_lam = criterion(lam)
    gradient = -(lam.T @ grad_lam @ np.linalg.inv(t)).T
    alpha = 1.0
    for _ in range(max_iter + 1):
        projected = gradient - t @ np.diag(np.ones(n_factors) @ (t * gradient))
        s = math.sqrt(float(np.trace(projected.T @ projected)))
        if s < tol:
            break
        alpha *= 2
        for _ in range(11):
            x = t - alpha * projected
            t_new = x / np.sqrt((x**2).sum(axis=0))
            lam = a @ np.linalg.inv(t_new).T
            f_new, grad_lam = criterion(lam)
            if f - f_new > 0.5 * s**2 * alpha:
                break
            alpha /= 2
        t, f = t_new, f_new
        gradient = -(lam.T @ grad_lam @ np.linalg.inv(t_new)).T
    return lam


# ---- omega ---------------------------------------------------------------------------------
def mcdonalds_omega(
    item_scores: np.ndarray | Sequence[Sequence[float]], method: str = "minres"
) -> float:
    """McDonald's omega total for a one-factor model (McDonald 1999, "Test Theory", eq. 6.20b):
    (sum lambda)^2 / ((sum lambda)^2 + sum psi), lambda the standardised loadings of a single
    common factor fitted to the item correlation matrix (minres or ml) and psi = 1 - lambda^2.
    Items should be keyed in the same direction. For the group-factor version that
    reliabilipy and psych::omega report, see `omega_total_group_factors`."""
    x = _items(item_scores)
    lam = factor_loadings(_correlations(x), 1, method)[:, 0]
    common = lam.sum() ** 2
    return float(common / (common + (1 - lam**2).sum()))


def omega_total_group_factors(
    item_scores: np.ndarray | Sequence[Sequence[float]], n_factors: int = 3, absolute: bool = True
) -> float:
    """Omega total as reliabilipy 0.0.36 computes it (after psych::omega; Revelle & Zinbarg
    2009): (1'R1 - sum u^2) / 1'R1, with R the item correlation matrix (absolute values when
    absolute=True, as reliabilipy takes them), u^2 = 1 - rowsum(L^2) and L the pattern
    loadings of an n_factors minres solution rotated by oblimin. This is the omega of the
    LLM-judge reliability paper's tables."""
    x = _items(item_scores)
    r = _correlations(x, absolute)
    loadings = factor_loadings(r, n_factors, "minres")
    if n_factors > 1:
        loadings = oblimin(loadings)
    uniqueness = 1 - (loadings**2).sum(axis=1)
    vt = r.sum()
    return float((vt - uniqueness.sum()) / vt)


# ---- the LLM-judge procedure ------------------------------------------------------------------
def parse_verdict(judgment: str) -> float:
    """A judge's "Best Response: X" verdict as the paper codes it: A-E -> 1-5, no verdict -> 6,
    several different verdicts -> 7 (case-sensitive comparison, as the paper's code)."""
    found = _VERDICT.findall(judgment)
    if not found:
        return NO_VERDICT
    if len(set(found)) == 1:
        return float("ABCDE".index(found[0].upper()) + 1)
    return SEVERAL_VERDICTS


@dataclass(frozen=True)
class JudgeReliability:
    """Reliability of a judge over questions: alpha and omega with what went into them."""

    alpha: float
    omega: float
    n_items: int  # questions analysed by the factor model
    n_constant: int  # questions with one verdict in every replication (reliability 1)
    n_dropped: int  # questions with no verdict in any replication


def judge_reliability(
    verdicts: Mapping[str, Sequence[float]] | np.ndarray, no_verdict: float = NO_VERDICT
) -> JudgeReliability:
    """Schroeder & Wood-Doughty 2024's reliability of an LLM judge.

    `verdicts`: question -> coded verdict per replication (or an array, replications x
    questions), codes as `parse_verdict`. Questions with no verdict in every replication are
    dropped; questions whose replications all agree count as reliability 1; the rest give
    standardised alpha and group-factor omega on absolute correlations
    (`omega_total_group_factors`, 3 factors), and the reported value is the count-weighted
    mean (n_constant * 1 + k * stat) / (n_constant + k). No question left: 1. With a single
    varying question alpha and omega are undefined and come back as NaN."""
    columns = _columns(verdicts)
    kept, n_constant, n_dropped = [], 0, 0
    for col in columns:
        if np.all(col == col[0]):
            if col[0] == no_verdict:
                n_dropped += 1
            else:
                n_constant += 1
        else:
            kept.append(col)
    k = len(kept)
    if k == 0:
        return JudgeReliability(1.0, 1.0, 0, n_constant, n_dropped)
    x = np.column_stack(kept)
    alpha = _alpha_from_correlations(np.abs(np.corrcoef(x, rowvar=False))) if k > 1 else math.nan
    omega = omega_total_group_factors(x) if k > 1 else math.nan
    weight = n_constant + k
    return JudgeReliability(
        alpha=(n_constant + k * alpha) / weight,
        omega=(n_constant + k * omega) / weight,
        n_items=k,
        n_constant=n_constant,
        n_dropped=n_dropped,
    )


def _columns(verdicts: Mapping[str, Sequence[float]] | np.ndarray) -> list[np.ndarray]:
    if isinstance(verdicts, Mapping):
        cols = [np.asarray(v, dtype=np.float64) for v in verdicts.values()]
    else:
        arr = np.asarray(verdicts, dtype=np.float64)
        if arr.ndim != 2:
            raise ParameterError(
                f"verdicts must be 2-d (replications, questions), got shape {arr.shape}"
            )
        cols = list(arr.T)
    if len({c.size for c in cols}) > 1:
        raise ParameterError("every question needs the same number of replications")
    return cols


# ---- exact repeats -------------------------------------------------------------------------
def exact_repeat_rate(texts: Sequence[str]) -> float:
    """Share of pairs of samples that are character-for-character identical:
    sum_c C(n_c, 2) / C(n, 2) over groups c of identical texts (the collision probability of
    two distinct draws). 1 when every sample repeats one output (temperature 0, fixed seed),
    0 when all differ; the consistency that Schroeder & Wood-Doughty show is not reliability."""
    n = len(texts)
    if n < 2:
        raise ParameterError(f"need at least 2 texts, got {n}")
    same_pairs = sum(c * (c - 1) for c in Counter(texts).values())
    return same_pairs / (n * (n - 1))
