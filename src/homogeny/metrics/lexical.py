"""Lexical diversity of a set of texts: pairwise overlap, compression, n-gram statistics.

Definitions, tokenisation and rounding follow the `diversity` package (Shaib et al. 2024,
"Standardizing the Measurement of Text Diversity", arXiv 2403.00553) where it has the metric;
docs/metrics.md lists the places where homogeny deliberately differs. Pairwise work is done in
C++ (rapidfuzz) or with numpy over integer n-gram ids, never in a Python loop over pairs.
"""

from __future__ import annotations

import gzip
import lzma
from collections.abc import Sequence
from typing import Literal

import numpy as np
from rapidfuzz import process
from rapidfuzz.distance import LCSseq

from homogeny.errors import ParameterError
from homogeny.metrics.tokens import TokenTable, bleu_tokens, rouge_tokens  # noqa: F401

_SURROGATES = 0xD800
_MAX_CHAR_VOCAB = 0x10FFFF - 0x800
_BLOCK_ROWS = 256


def _check_texts(texts: Sequence[str], minimum: int = 1) -> list[str]:
    texts = list(texts)
    if len(texts) < minimum:
        raise ParameterError(f"need at least {minimum} texts, got {len(texts)}")
    for i, t in enumerate(texts):
        if not isinstance(t, str):
            raise ParameterError(f"text {i} is {type(t).__name__}, not str")
    return texts


def _round(value: float, digits: int | None) -> float:
    return float(value) if digits is None else round(float(value), digits)


def _as_char_sequences(token_lists: list[list[str]]) -> list[str] | list[list[int]]:
    """Map each distinct token to one Unicode character so rapidfuzz compares token sequences
    with its bit-parallel string LCS; fall back to integer lists for huge vocabularies."""
    vocab: dict[str, int] = {}
    ids = [[vocab.setdefault(t, len(vocab)) for t in toks] for toks in token_lists]
    if len(vocab) > _MAX_CHAR_VOCAB:
        return ids
    return ["".join(chr(i if i < _SURROGATES else i + 0x800) for i in seq) for seq in ids]


def _pairwise_f1_sum(
    seqs: Sequence[str] | Sequence[list[int]], lengths: np.ndarray, workers: int
) -> float:
    """Sum over ordered pairs i != j of ROUGE-L F1 = 2PR/(P+R), P = lcs/len_i, R = lcs/len_j."""
    n = len(seqs)
    total = 0.0
    for start in range(0, n, _BLOCK_ROWS):
        stop = min(start + _BLOCK_ROWS, n)
        lcs = process.cdist(
            seqs[start:stop],
            seqs[start:],
            scorer=LCSseq.similarity,
            dtype=np.int32,
            workers=workers,
        ).astype(np.float64)
        len_i = lengths[start:stop, None].astype(np.float64)
        len_j = lengths[None, start:].astype(np.float64)
        with np.errstate(divide="ignore", invalid="ignore"):
            precision = lcs / len_i
            recall = lcs / len_j
            f1 = 2 * precision * recall / (precision + recall)
        f1[~np.isfinite(f1)] = 0.0
        f1[(len_i == 0) | (len_j == 0)] = 0.0
        square = f1[:, : stop - start]
        off_diagonal = square.sum() - np.trace(square)
        total += off_diagonal + 2.0 * f1[:, stop - start :].sum()
    return total


def _bleu_homogenization_scores(texts: list[str], max_n: int = 4) -> np.ndarray:
    """Per anchor i: corpus BLEU of every other text (hypotheses) against text i (the single
    reference), as `evaluate`'s "bleu" computes it (nmt compute_bleu, no smoothing)."""
    table = TokenTable.from_token_lists([bleu_tokens(t) for t in texts])
    n = len(texts)
    lengths = table.lengths.astype(np.float64)
    log_precision = np.zeros(n)
    any_zero = np.zeros(n, dtype=bool)
    for order in range(1, max_n + 1):
        docs, grams, counts = table.doc_gram_counts(order)
        matches = _matches_with_others(docs, grams, counts, n)
        possible_each = np.maximum(lengths - order + 1, 0)
        possible = possible_each.sum() - possible_each
        with np.errstate(divide="ignore", invalid="ignore"):
            p = np.where(possible > 0, matches / np.where(possible > 0, possible, 1), 0.0)
        any_zero |= p <= 0
        log_precision += np.log(np.where(p > 0, p, 1.0)) / max_n
    geo_mean = np.where(any_zero, 0.0, np.exp(log_precision))
    sys_len = lengths.sum() - lengths
    ref_len = (n - 1) * lengths
    with np.errstate(divide="ignore", invalid="ignore"):
        bp = np.where(
            sys_len > ref_len,
            1.0,
            np.where(sys_len > 0, np.exp(1 - ref_len / np.where(sys_len > 0, sys_len, 1)), 0.0),
        )
    return np.asarray(geo_mean * bp)


