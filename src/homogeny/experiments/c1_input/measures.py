"""C1's measures on texts, vectors and answers: similarity matrices, chance-corrected
closeness, diversity, exact paired tests, frequency pairs and the rewriter's reply."""

from __future__ import annotations

import re
from collections.abc import Sequence
from functools import cache
from itertools import zip_longest
from typing import Any

import numpy as np

from homogeny.metrics.answers import mentions_answer
from homogeny.suites.prompt import Prompt


def rouge_l_matrix(texts: Sequence[str]) -> np.ndarray:
    """Pairwise ROUGE-L F1 (Lin 2004; rouge_score tokenisation) as an n x n matrix, the LCS
    done by rapidfuzz in C++; 1 on the diagonal of non-empty texts, 0 for an empty text."""
    from rapidfuzz import process
    from rapidfuzz.distance import LCSseq

    from homogeny.metrics.lexical import rouge_tokens

    vocab: dict[str, int] = {}
    seqs = [[vocab.setdefault(t, len(vocab)) for t in rouge_tokens(x)] for x in texts]
    lengths = np.array([len(s) for s in seqs], dtype=np.float64)
    lcs = process.cdist(seqs, seqs, scorer=LCSseq.similarity, dtype=np.int32).astype(np.float64)
    with np.errstate(divide="ignore", invalid="ignore"):
        f1 = 2 * lcs / (lengths[:, None] + lengths[None, :])
    return np.nan_to_num(f1, nan=0.0)


def cosine_matrix(vectors: np.ndarray) -> np.ndarray:
    """Pairwise cosine similarity of rows."""
    from homogeny.metrics import pairwise_similarity

    return pairwise_similarity(np.asarray(vectors, dtype=np.float64))


def _within_between(sim: np.ndarray, labels: Sequence[str]) -> tuple[np.ndarray, np.ndarray]:
    """Per group: mean similarity of its members' pairs (i != j) and to every other member."""
    lab = np.asarray(labels)
    within, between = [], []
    for g in dict.fromkeys(labels):
        inside = lab == g
        block = sim[np.ix_(inside, inside)]
        k = int(inside.sum())
        within.append((block.sum() - np.trace(block)) / (k * (k - 1)))
        between.append(sim[np.ix_(inside, ~inside)].mean())
    return np.array(within), np.array(between)


def within_minus_between(sim: np.ndarray, labels: Sequence[str]) -> np.ndarray:
    """Per group (family): mean within-group similarity minus mean similarity to the other
    groups. Positive: members of one request resemble each other more than other requests."""
    within, between = _within_between(sim, labels)
    return within - between


def closeness(sim: np.ndarray, labels: Sequence[str]) -> np.ndarray:
    """Per group: chance-corrected closeness of its members, (within - between) / (1 - between),
    like Cohen's kappa: 0 = no closer than unrelated texts, 1 = identical. Comparable across
    similarity spaces with different baselines (hidden states are anisotropic: unrelated texts
    already have cosine ~0.9; ROUGE-L of unrelated prompts is ~0.05)."""
    within, between = _within_between(sim, labels)
    return (within - between) / np.maximum(1.0 - between, 1e-12)


def cross_user_diversity(vectors: np.ndarray) -> float:
    """Diversity of several users' texts for one request: 1 - mean pairwise cosine."""
    from homogeny.metrics import mean_pairwise_similarity

    return 1.0 - mean_pairwise_similarity(np.asarray(vectors, dtype=np.float64))


def is_correct(output: str, answer: str, aliases: Sequence[str] = ()) -> bool:
    """True when the answer or an alias appears in the output as a whole word (any case);
    the shared rule of homogeny.metrics.answers."""
    return mentions_answer(output, answer, aliases)


