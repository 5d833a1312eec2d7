"""Lexical metrics: equal to the reference packages on model-like text, right where they are
wrong."""

from __future__ import annotations

import gzip
import importlib.util
import random
from pathlib import Path
from types import ModuleType

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from homogeny.metrics import lexical as L

# Varied, model-like outputs: chat boilerplate, refusals, code, lists, numbers, unicode,
# HTML entities, empty and punctuation-only texts, repetition.
TEXTS = [
    "The quick brown fox jumps over the lazy dog.",
    "A quick brown dog jumps over the lazy fox!",
    (
        "Sure! Here's a short poem about the ocean:\n\nWaves roll in,"
        " waves roll out,\nthe tide knows what it's about."
    ),
    (
        "Here is a short poem about the sea:\n\nThe sea is wide, the sea"
        " is deep,\nit rocks the sailors off to sleep."
    ),
    "Photosynthesis is the process by which plants convert light energy into chemical energy.",
    "Plants use photosynthesis to turn sunlight, water and carbon dioxide into glucose and oxygen.",
    "I'm sorry, but I can't help with that request.",
    "I'm sorry, but I cannot assist with that.",
    "The capital of France is Paris.",
    "Paris is the capital of France.",
    "1. Preheat the oven to 180°C.\n2. Mix flour, sugar, and eggs.\n3. Bake for 25 minutes.",
    (
        "To bake a simple cake: preheat your oven, mix the dry and wet"
        " ingredients, then bake for about 25 minutes."
    ),
    "def add(a, b):\n    return a + b",
    (
        "Here's a Python function that adds two"
        " numbers:\n\n```python\ndef add(x, y):\n    return x + y\n```"
    ),
    "Once upon a time, in a land far away, there lived a curious little dragon named Ember.",
    "Once upon a time there was a small dragon who loved to read books in the castle library.",
    "Machine learning models learn patterns from data rather than following explicit rules.",
    "Unlike traditional programs, machine-learning systems infer rules from examples.",
    "The mitochondria is the powerhouse of the cell.",
    "Water boils at 100 degrees Celsius at sea level.",
    "At sea level, water boils at 100 °C (212 °F).",
    "Great question! There are several factors to consider: cost, time, and quality.",
    "Great question! Let's break it down step by step.",
    "Honestly, it depends on what you value most — speed or accuracy.",
    "The Eiffel Tower was completed in 1889 for the World's Fair.",
    "Built for the 1889 Exposition Universelle, the Eiffel Tower is 330 m tall.",
    "Ok.",
    "",
    "   ",
    "!!!",
    "Sure, here you go: 3.14159, 2.71828, 1.41421.",
    "Numbers: 3,14 and 2,71 are written with decimal commas in French.",
    "Il était une fois une petite fille qui s'appelait Chloé.",
    "日本語のテキストも含まれています。",
    "Running runners ran; the runner runs running races.",
    "Connected connections connect; connecting is connective.",
    "&quot;Quoted&quot; text &amp; HTML entities &lt;b&gt;bold&lt;/b&gt;",
    "Line one-\nline two\nline three  with   extra   spaces",
    "the the the the the the the the",
    "to be or not to be that is the question to be",
]


def _diversity_module(name: str) -> ModuleType:
    """Load one module of the `diversity` package from its file, without its __init__ (which
    imports spacy, evaluate and openai and tries to download nltk data: ~30 s)."""
    spec = importlib.util.find_spec("diversity")
    if spec is None or not spec.submodule_search_locations:
        pytest.skip("the `diversity` package is not installed (pip install 'homogeny[dev]')")
    path = Path(next(iter(spec.submodule_search_locations))) / f"{name}.py"
    mod_spec = importlib.util.spec_from_file_location(f"_diversity_{name}", path)
    assert mod_spec is not None and mod_spec.loader is not None
    module = importlib.util.module_from_spec(mod_spec)
    try:
        mod_spec.loader.exec_module(module)
    except ImportError as exc:
        pytest.skip(f"diversity.{name} cannot import: {exc}")
    return module