def _matches_with_others(
    docs: np.ndarray, grams: np.ndarray, counts: np.ndarray, n_docs: int
) -> np.ndarray:
    """For each doc i: sum over its n-grams g of sum over j != i of min(c_j(g), c_i(g)).

    sum_j min(c_j, c) = sum_{t=1..c} #{j : c_j >= t}, so one pass per count level suffices."""
    n_grams = int(grams.max()) + 1 if grams.size else 0
    per_entry = np.zeros(counts.shape[0], dtype=np.float64)
    level = 1
    active = np.arange(counts.shape[0])
    while active.size:
        at_least = np.bincount(grams[active], minlength=n_grams)
        per_entry[active] += at_least[grams[active]]
        level += 1
        active = active[counts[active] >= level]
    per_entry -= counts  # remove the doc's match with itself
    return np.bincount(docs, weights=per_entry, minlength=n_docs)


# ---- metrics -----------------------------------------------------------------------------
def homogenization_score(
    texts: Sequence[str],
    measure: Literal["rougel", "bleu"] = "rougel",
    use_stemmer: bool = False,
    digits: int | None = 3,
    workers: int = -1,
) -> float:
    """Homogenization score (Padmakumar & He 2023, "Does Writing with Language Models Reduce
    Content Diversity?", arXiv 2309.05196; `diversity.homogenization_score`).

    rougel: mean over ordered pairs i != j of ROUGE-L F1 (Lin 2004) with rouge_score's
    tokenisation; F1 = 2PR/(P+R) from the token LCS (rapidfuzz, C++); 0 for an empty text.
    bleu: mean over anchors i of corpus BLEU-4 (13a tokens, no smoothing) of the other n-1
    texts against text i. Rounded to `digits` like the reference (None: unrounded).
    Divergences from `diversity` 0.3.1: it returns 1.0 when every pair scores 0 (an inverted
    "all identical" guard), homogeny returns 0; its bleu divides each anchor's BLEU by n-1 a
    second time, homogeny does not.
    """
    texts = _check_texts(texts, minimum=2)
    if measure == "rougel":
        tokens = [rouge_tokens(t, use_stemmer) for t in texts]
        lengths = np.array([len(t) for t in tokens], dtype=np.int64)
        total = _pairwise_f1_sum(_as_char_sequences(tokens), lengths, workers)
        n = len(texts)
        return _round(total / (n * (n - 1)), digits)
    if measure == "bleu":
        return _round(float(_bleu_homogenization_scores(texts).mean()), digits)
    raise ParameterError(f"unknown homogenization measure {measure!r}; use 'rougel' or 'bleu'")


def compression_ratio(
    texts: Sequence[str], algorithm: Literal["gzip", "xz"] = "gzip", digits: int | None = 3
) -> float:
    """Compression ratio (Shaib et al. 2024; `diversity.compression_ratio`): size in bytes of
    the texts joined by single spaces (UTF-8) divided by its compressed size; higher means
    more repetitive. gzip at level 9 (a bare gzip stream) or xz (preset 6, CRC64 container,
    byte-identical to the reference's .xz file). Divergence: `diversity` 0.3.1 gzips the gzip
    stream a second time inside a named .gz file, which adds ~40 bytes to the denominator.
    """
    texts = _check_texts(texts)
    raw = " ".join(texts).encode("utf-8")
    if algorithm == "gzip":
        compressed = len(gzip.compress(raw, compresslevel=9, mtime=0))
    elif algorithm == "xz":
        compressed = len(lzma.compress(raw, format=lzma.FORMAT_XZ))
    else:
        raise ParameterError(f"unknown compression algorithm {algorithm!r}; use 'gzip' or 'xz'")
    return _round(len(raw) / compressed, digits)


def ngram_diversity_score(texts: Sequence[str], num_n: int = 4, digits: int | None = 3) -> float:
    """N-gram diversity (Padmakumar & He 2023; Meister et al. 2023; `diversity`'s reference
    definition): sum over n = 1..num_n of (#distinct n-grams / #n-grams) over the texts joined
    by one space and split on single spaces, so n-grams cross document boundaries exactly as
    `diversity.ngram_diversity_score` 0.3.1 counts them. An order with no n-grams adds 0.
    See `ngram_diversity_score_per_document` for the variant that respects boundaries."""
    texts = _check_texts(texts)
    table = TokenTable.from_token_lists([" ".join(texts).split(" ")])
    return _round(_ngram_diversity(table, num_n), digits)


def ngram_diversity_score_per_document(
    texts: Sequence[str], num_n: int = 4, digits: int | None = 3
) -> float:
    """N-gram diversity with n-grams taken inside each document only (same single-space
    tokenisation as the reference definition; the fix `diversity` made upstream): sum over
    n = 1..num_n of #distinct n-grams / #n-grams, pooled over documents."""
    texts = _check_texts(texts)
    table = TokenTable.from_token_lists([t.split(" ") for t in texts])
    return _round(_ngram_diversity(table, num_n), digits)


def _ngram_diversity(table: TokenTable, num_n: int) -> float:
    if num_n < 1:
        raise ParameterError(f"num_n must be >= 1, got {num_n}")
    score = 0.0
    for order in range(1, num_n + 1):
        ids = table.ngrams(order)
        if ids.size:
            score += np.unique(ids).size / ids.size
    return score