def distinction_lost(output: str, own: Prompt, anchor: Prompt) -> int:
    """+1 when a near miss's output gives the anchor's answer and not its own (the distinction
    is lost toward the common request), -1 when it gives its own and not the anchor's (kept),
    0 otherwise (neither, or both)."""
    mine = is_correct(output, own.meta["answer"], own.meta.get("answer_aliases", ()))
    theirs = is_correct(output, anchor.meta["answer"], anchor.meta.get("answer_aliases", ()))
    return int(theirs and not mine) - int(mine and not theirs)


def sign_test(differences: Sequence[float] | np.ndarray) -> dict[str, float]:
    """Two-sided exact sign test of the median difference (zeros dropped), scipy binomtest."""
    from scipy.stats import binomtest

    d = np.asarray(differences, dtype=np.float64)
    positive, nonzero = int((d > 0).sum()), int((d != 0).sum())
    p = binomtest(positive, nonzero, 0.5).pvalue if nonzero else 1.0
    return {"positive": positive, "nonzero": nonzero, "p": float(p)}


def mcnemar_exact(
    low_ok: Sequence[bool] | np.ndarray, high_ok: Sequence[bool] | np.ndarray
) -> dict[str, float]:
    """McNemar's exact test on paired correctness: b = only the low-frequency variant right,
    c = only the high-frequency one right; p from a two-sided binomial test on b of b + c."""
    from scipy.stats import binomtest

    lo, hi = np.asarray(low_ok, dtype=bool), np.asarray(high_ok, dtype=bool)
    b, c = int((lo & ~hi).sum()), int((~lo & hi).sum())
    p = binomtest(b, b + c, 0.5).pvalue if b + c else 1.0
    return {"only_low_right": b, "only_high_right": c, "p": float(p)}


def frequency_pair(phrasings: Sequence[Prompt]) -> tuple[Prompt, Prompt] | None:
    """The lowest- and highest-frequency phrasing of one request (sentence_frequency of Lu et
    al. 2026); None when they tie."""
    from homogeny.suites.frequency import log_frequency

    ranked = sorted(phrasings, key=lambda p: log_frequency(p.text))
    low, high = ranked[0], ranked[-1]
    return None if log_frequency(low.text) == log_frequency(high.text) else (low, high)


def clean_rewrite(output: str, original: str) -> str:
    """The rewritten request in a rewriter's reply: its first non-empty line that is not a
    preamble ending in ":", without a "Rewritten request:" label or quotes; the original when
    nothing usable is left."""
    lines = [s.strip() for s in output.splitlines() if s.strip() and not s.strip().endswith(":")]
    line = lines[0] if lines else ""
    label, sep, rest = line.partition(":")
    labelled = re.search(r"rewr|request|plain|version", label, re.IGNORECASE)
    if sep and len(label) < 40 and labelled and rest.strip():
        line = rest.strip()
    line = line.strip("\"'“”*` ").strip()
    return line if 0 < len(line) <= 4 * len(original) + 40 else original


def mean_token_nll(backend: Any, text: str) -> float:
    """Mean negative log-likelihood (nats) per token of `text` under the model, teacher-forced
    (the first token is only context), from exact logits (`Backend.score`)."""
    return -float(np.mean(backend.score("", text).logprobs))


def balanced_families(families: dict[str, list[Prompt]], count: int) -> list[str]:
    """Up to `count` family names taken in turn from each kind (checkable, open), suite order;
    all of them when count is 0."""
    by_kind: dict[str, list[str]] = {}
    for name, group in families.items():
        by_kind.setdefault(group[0].meta["kind"], []).append(name)
    turns = [n for layer in zip_longest(*by_kind.values()) for n in layer if n is not None]
    return turns[:count] if count else turns


@cache
def info(spec: str) -> Any:
    """The ModelInfo of `spec` (cached: read once per model and process)."""
    from homogeny.models import model_info

    return model_info(spec)


def short(spec: str) -> str:
    """A model's short name for log lines."""
    return spec.split(":", 1)[-1].rsplit("/", 1)[-1]
