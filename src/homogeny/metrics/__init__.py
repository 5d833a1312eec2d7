"""homogeny.metrics: pure, fast functions on texts, vectors and logprobs; no I/O, no models.

`embed` (homogeny.embeddings) is re-exported lazily: importing this package never imports
torch. Definitions, sources and the places where reference packages are wrong: docs/metrics.md.
"""

from __future__ import annotations

from typing import Any

from homogeny.metrics.distributional import sequence_logprob, token_entropy, top1_mass
from homogeny.metrics.lexical import (
    compression_ratio,
    distinct_n,
    homogenization_score,
    ngram_diversity_score,
    ngram_diversity_score_per_document,
    self_bleu,
    self_repetition_score,
)
from homogeny.metrics.reliability import (
    cronbach_alpha,
    exact_repeat_rate,
    judge_reliability,
    mcdonalds_omega,
    omega_total_group_factors,
)
from homogeny.metrics.representational import linear_cka, mutual_knn_alignment
from homogeny.metrics.semantic import (
    HivemindIndex,
    distinct_at_k,
    equivalence_classes,
    hivemind_index,
    mean_pairwise_similarity,
    pairwise_similarity,
    vendi_score,
)
from homogeny.metrics.stats import (
    BootstrapResult,
    TestResult,
    bootstrap_ci,
    paired_difference_ci,
    permutation_test,
)

__all__ = [
    "BootstrapResult",
    "HivemindIndex",
    "TestResult",
    "bootstrap_ci",
    "compression_ratio",
    "cronbach_alpha",
    "distinct_at_k",
    "distinct_n",
    "embed",
    "equivalence_classes",
    "exact_repeat_rate",
    "hivemind_index",
    "homogenization_score",
    "judge_reliability",
    "linear_cka",
    "mcdonalds_omega",
    "mean_pairwise_similarity",
    "mutual_knn_alignment",
    "ngram_diversity_score",
    "ngram_diversity_score_per_document",
    "omega_total_group_factors",
    "paired_difference_ci",
    "pairwise_similarity",
    "permutation_test",
    "self_bleu",
    "self_repetition_score",
    "sequence_logprob",
    "token_entropy",
    "top1_mass",
    "vendi_score",
]


def __getattr__(name: str) -> Any:
    if name == "embed":  # imported on first use: it pulls in torch and sentence-transformers
        from homogeny.embeddings import embed

        return embed
    raise AttributeError(f"module 'homogeny.metrics' has no attribute {name!r}")
