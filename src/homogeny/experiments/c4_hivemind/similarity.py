"""C4's similarity measures on plain arrays (no model needed).

`Embeddings` maps a model to, per prompt, an (S, d) array of unit-norm sample embeddings.
"""

from __future__ import annotations

import numpy as np

from homogeny.metrics import hivemind_index, mean_pairwise_similarity

SAME_THRESHOLD = 0.8  # the paper's "responses average above 0.8 pairwise similarity"

Embeddings = dict[str, list[np.ndarray]]


def n_prompts(groups: Embeddings) -> int:
    """How many prompts every model's groups cover."""
    return len(next(iter(groups.values())))


def intra_similarity(groups: Embeddings) -> np.ndarray:
    """prompts x models matrix of each model's mean pairwise cosine among its own samples."""
    return np.array(
        [[mean_pairwise_similarity(groups[m][p]) for m in groups] for p in range(n_prompts(groups))]
    )


def centroids(groups: Embeddings) -> np.ndarray:
    """models x prompts x d mean vectors: the mean cosine between two sets is the dot product
    of their means, so every cross-set similarity comes from these."""
    return np.array([[g.mean(axis=0) for g in groups[m]] for m in groups])


def similarity_matrix(groups: Embeddings) -> np.ndarray:
    """models x models mean cosine over prompts: the diagonal is intra-model (distinct pairs of
    one model's samples), off-diagonal cells compare two models' samples of the same prompt."""
    c = centroids(groups)
    cross = np.einsum("apd,bpd->abp", c, c).mean(axis=2)
    np.fill_diagonal(cross, intra_similarity(groups).mean(axis=0))
    return cross


def inter_similarity_by_prompt(groups: Embeddings) -> np.ndarray:
    """Per prompt, the mean cosine between different models' samples of that prompt."""
    c = centroids(groups)
    m = c.shape[0]
    pairs = [(a, b) for a in range(m) for b in range(m) if a != b]
    return np.array([np.mean([c[a, p] @ c[b, p] for a, b in pairs]) for p in range(c.shape[1])])


def random_baseline_by_prompt(groups: Embeddings, across_models: bool = True) -> np.ndarray:
    """Per prompt p, the mean cosine between samples of p and samples of the other prompts
    (different models when across_models, else the same model): the random-pair baseline."""
    c = centroids(groups)
    m, n = c.shape[0], c.shape[1]
    pairs = [(a, b) for a in range(m) for b in range(m) if (a != b) == across_models]
    off = ~np.eye(n, dtype=bool)
    return np.array(
        [np.mean([(c[b][off[p]] @ c[a, p]).mean() for a, b in pairs]) for p in range(n)]
    )


def hivemind_by_prompt(groups: Embeddings) -> np.ndarray:
    """Per prompt, the hivemind index (inter-model over intra-model similarity)."""
    return np.array(
        [hivemind_index([groups[m][p] for m in groups]).index for p in range(n_prompts(groups))]
    )


def share_above(intra: np.ndarray, threshold: float = SAME_THRESHOLD) -> np.ndarray:
    """Per prompt, the share of models whose samples average above `threshold` similarity
    (for one model, the prompt's indicator: the paper's per-case statistic)."""
    return (intra > threshold).mean(axis=1)