def _corpus(n: int, seed: int = 0) -> list[str]:
    """Model-like texts: shared openers and a small vocabulary, so pairs overlap."""
    rng = random.Random(seed)
    openers = ["Sure! Here is", "Here's", "Certainly, here is", "Of course. This is", ""]
    words = [
        "the",
        "a",
        "cat",
        "dog",
        "sat",
        "ran",
        "on",
        "under",
        "mat",
        "tree",
        "quickly",
        "slowly",
        "red",
        "blue",
        "big",
        "small",
        "and",
        "then",
        "it",
        "was",
    ]
    return [
        f"{rng.choice(openers)} "
        + " ".join(rng.choice(words) for _ in range(rng.randint(3, 30)))
        + rng.choice([".", "!", "", "\n"])
        for _ in range(n)
    ]


# ---- parity with the reference packages ----------------------------------------------------
def test_compression_xz_equals_diversity() -> None:
    ref = _diversity_module("compression")
    for texts in (TEXTS, _corpus(200)):
        assert L.compression_ratio(texts, "xz") == ref.compression_ratio(texts, "xz")


def test_gzip_ratio_diverges_from_diversity_double_gzip() -> None:
    """diversity 0.3.1 writes gzip.compress(data) into a GzipFile named compressed.gz: the
    stream is gzipped twice and the file name is stored. homogeny compresses once."""
    ref = _diversity_module("compression")
    raw = " ".join(TEXTS).encode()
    assert L.compression_ratio(TEXTS, "gzip") == round(len(raw) / len(gzip.compress(raw)), 3)
    double = len(gzip.compress(gzip.compress(raw))) + len(b"compressed\0")
    assert ref.compression_ratio(TEXTS, "gzip") == round(len(raw) / double, 3)
    assert L.compression_ratio(TEXTS, "gzip") > ref.compression_ratio(TEXTS, "gzip")


def test_ngram_diversity_equals_diversity() -> None:
    ref = _diversity_module("ngram_diversity")
    for texts in (TEXTS, _corpus(300)):
        for num_n in (1, 2, 4):
            assert L.ngram_diversity_score(texts, num_n) == ref.ngram_diversity_score(texts, num_n)


def test_ngram_diversity_reference_counts_ngrams_across_documents() -> None:
    """The reference joins all texts, so 'b c' from 'a b' + 'c d' counts as a bigram."""
    texts = ["a b", "c d"]
    # across: bigrams (a b) (b c) (c d): 3 distinct / 3; per document: (a b) (c d): 2 / 2
    assert L.ngram_diversity_score(texts, num_n=2) == 2.0
    assert L.ngram_diversity_score_per_document(texts, num_n=2) == 2.0
    repeated = ["x y", "x y"]  # across: (x y)(y x)(x y) -> 2/3; per doc: (x y)(x y) -> 1/2
    assert L.ngram_diversity_score(repeated, num_n=2) == round(0.5 + 2 / 3, 3)
    assert L.ngram_diversity_score_per_document(repeated, num_n=2) == 1.0


def test_self_repetition_equals_diversity() -> None:
    ref = _diversity_module("self_repetition")
    for texts in (TEXTS, _corpus(300)):
        assert L.self_repetition_score(texts) == pytest.approx(
            ref.self_repetition_score(texts, verbose=False), abs=1e-12
        )


def _rouge_reference_mean(texts: list[str], use_stemmer: bool) -> float:
    """diversity's loop: for each i, mean over j != i of rouge_score ROUGE-L F1, then the mean."""
    from rouge_score import rouge_scorer

    scorer = rouge_scorer.RougeScorer(["rougeL"], use_stemmer=use_stemmer)
    n = len(texts)
    total = 0.0
    for i, ref in enumerate(texts):
        total += sum(
            scorer.score(p, ref)["rougeL"].fmeasure for j, p in enumerate(texts) if j != i
        ) / (n - 1)
    return total / n


