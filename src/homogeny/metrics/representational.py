"""How alike two models' internal representations of the same inputs are.

X and Y hold one row per input (same inputs, same order); their widths may differ.
"""

from __future__ import annotations

import numpy as np

from homogeny.errors import ParameterError
from homogeny.metrics.semantic import normalize_rows


def _paired(x: np.ndarray, y: np.ndarray, minimum: int) -> tuple[np.ndarray, np.ndarray]:
    a = np.asarray(x, dtype=np.float64)
    b = np.asarray(y, dtype=np.float64)
    if a.ndim != 2 or b.ndim != 2:
        raise ParameterError(f"X and Y must be 2-d (n_inputs, dim); got {a.shape} and {b.shape}")
    if a.shape[0] != b.shape[0]:
        raise ParameterError(
            f"X and Y must have the same rows (inputs): {a.shape[0]} vs {b.shape[0]}"
        )
    if a.shape[0] < minimum:
        raise ParameterError(f"need at least {minimum} inputs, got {a.shape[0]}")
    return a, b


def _u_centered(gram: np.ndarray) -> np.ndarray:
    """U-centering (Szekely & Rizzo 2014): <U(K), U(L)> / (n(n-3)) is the unbiased HSIC
    estimator of Song et al. 2012 (JMLR 13, eq. 5)."""
    n = gram.shape[0]
    g = gram.copy()
    np.fill_diagonal(g, 0.0)
    means = g.sum(axis=0) / (n - 2)
    means -= means.sum() / (2 * (n - 1))
    g -= means[:, None]
    g -= means[None, :]
    np.fill_diagonal(g, 0.0)
    return g


def _centered(gram: np.ndarray) -> np.ndarray:
    """Double centering HKH, H = I - 11^T/n (the biased HSIC of Gretton et al. 2005)."""
    means = gram.mean(axis=0)
    return gram - means[:, None] - means[None, :] + means.mean()


def linear_cka(x: np.ndarray, y: np.ndarray, debiased: bool = True) -> float:
    """Linear centered kernel alignment (Kornblith et al. 2019, "Similarity of Neural Network
    Representations Revisited", ICML): HSIC(K, L) / sqrt(HSIC(K, K) HSIC(L, L)) with the
    linear kernels K = X X^T, L = Y Y^T of column-centred features. debiased=True uses the
    unbiased HSIC estimator (Song et al. 2012) as Nguyen, Raghu & Kornblith 2021 ("Do Wide and
    Deep Networks Learn the Same Things?") recommend for few inputs; False gives the
    original biased CKA = ||Y^T X||_F^2 / (||X^T X||_F ||Y^T Y||_F). 1 = same up to rotation
    and isotropic scaling. platonic-rep's `unbiased_cka` equals this but adds 1e-6 to the
    denominator."""
    a, b = _paired(x, y, minimum=4 if debiased else 2)
    a = a - a.mean(axis=0)
    b = b - b.mean(axis=0)
    center = _u_centered if debiased else _centered
    k = center(a @ a.T)
    lg = center(b @ b.T)
    hsic_kl = float((k * lg).sum())
    denom = float(np.sqrt((k * k).sum() * (lg * lg).sum()))
    if denom <= 0:
        raise ParameterError("CKA is undefined: one representation is constant across inputs")
    return hsic_kl / denom


def mutual_knn_alignment(x: np.ndarray, y: np.ndarray, k: int) -> float:
    """Mutual k-nearest-neighbour alignment (Huh et al. 2024, "The Platonic Representation
    Hypothesis", ICML; platonic-rep `mutual_knn`): mean over inputs i of
    |kNN_X(i) & kNN_Y(i)| / k, neighbours by cosine similarity of L2-normalised rows, the
    input itself excluded. Ties are broken by index (stable sort)."""
    a, b = _paired(x, y, minimum=2)
    n = a.shape[0]
    if not 1 <= k <= n - 1:
        raise ParameterError(f"k must be between 1 and n - 1 = {n - 1}, got {k}")
    knn_a = _nearest(normalize_rows(a), k)
    knn_b = _nearest(normalize_rows(b), k)
    mask_a = np.zeros((n, n), dtype=bool)
    mask_b = np.zeros((n, n), dtype=bool)
    rows = np.arange(n)[:, None]
    mask_a[rows, knn_a] = True
    mask_b[rows, knn_b] = True
    return float((mask_a & mask_b).sum(axis=1).mean() / k)


def _nearest(x: np.ndarray, k: int) -> np.ndarray:
    sim = x @ x.T
    np.fill_diagonal(sim, -np.inf)
    return np.argsort(-sim, axis=1, kind="stable")[:, :k]
