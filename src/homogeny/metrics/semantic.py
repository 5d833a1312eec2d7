"""Semantic diversity from sentence embeddings: similarity, Vendi score, distinct@k, hivemind index.

Inputs are row vectors (one text per row), e.g. from `homogeny.embeddings.embed`. Every
function L2-normalises rows itself (a zero row stays zero, as sklearn's `normalize`), so the
kernel is the cosine kernel whatever the caller passes.
"""

from __future__ import annotations

import math
import re
import unicodedata
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from homogeny.errors import ParameterError

# all-MiniLM-L6-v2 cosine at or above which two answers count as the same answer. Measured
# here (docs/metrics.md, "distinct@k threshold"): 96% of Adam's-Law GSM8K paraphrase pairs
# score >= 0.85 and no question's nearest different question does; distinct answers that
# share a frame ("Here is a haiku about autumn: ...") reach ~0.75.
DEFAULT_SAME_THRESHOLD = 0.85


def normalize_rows(x: np.ndarray | Sequence[Sequence[float]]) -> np.ndarray:
    """Rows scaled to unit L2 norm (float64); all-zero rows stay zero."""
    arr = np.asarray(x, dtype=np.float64)
    if arr.ndim != 2:
        raise ParameterError(
            f"embeddings must be a 2-d array (n_texts, dim), got shape {arr.shape}"
        )
    norms = np.linalg.norm(arr, axis=1, keepdims=True)
    return arr / np.where(norms == 0, 1.0, norms)


def pairwise_similarity(a: np.ndarray, b: np.ndarray | None = None) -> np.ndarray:
    """Cosine similarity matrix S[i, j] = cos(a_i, b_j) (b defaults to a), float64."""
    na = normalize_rows(a)
    nb = na if b is None else normalize_rows(b)
    if na.shape[1] != nb.shape[1]:
        raise ParameterError(f"embedding sizes differ: {na.shape[1]} vs {nb.shape[1]}")
    return np.asarray(na @ nb.T)


def mean_pairwise_similarity(embeddings: np.ndarray) -> float:
    """Mean cosine similarity over ordered pairs i != j (Artificial Hivemind's within-set
    similarity, Jiang et al. 2025), computed from the sum vector in O(n d): sum_{i!=j} x_i.x_j
    = |sum x|^2 - sum |x_i|^2."""
    x = normalize_rows(embeddings)
    n = x.shape[0]
    if n < 2:
        raise ParameterError(f"need at least 2 embeddings, got {n}")
    total = float(x.sum(axis=0) @ x.sum(axis=0)) - float((x * x).sum())
    return total / (n * (n - 1))


def _entropy_q(p: np.ndarray, q: float) -> float:
    """Hill-number entropy of order q of a probability vector (Friedman & Dieng 2023, eq. 4)."""
    p = p[p > 0]
    if q == 1:
        return float(-(p * np.log(p)).sum())
    if math.isinf(q):
        return float(-np.log(p.max()))
    return float(np.log((p**q).sum()) / (1 - q))


def _parse_order(q: float | str) -> float:
    if isinstance(q, str):
        if q.lower() != "inf":
            raise ParameterError(f"q must be a number >= 0 or 'inf', got {q!r}")
        return math.inf
    if not q >= 0:
        raise ParameterError(f"q must be >= 0, got {q}")
    return float(q)


def _drop_round_off(w: np.ndarray) -> np.ndarray:
    """Eigenvalues below numerical rank tolerance are zeros that round-off made nonzero."""
    tol = max(w.max(initial=0.0), 0.0) * w.size * np.finfo(np.float64).eps
    return np.where(w > tol, w, 0.0)


def vendi_score(
    embeddings: np.ndarray | None = None, q: float | str = 1, kernel: np.ndarray | None = None
) -> float:
    """Vendi score (Friedman & Dieng 2023, "The Vendi Score: A Diversity Evaluation Metric for
    Machine Learning", TMLR): exp of the order-q entropy of the eigenvalues of K/n.

    With `embeddings` (n x d rows), K is the cosine kernel; when n > d the eigenvalues come from
    the d x d dual X^T X / n (same nonzero spectrum, O(n d^2) instead of O(n^3)). With `kernel`
    the n x n similarity matrix is used as given (K_ii should be 1), equal to vendi-score's
    `score_K`. q = 1 is Shannon entropy, q = inf (or "inf") min-entropy, other q Renyi.
    Divergences from vendi-score 0.0.3: its `score_X` ignores q (homogeny honours it); it
    keeps round-off eigenvalues (~1e-17) as mass, which corrupts q < 1 (q = 0 should be the
    rank), homogeny zeroes eigenvalues below the numerical-rank tolerance.
    """
    order = _parse_order(q)
    if (embeddings is None) == (kernel is None):
        raise ParameterError("give exactly one of embeddings= or kernel=")
    if kernel is not None:
        k = np.asarray(kernel, dtype=np.float64)
        if k.ndim != 2 or k.shape[0] != k.shape[1] or k.shape[0] == 0:
            raise ParameterError(f"kernel must be a non-empty square matrix, got shape {k.shape}")
        w = np.linalg.eigvalsh(k / k.shape[0])
    else:
        x = normalize_rows(embeddings)  # type: ignore[arg-type]
        n, d = x.shape
        if n == 0:
            raise ParameterError("need at least 1 embedding")
        w = np.linalg.eigvalsh(x.T @ x / n) if n > d else np.linalg.eigvalsh(x @ x.T / n)
    return float(np.exp(_entropy_q(_drop_round_off(w), order)))


