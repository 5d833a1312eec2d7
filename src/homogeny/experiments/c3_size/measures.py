"""C3's measurements on plain data (no model needed): distinct@k, validity, effective
diversity, Vendi within token budgets, per-token concentration and size slopes."""

from __future__ import annotations

import json
import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from scipy.stats import hypergeom

from homogeny.metrics import equivalence_classes, top1_mass, vendi_score
from homogeny.metrics.lexical import rouge_tokens

TOKEN_BUDGETS = (32, 64, 128, 256, 512, 1024, 2048)
MIN_WORDS, MIN_UNIQUE_WORD_SHARE = 5, 0.3


@dataclass
class ModelRun:
    """One model's identity and its samples for every task prompt (rows in sample order)."""

    spec: str
    label: str
    params: int
    kind: str
    family: str
    rows: dict[str, list[dict[str, Any]]] = field(default_factory=dict)


@dataclass
class PromptMeasures:
    """What C3 measures on one model's K samples of one prompt."""

    distinct_curve: np.ndarray  # expected distinct@k, k = 1..K (all outputs, embedding classes)
    effective_unique: int  # distinct semantic classes among valid outputs
    valid_share: float
    vendi_by_budget: np.ndarray  # semantic Vendi of the samples that fit each TOKEN_BUDGETS entry
    tokens: int
    seconds: float
    top1: float  # mean per-token top-1 probability
    entropy: float  # mean per-token entropy (nats) of the full next-token distribution
    n_samples: int


def expected_distinct_curve(labels: Sequence[int], k_max: int | None = None) -> np.ndarray:
    """distinct@k (NoveltyBench, Zhang et al. 2025) for k = 1..k_max, as its expectation over
    which k of the n exchangeable draws are taken: sum over classes c of P(c appears in k
    draws without replacement) = 1 - hypergeom.pmf(0; n, n_c, k). Smoother than first-k."""
    counts = np.bincount(np.asarray(labels, dtype=np.int64))
    counts = counts[counts > 0]
    n = int(counts.sum())
    ks = np.arange(1, (k_max or n) + 1)
    return np.array([float(np.sum(1 - hypergeom.pmf(0, n, counts, k))) for k in ks])


def text_is_valid(text: str) -> bool:
    """A usable synthetic text: at least MIN_WORDS words, not a degenerate loop (at least
    MIN_UNIQUE_WORD_SHARE of its words distinct)."""
    words = rouge_tokens(text)
    return len(words) >= MIN_WORDS and len(set(words)) / len(words) >= MIN_UNIQUE_WORD_SHARE


def effective_unique(labels: Sequence[Any], valid: Sequence[bool]) -> int:
    """Number of distinct classes among valid outputs only (invalid outputs count for nothing),
    the "effective diversity" of Shypula et al. 2025."""
    return len({lab for lab, ok in zip(labels, valid) if ok})


def vendi_within_budgets(
    embeddings: np.ndarray, tokens: Sequence[int], budgets: Sequence[int] = TOKEN_BUDGETS
) -> np.ndarray:
    """Semantic Vendi score (Friedman & Dieng 2023) of the first samples whose cumulative
    generated tokens fit in each budget; 0 where not even one sample fits."""
    cum = np.cumsum(np.asarray(tokens))
    out = []
    for budget in budgets:
        m = int(np.searchsorted(cum, budget, side="right"))
        out.append(vendi_score(embeddings[:m]) if m else 0.0)
    return np.array(out)


def concentration(row: dict[str, Any]) -> tuple[float, float]:
    """(mean top-1 probability, mean entropy in nats) over a sample's generation steps, from the
    stored per-step alternatives and full-distribution entropies."""
    data = json.loads(row.get("top_logprobs_json") or "{}")
    top, ent = data.get("top") or [], data.get("entropy") or []
    t1 = float(np.mean(top1_mass(top))) if top else math.nan
    return t1, float(np.mean(ent)) if ent else math.nan


def size_slope(values: np.ndarray, log_params: np.ndarray) -> float:
    """OLS slope of per-model values against log10(parameters)."""
    x = log_params - log_params.mean()
    return float((x * (values - values.mean())).sum() / (x * x).sum())


def measure_prompt(
    rows: list[dict[str, Any]],
    embeddings: np.ndarray,
    function_results: Sequence[Any] | None = None,
) -> PromptMeasures:
    """C3's measures on one model's samples of one task prompt (embeddings: one row per sample;
    function_results: the sandbox's verdicts for a function task, None for a text task)."""
    labels = equivalence_classes(embeddings)
    if function_results is not None:
        valid = [r.valid for r in function_results]
        semantic: Sequence[Any] = [r.semantic_class for r in function_results]
    else:
        valid = [text_is_valid(r["text"]) for r in rows]
        semantic = _valid_text_classes(embeddings, valid)
    tokens = [int(r["n_tokens"]) for r in rows]
    conc = np.array([concentration(r) for r in rows])
    return PromptMeasures(
        distinct_curve=expected_distinct_curve(labels),
        effective_unique=effective_unique(semantic, valid),
        valid_share=float(np.mean(valid)),
        vendi_by_budget=vendi_within_budgets(embeddings, tokens),
        tokens=sum(tokens),
        seconds=float(sum(float(r["gen_seconds"] or 0) for r in rows)),
        top1=_nanmean(conc[:, 0]),
        entropy=_nanmean(conc[:, 1]),
        n_samples=len(rows),
    )


def _nanmean(values: np.ndarray) -> float:
    return float(np.nanmean(values)) if np.isfinite(values).any() else math.nan


def _valid_text_classes(embeddings: np.ndarray, valid: Sequence[bool]) -> list[int]:
    """Embedding classes computed among valid texts only (-1 for invalid ones)."""
    idx = [i for i, ok in enumerate(valid) if ok]
    labels = [-1] * len(valid)
    for i, lab in zip(idx, equivalence_classes(embeddings[idx]) if idx else []):
        labels[i] = lab
    return labels
