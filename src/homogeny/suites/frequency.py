"""Sentence frequency and frequency-ward rewriting, after Lu et al. 2026, "Adam's Law: Textual
Frequency Law on Large Language Models" (arXiv 2604.02176).

The paper scores a sentence by the geometric mean of its content words' corpus frequencies
(its `frequency.py` / `newfrequency.py`): digits and punctuation are deleted, the text is
lowercased and tokenised, NLTK's English stopwords are dropped, and an unknown word gets a
floor probability (epsilon = 1e-8). We keep that cleaning exactly and take the word
frequencies from `wordfreq` (which ships its data) instead of the Brown corpus.
"""

from __future__ import annotations

import math
import re
from functools import lru_cache
from importlib import resources

import wordfreq

# Floor for a word wordfreq does not know: the paper's epsilon (newfrequency.py), which is
# also the smallest frequency wordfreq's large English list records (Zipf 1.0).
UNKNOWN_WORD_FREQUENCY = 1e-8

# NLTK's English stopword list (nltk.corpus.stopwords.words("english"), 179 words), embedded
# so no corpus download is needed. The paper deletes punctuation before filtering, so the
# entries with an apostrophe never match; they are kept to mirror the list as published.
_NLTK_ENGLISH_STOPWORD_TEXT = """
i me my myself we our ours ourselves you you're you've you'll you'd your yours yourself
yourselves he him his himself she she's her hers herself it it's its itself they them their
theirs themselves what which who whom this that that'll these those am is are was were be been
being have has had having do does did doing a an the and but if or because as until while of
at by for with about against between into through during before after above below to from up
down in out on off over under again further then once here there when where why how all any
both each few more most other some such no nor not only own same so than too very s t can will
just don don't should should've now d ll m o re ve y ain aren aren't couldn couldn't didn
didn't doesn doesn't hadn hadn't hasn hasn't haven haven't isn isn't ma mightn mightn't mustn
mustn't needn needn't shan shan't shouldn shouldn't wasn wasn't weren weren't won won't wouldn
wouldn't
"""
NLTK_ENGLISH_STOPWORDS = frozenset(_NLTK_ENGLISH_STOPWORD_TEXT.split())

_DIGITS = re.compile(r"\d+")
_NOT_WORD_OR_SPACE = re.compile(r"[^\w\s]")
# NLTK's word_tokenize (used by the paper) splits a few fused forms ("cannot" -> "can not",
# "gonna" -> "gon na"); on text already stripped of punctuation these are its only splits.
_TREEBANK_FUSED = re.compile(
    r"\b(can)(not)\b|\b(gim)(me)\b|\b(gon)(na)\b|\b(got)(ta)\b|\b(lem)(me)\b|\b(wan)(na)(?=\s)"
)
# A word the rewriter may replace: letters only, not glued to a hyphen, apostrophe or digit,
# so compounds ("well-known") and contractions are left alone.
_REPLACEABLE_WORD = re.compile(r"(?<![\w'’-])[A-Za-z]+(?![\w'’-])")


def content_words(text: str, lang: str = "en") -> list[str]:
    """The words the paper's frequency is averaged over: lowercased, digits and punctuation
    deleted (as in Lu et al. 2026, frequency.py), English stopwords removed (NLTK list)."""
    cleaned = _NOT_WORD_OR_SPACE.sub("", _DIGITS.sub("", text)).lower()
    cleaned = _TREEBANK_FUSED.sub(lambda m: " ".join(g for g in m.groups() if g), cleaned)
    words = cleaned.split()
    if lang == "en":
        words = [w for w in words if w not in NLTK_ENGLISH_STOPWORDS]
    return words


def word_frequency(word: str, lang: str = "en") -> float:
    """wordfreq's frequency of one word (share of all tokens), floored at the paper's epsilon."""
    return float(wordfreq.word_frequency(word, lang, minimum=UNKNOWN_WORD_FREQUENCY))


def log_frequency(text: str, lang: str = "en") -> float:
    """Mean natural log of the content words' frequencies (Lu et al. 2026): the log of
    `sentence_frequency`; -inf when the text has no content word."""
    words = content_words(text, lang)
    if not words:
        return -math.inf
    return math.fsum(math.log(word_frequency(w, lang)) for w in words) / len(words)


def sentence_frequency(text: str, lang: str = "en") -> float:
    """Textual frequency of a sentence (Lu et al. 2026, "Adam's Law"): the geometric mean of
    wordfreq frequencies over its content words. Higher means more common wording; 0.0 when
    the text has no content word (the paper's convention)."""
    value = log_frequency(text, lang)
    return 0.0 if value == -math.inf else math.exp(value)


@lru_cache(maxsize=1)
def synonym_table() -> dict[str, str]:
    """The built-in rare -> most frequent synonym table (suites/data/frequent_synonyms.txt).

    A rare word listed with several synonyms maps to the one wordfreq rates most frequent.
    """
    path = resources.files("homogeny.suites") / "data" / "frequent_synonyms.txt"
    candidates: dict[str, list[str]] = {}
    for line in path.read_text(encoding="utf-8").splitlines():
        if not line.strip() or line.startswith("#"):
            continue
        rare, common = line.split("\t")
        candidates.setdefault(rare.strip().lower(), []).append(common.strip().lower())
    return {rare: max(options, key=word_frequency) for rare, options in candidates.items()}


def _match_case(template: str, word: str) -> str:
    if template.isupper() and len(template) > 1:
        return word.upper()
    if template[0].isupper():
        return word[0].upper() + word[1:]
    return word


def rewrite_to_frequent(text: str, lang: str = "en") -> str:
    """Move a prompt toward higher-frequency wording (the input drift of Lu et al. 2026, C1):
    each rare word found in the synonym table becomes its most frequent synonym, case kept.

    Deterministic, left to right. A replacement is kept only if the sentence frequency does not
    drop, so the result never scores lower than the input.
    """
    table = synonym_table()
    result = text
    offset = 0
    for match in _REPLACEABLE_WORD.finditer(text):
        original = match.group(0)
        common = table.get(original.lower())
        if common is None or word_frequency(common, lang) <= word_frequency(original, lang):
            continue
        start, end = match.start() + offset, match.end() + offset
        candidate = result[:start] + _match_case(original, common) + result[end:]
        if log_frequency(candidate, lang) >= log_frequency(result, lang):
            result = candidate
            offset = len(result) - len(text)
    return result