# ---- distinct@k -----------------------------------------------------------------------------
_SPACES = re.compile(r"\s+")


def normalize_text(text: str) -> str:
    """NFKC, casefolded, whitespace collapsed, stripped: the default identity rule for strings."""
    return _SPACES.sub(" ", unicodedata.normalize("NFKC", text).casefold()).strip()


def equivalence_classes(
    items: Sequence[str] | np.ndarray,
    threshold: float = DEFAULT_SAME_THRESHOLD,
    same: Callable[[Any, Any], bool] | None = None,
) -> list[int]:
    """Greedy partition into equivalence classes, as NoveltyBench's `partition_responses`
    (Zhang et al. 2025): in order, each item joins the first existing class whose FIRST member
    it is the same as, else it opens a new class. Returns the class index of every item.

    Rule: `same(a, b)` when given; else, for strings, equal after `normalize_text`; for
    embedding rows, cosine similarity >= threshold."""
    if same is not None:
        return _greedy_classes(list(items), same)
    if isinstance(items, np.ndarray) or (len(items) and not isinstance(items[0], str)):
        return _embedding_classes(normalize_rows(np.asarray(items)), threshold)
    keys = [normalize_text(t) for t in items]  # type: ignore[arg-type]
    first_seen: dict[str, int] = {}
    return [first_seen.setdefault(key, len(first_seen)) for key in keys]


def _greedy_classes(items: list[Any], same: Callable[[Any, Any], bool]) -> list[int]:
    representatives: list[Any] = []
    labels = []
    for item in items:
        for c, rep in enumerate(representatives):
            if same(rep, item):
                labels.append(c)
                break
        else:
            labels.append(len(representatives))
            representatives.append(item)
    return labels


def _embedding_classes(x: np.ndarray, threshold: float) -> list[int]:
    reps = np.zeros((0, x.shape[1]))
    labels = []
    for row in x:
        hits = np.flatnonzero(reps @ row >= threshold)
        if hits.size:
            labels.append(int(hits[0]))
        else:
            labels.append(reps.shape[0])
            reps = np.vstack([reps, row])
    return labels


def distinct_at_k(
    items: Sequence[str] | np.ndarray,
    k: int | None = None,
    threshold: float = DEFAULT_SAME_THRESHOLD,
    same: Callable[[Any, Any], bool] | None = None,
) -> int:
    """distinct@k (NoveltyBench, Zhang et al. 2025, arXiv 2504.05228): the number of
    equivalence classes among the first k items (k=None: all), classes by
    `equivalence_classes`. Counts classes, not classes - 1 (NoveltyBench's released
    `partition.py` stored max(partition), an off-by-one)."""
    n = len(items)
    k = n if k is None else k
    if not 1 <= k <= n:
        raise ParameterError(f"k must be between 1 and the number of items ({n}), got {k}")
    labels = equivalence_classes(items[:k], threshold=threshold, same=same)
    return max(labels) + 1


# ---- hivemind ---------------------------------------------------------------------------------
@dataclass(frozen=True)
class HivemindIndex:
    """Cross-model sameness: inter-group over intra-group mean cosine similarity.

    index near 1: answers from different models are as alike as answers from one model."""

    intra: float
    inter: float
    index: float


def hivemind_index(groups: Sequence[np.ndarray]) -> HivemindIndex:
    """Hivemind index (after Jiang et al. 2025, "Artificial Hivemind", arXiv 2510.22954):
    inter = mean over pairs of groups (g, h) of the mean cosine between g's and h's rows;
    intra = mean over groups of the mean cosine over distinct pairs inside the group;
    index = inter / intra. Each group (e.g. one model's answers to a prompt) weighs equally."""
    if len(groups) < 2:
        raise ParameterError(f"need at least 2 groups, got {len(groups)}")
    normed = [normalize_rows(g) for g in groups]
    for i, g in enumerate(normed):
        if g.shape[0] < 2:
            raise ParameterError(f"group {i} has {g.shape[0]} rows; each group needs at least 2")
    intra = float(np.mean([mean_pairwise_similarity(g) for g in normed]))
    means = np.array([g.mean(axis=0) for g in normed])
    cross = means @ means.T  # mean cosine between groups g and h = mean_g . mean_h
    upper = np.triu_indices(len(normed), k=1)
    inter = float(cross[upper].mean())
    return HivemindIndex(intra=intra, inter=inter, index=inter / intra if intra != 0 else math.nan)
