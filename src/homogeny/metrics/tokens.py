"""Tokenisers and the n-gram id table the lexical metrics share.

ROUGE tokenisation follows rouge-score (Lin 2004; Google's implementation), BLEU tokenisation
sacrebleu's 13a, as the `diversity` package uses them (Shaib et al. 2024).
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from functools import cache
from typing import Any

import numpy as np

from homogeny.errors import ParameterError

_ROUGE_NON_ALNUM = re.compile(r"[^a-z0-9]+")
_ROUGE_SPACES = re.compile(r"\s+")
_ROUGE_VALID = re.compile(r"^[a-z0-9]+$")


# ---- tokenisers ------------------------------------------------------------------------
@cache
def _porter_stem(word: str) -> str:
    return str(_porter().stem(word))


@cache
def _porter() -> Any:
    try:  # nltk only when stemming is asked for: rouge_score stems with nltk's Porter stemmer
        from nltk.stem import porter
    except ImportError:
        raise ParameterError("use_stemmer=True needs nltk; run: pip install nltk") from None
    return porter.PorterStemmer()


def rouge_tokens(text: str, use_stemmer: bool = False) -> list[str]:
    """Tokenise exactly as rouge_score's DefaultTokenizer (Lin 2004's ROUGE): lowercase, every
    run of characters outside [a-z0-9] becomes a space, optional Porter stemming of tokens
    longer than 3 characters."""
    text = _ROUGE_NON_ALNUM.sub(" ", text.lower())
    tokens = _ROUGE_SPACES.split(text)
    if use_stemmer:
        tokens = [_porter_stem(t) if len(t) > 3 else t for t in tokens]
    return [t for t in tokens if _ROUGE_VALID.match(t)]


_13A_RULES = (
    (re.compile(r"([\{-\~\[-\` -\&\(-\+\:-\@\/])"), r" \1 "),
    (re.compile(r"([^0-9])([\.,])"), r"\1 \2 "),
    (re.compile(r"([\.,])([^0-9])"), r" \1 \2"),
    (re.compile(r"([0-9])(-)"), r"\1 \2 "),
)


def bleu_tokens(text: str) -> list[str]:
    """Tokenise with mteval-v13a rules, as sacrebleu's and `evaluate`'s default "13a" tokenizer
    (Post 2018, "A Call for Clarity in Reporting BLEU Scores")."""
    line = text.replace("<skipped>", "").replace("-\n", "").replace("\n", " ")
    if "&" in line:
        line = (
            line.replace("&quot;", '"')
            .replace("&amp;", "&")
            .replace("&lt;", "<")
            .replace("&gt;", ">")
        )
    line = f" {line} "
    for pattern, repl in _13A_RULES:
        line = pattern.sub(repl, line)
    return line.split()


# ---- n-gram ids ----------------------------------------------------------------------------
class TokenTable:
    """Token lists as one integer array, with exact integer ids for n-grams of any order.

    Written here because no library gives exact n-gram ids over millions of tokens without a
    Python loop: id_k(i) = unique-rank of (id_{k-1}(i), token(i+k-1)), built order by order."""

    def __init__(
        self, tokens: np.ndarray, doc_of: np.ndarray, lengths: np.ndarray, vocab_size: int
    ) -> None:
        self.tokens = tokens
        self.doc_of = doc_of
        self.lengths = lengths
        self.vocab_size = max(vocab_size, 1)
        self._ids: dict[int, np.ndarray] = {1: tokens}

    @classmethod
    def from_token_lists(cls, token_lists: Sequence[Sequence[str]]) -> TokenTable:
        vocab: dict[str, int] = {}
        flat = [vocab.setdefault(t, len(vocab)) for toks in token_lists for t in toks]
        lengths = np.array([len(toks) for toks in token_lists], dtype=np.int64)
        doc_of = np.repeat(np.arange(len(token_lists), dtype=np.int64), lengths)
        return cls(np.array(flat, dtype=np.int64), doc_of, lengths, len(vocab))

    def _all_ids(self, order: int) -> np.ndarray:
        """Ids of the n-grams starting at every position 0..N-order (boundaries ignored)."""
        if order not in self._ids:
            previous = self._all_ids(order - 1)
            n_start = self.tokens.size - order + 1
            if n_start <= 0:
                return np.zeros(0, dtype=np.int64)
            key = previous[:n_start] * self.vocab_size + self.tokens[order - 1 :]
            self._ids[order] = np.unique(key, return_inverse=True)[1].astype(np.int64).ravel()
        return self._ids[order]

    def _valid_starts(self, order: int) -> np.ndarray:
        n_start = self.tokens.size - order + 1
        if n_start <= 0:
            return np.zeros(0, dtype=bool)
        return self.doc_of[:n_start] == self.doc_of[order - 1 :]

    def ngrams(self, order: int) -> np.ndarray:
        """Ids of every n-gram of `order` that lies inside one document."""
        ids = self._all_ids(order)
        return ids[self._valid_starts(order)] if ids.size else ids

    def doc_gram_counts(self, order: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """(doc, gram, count) for every distinct n-gram of each document; grams relabelled
        0..G-1."""
        ids = self._all_ids(order)
        if ids.size == 0:
            empty = np.zeros(0, dtype=np.int64)
            return empty, empty, empty
        valid = self._valid_starts(order)
        docs, grams = self.doc_of[: ids.size][valid], ids[valid]
        n_grams = int(ids.max()) + 1
        keys, counts = np.unique(docs * n_grams + grams, return_counts=True)
        grams = np.unique(keys % n_grams, return_inverse=True)[1].astype(np.int64).ravel()
        return keys // n_grams, grams, counts.astype(np.int64)


# ---- helpers -----------------------------------------------------------------------------