@pytest.mark.parametrize("use_stemmer", [False, True])
def test_homogenization_rougel_equals_rouge_score_loop(use_stemmer: bool) -> None:
    pytest.importorskip("rouge_score")
    for texts in (
        (TEXTS, _corpus(60)) if not use_stemmer else (TEXTS,)
    ):  # rouge_score stems per pair: slow
        ours = L.homogenization_score(texts, use_stemmer=use_stemmer, digits=None)
        assert ours == pytest.approx(_rouge_reference_mean(texts, use_stemmer), abs=1e-12)


def test_rouge_tokens_equal_rouge_score_tokenizer() -> None:
    tokenizers = pytest.importorskip("rouge_score.tokenizers")
    for stem in (False, True):
        tok = tokenizers.DefaultTokenizer(use_stemmer=stem)
        for text in TEXTS:
            assert L.rouge_tokens(text, stem) == tok.tokenize(text)


@pytest.mark.slow
def test_homogenization_rougel_equals_diversity_package() -> None:
    """The package function itself (its import takes ~30 s: spacy, evaluate, transformers)."""
    diversity = pytest.importorskip("diversity")
    for texts in (TEXTS, _corpus(120, seed=3)):
        assert L.homogenization_score(texts) == diversity.homogenization_score(texts, verbose=False)


def test_homogenization_all_pairs_zero_is_zero_not_one() -> None:
    """diversity returns 1.0 (maximally homogeneous) when every pair scores 0: its guard for
    'all strings identical' fires on corpus_score == 0. Disjoint texts are maximally diverse."""
    texts = ["alpha beta", "gamma delta", "epsilon zeta"]
    assert L.homogenization_score(texts) == 0.0
    assert L.homogenization_score(["same words", "same words"]) == 1.0


@pytest.mark.slow
def test_diversity_package_scores_disjoint_texts_as_fully_homogeneous() -> None:
    """The reference side of the divergence above (its module imports `evaluate`: ~20 s)."""
    if importlib.util.find_spec("evaluate") is None:
        pytest.skip("`evaluate` is not installed; diversity.homogenization cannot import")
    ref = _diversity_module("homogenization")
    assert (
        ref.homogenization_score(["alpha beta", "gamma delta", "epsilon zeta"], verbose=False)
        == 1.0
    )


def test_bleu_tokens_equal_sacrebleu_13a() -> None:
    tok = pytest.importorskip("sacrebleu.tokenizers.tokenizer_13a").Tokenizer13a()
    for text in TEXTS:
        assert L.bleu_tokens(text) == tok(text).split()


def test_homogenization_bleu_equals_sacrebleu_corpus_bleu() -> None:
    """Per anchor i: corpus BLEU of the others against text i (what diversity asks `evaluate`'s
    bleu for), averaged. diversity then divides by n-1 again; homogeny does not."""
    sacrebleu = pytest.importorskip("sacrebleu")
    for texts in (TEXTS, _corpus(50)):
        scores = []
        for i, ref in enumerate(texts):
            others = [t for j, t in enumerate(texts) if j != i]
            bleu = sacrebleu.corpus_bleu(
                others, [[ref] * len(others)], smooth_method="none", tokenize="13a"
            )
            scores.append(bleu.score / 100)
        assert L.homogenization_score(texts, "bleu", digits=None) == pytest.approx(
            float(np.mean(scores)), abs=1e-10
        )


def test_self_bleu_equals_nltk_sentence_bleu() -> None:
    bleu_score = pytest.importorskip("nltk.translate.bleu_score")
    smooth = bleu_score.SmoothingFunction().method1
    for texts in (TEXTS, _corpus(60)):
        tokens = [L.bleu_tokens(t) for t in texts]
        ref = [
            bleu_score.sentence_bleu(
                [t for j, t in enumerate(tokens) if j != i], hyp, smoothing_function=smooth
            )
            for i, hyp in enumerate(tokens)
        ]
        assert L.self_bleu(texts) == pytest.approx(float(np.mean(ref)), abs=1e-12)