def distinct_n(texts: Sequence[str], n: int) -> float:
    """distinct-n (Li et al. 2016, "A Diversity-Promoting Objective Function for Neural
    Conversation Models"): #distinct n-grams / #n-grams, n-grams taken inside each text
    (whitespace tokens, str.split()) and pooled over the set; 0 when there are no n-grams."""
    texts = _check_texts(texts)
    if n < 1:
        raise ParameterError(f"n must be >= 1, got {n}")
    ids = TokenTable.from_token_lists([t.split() for t in texts]).ngrams(n)
    return float(np.unique(ids).size / ids.size) if ids.size else 0.0


def self_repetition_score(texts: Sequence[str], n: int = 4) -> float:
    """Self-repetition (Salkar et al. 2022, "Self-Repetition in Abstractive Neural
    Summarizers"; `diversity.self_repetition_score`): mean over texts of
    log(1 + sum over the text's distinct n-grams of the number of OTHER texts containing it),
    whitespace tokens (str.split()). Unrounded, as the reference."""
    texts = _check_texts(texts)
    table = TokenTable.from_token_lists([t.split() for t in texts])
    docs, grams, _ = table.doc_gram_counts(n)
    if grams.size == 0:
        return 0.0
    doc_frequency = np.bincount(grams)
    per_doc = np.bincount(docs, weights=doc_frequency[grams] - 1.0, minlength=len(texts))
    return float(np.log(per_doc + 1.0).mean())


def self_bleu(texts: Sequence[str], max_n: int = 4, digits: int | None = None) -> float:
    """Self-BLEU (Zhu et al. 2018, "Texygen"): mean over texts of sentence BLEU-`max_n` of the
    text against all other texts as references, uniform weights, NLTK smoothing method1
    (epsilon 0.1 for zero counts), closest-reference-length brevity penalty, as
    `nltk.translate.bleu_score.sentence_bleu`; 13a tokens (nltk.word_tokenize needs corpus data).
    Higher means less diverse."""
    texts = _check_texts(texts, minimum=2)
    table = TokenTable.from_token_lists([bleu_tokens(t) for t in texts])
    n = len(texts)
    lengths = table.lengths
    log_p = np.zeros(n)
    no_unigram_match = np.zeros(n, dtype=bool)
    for order in range(1, max_n + 1):
        docs, grams, counts = table.doc_gram_counts(order)
        clipped = np.minimum(counts, _max_count_in_others(docs, grams, counts))
        numerator = np.bincount(docs, weights=clipped, minlength=n)
        denominator = np.maximum(1, lengths - order + 1).astype(np.float64)
        if order == 1:
            no_unigram_match = numerator == 0
        p = np.where(numerator == 0, 0.1 / denominator, numerator / denominator)
        log_p += np.log(p) / max_n
    closest = _closest_other_lengths(lengths)
    hyp = lengths.astype(np.float64)
    with np.errstate(divide="ignore"):
        bp = np.where(
            hyp > closest,
            1.0,
            np.where(hyp == 0, 0.0, np.exp(1 - closest / np.where(hyp == 0, 1, hyp))),
        )
    scores = np.where(no_unigram_match, 0.0, bp * np.exp(log_p))
    return _round(float(scores.mean()), digits)


def _max_count_in_others(docs: np.ndarray, grams: np.ndarray, counts: np.ndarray) -> np.ndarray:
    """For each (doc, gram) entry: the largest count of that gram in any other doc."""
    if grams.size == 0:
        return counts
    order = np.lexsort((-counts, grams))
    g_sorted, c_sorted, d_sorted = grams[order], counts[order], docs[order]
    first = np.r_[True, g_sorted[1:] != g_sorted[:-1]]
    starts = np.flatnonzero(first)
    n_grams = int(grams.max()) + 1
    max1 = np.zeros(n_grams, dtype=counts.dtype)
    max1_doc = np.full(n_grams, -1)
    max1[g_sorted[starts]] = c_sorted[starts]
    max1_doc[g_sorted[starts]] = d_sorted[starts]
    max2 = np.zeros(n_grams, dtype=counts.dtype)
    second = np.flatnonzero(~first & np.r_[False, first[:-1]])
    max2[g_sorted[second]] = c_sorted[second]
    return np.where(max1_doc[grams] == docs, max2[grams], max1[grams])


def _closest_other_lengths(lengths: np.ndarray) -> np.ndarray:
    """For each i: the length among the others closest to len_i, ties to the shorter (NLTK)."""
    n = lengths.size
    order = np.argsort(lengths, kind="stable")
    sorted_lengths = lengths[order]
    rank = np.empty(n, dtype=np.int64)
    rank[order] = np.arange(n)
    result = np.empty(n, dtype=np.float64)
    for i in range(n):  # O(n): each text looks at its neighbours in sorted order only
        r = rank[i]
        candidates = [sorted_lengths[j] for j in (r - 1, r + 1) if 0 <= j < n]
        hyp = lengths[i]
        result[i] = min(candidates, key=lambda ref: (abs(int(ref) - int(hyp)), int(ref)))
    return result