def test_distinct_n_hand_computed() -> None:
    texts = ["a b a b", "a c"]
    assert L.distinct_n(texts, 1) == 3 / 6  # a b c among a b a b a c
    assert L.distinct_n(texts, 2) == 3 / 4  # (a b) (b a) (a b) | (a c)
    assert L.distinct_n(["a"], 2) == 0.0


# ---- properties -------------------------------------------------------------------------------
WORDS = [
    "alpha",
    "beta",
    "gamma",
    "delta",
    "the",
    "a",
    "cat",
    "dog",
    "Run",
    "runs",
    "x1",
    "42",
    "!",
    "état",
]
text_st = st.lists(st.sampled_from(WORDS), min_size=0, max_size=12).map(" ".join)
texts_st = st.lists(text_st, min_size=2, max_size=8)


@settings(max_examples=60, deadline=None)
@given(texts_st, st.randoms(use_true_random=False))
def test_set_metrics_are_bounded_and_permutation_invariant(
    texts: list[str], rnd: random.Random
) -> None:
    shuffled = texts[:]
    rnd.shuffle(shuffled)
    for measure in ("rougel", "bleu"):
        value = L.homogenization_score(texts, measure, digits=None)
        assert 0.0 <= value <= 1.0 + 1e-12
        assert L.homogenization_score(shuffled, measure, digits=None) == pytest.approx(
            value, abs=1e-12
        )
    sb = L.self_bleu(texts)
    assert 0.0 <= sb <= 1.0 + 1e-12
    assert L.self_bleu(shuffled) == pytest.approx(sb, abs=1e-12)
    assert 0.0 <= L.ngram_diversity_score_per_document(texts, digits=None) <= 4.0
    assert L.self_repetition_score(shuffled) == pytest.approx(
        L.self_repetition_score(texts), abs=1e-12
    )
    for n in (1, 2):
        assert 0.0 <= L.distinct_n(texts, n) <= 1.0


@settings(max_examples=40, deadline=None)
@given(
    st.lists(st.sampled_from(WORDS[:8]), min_size=4, max_size=12).map(" ".join), st.integers(2, 6)
)
def test_identical_texts_are_maximally_homogeneous(text: str, n: int) -> None:
    texts = [text] * n
    assert L.homogenization_score(texts, "rougel") == 1.0
    assert L.homogenization_score(texts, "bleu") == 1.0
    assert L.self_bleu(texts, digits=9) == 1.0


@settings(max_examples=40, deadline=None)
@given(st.integers(2, 7), st.integers(1, 9))
def test_disjoint_vocabularies_score_zero(n: int, length: int) -> None:
    texts = [" ".join(f"w{i}x{k}" for k in range(length)) for i in range(n)]
    assert L.homogenization_score(texts, "rougel") == 0.0
    assert L.homogenization_score(texts, "bleu") == 0.0
    assert L.self_bleu(texts) == 0.0
    assert L.self_repetition_score(texts) == 0.0
    assert L.distinct_n(texts, 1) == 1.0


def test_bad_input_is_one_clear_error() -> None:
    from homogeny.errors import ParameterError

    with pytest.raises(ParameterError, match="at least 2"):
        L.homogenization_score(["only one"])
    with pytest.raises(ParameterError, match="rougel"):
        L.homogenization_score(["a", "b"], measure="bertscore")  # type: ignore[arg-type]
    with pytest.raises(ParameterError, match="gzip"):
        L.compression_ratio(["a"], algorithm="zip")  # type: ignore[arg-type]
    with pytest.raises(ParameterError, match="not str"):
        L.distinct_n(["a", 3], 1)  # type: ignore[list-item]
