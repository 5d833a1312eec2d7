"""Distributional, representational, reliability, statistics and scoring: hand-computed cases."""

from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from homogeny.errors import HomogenyError, ParameterError, PromptFileError
from homogeny.metrics import distributional as D
from homogeny.metrics import reliability as R
from homogeny.metrics import representational as RP
from homogeny.metrics import scoring as SC
from homogeny.metrics import stats as ST


# ---- distributional -----------------------------------------------------------------------------
def test_token_entropy_top1_and_sequence_logprob_by_hand() -> None:
    steps = [
        [("a", math.log(0.5)), ("b", math.log(0.3))],  # renormalised: 0.625, 0.375
        {"x": 0.0},  # certain
        [{"token": "p", "logprob": math.log(0.25)}] * 4,  # uniform over 4 listed
    ]
    h = D.token_entropy(steps)
    assert h[0] == pytest.approx(-(0.625 * math.log(0.625) + 0.375 * math.log(0.375)))
    assert h[1] == 0.0
    assert h[2] == pytest.approx(math.log(4))
    assert D.top1_mass(steps) == pytest.approx([0.5, 1.0, 0.25])
    assert D.sequence_logprob([math.log(0.5), math.log(0.25)]) == pytest.approx(math.log(0.125))
    assert D.sequence_logprob([math.log(0.5), math.log(0.125)], per_token=True) == pytest.approx(
        math.log(0.25)
    )


@settings(max_examples=80, deadline=None)
@given(st.lists(st.floats(0.01, 10), min_size=2, max_size=30), st.integers(1, 30))
def test_top_k_entropy_is_a_lower_bound_of_the_full_entropy(weights: list[float], k: int) -> None:
    p = np.array(weights) / sum(weights)
    full = float(-(p * np.log(p)).sum())
    top = np.sort(p)[::-1][: min(k, p.size)]
    assert D.token_entropy([list(np.log(top))])[0] <= full + 1e-9


def test_distributional_rejects_probabilities_passed_as_logprobs() -> None:
    with pytest.raises(ParameterError, match="above 0"):
        D.token_entropy([[0.7, 0.3]])


# ---- representational ---------------------------------------------------------------------------
def _hsic_unbiased(k: np.ndarray, l: np.ndarray) -> float:
    """Song et al. 2012, eq. 5, written out as platonic-rep's hsic_unbiased."""
    m = k.shape[0]
    kt, lt = k.copy(), l.copy()
    np.fill_diagonal(kt, 0)
    np.fill_diagonal(lt, 0)
    value = (
        (kt * lt.T).sum()
        + kt.sum() * lt.sum() / ((m - 1) * (m - 2))
        - 2 * (kt @ lt).sum() / (m - 2)
    )
    return float(value / (m * (m - 3)))


def test_biased_cka_of_one_feature_is_squared_correlation() -> None:
    x = np.array([[1.0], [2.0], [3.0]])
    y = np.array([[1.0], [3.0], [2.0]])  # Pearson r = 0.5
    assert RP.linear_cka(x, y, debiased=False) == pytest.approx(0.25)


def test_debiased_cka_equals_song_unbiased_hsic() -> None:
    rng = np.random.default_rng(0)
    x = rng.normal(size=(40, 7))
    y = x @ rng.normal(size=(7, 5)) + 0.5 * rng.normal(size=(40, 5))
    xc, yc = x - x.mean(0), y - y.mean(0)
    k, l = xc @ xc.T, yc @ yc.T
    expected = _hsic_unbiased(k, l) / math.sqrt(_hsic_unbiased(k, k) * _hsic_unbiased(l, l))
    assert RP.linear_cka(x, y) == pytest.approx(expected, rel=1e-10)
    feature_space = np.linalg.norm(yc.T @ xc) ** 2 / (
        np.linalg.norm(xc.T @ xc) * np.linalg.norm(yc.T @ yc)
    )
    assert RP.linear_cka(x, y, debiased=False) == pytest.approx(feature_space, rel=1e-10)


def test_cka_is_invariant_to_rotation_and_scale() -> None:
    rng = np.random.default_rng(1)
    x = rng.normal(size=(30, 6))
    q, _ = np.linalg.qr(rng.normal(size=(6, 6)))
    for debiased in (True, False):
        assert RP.linear_cka(x, 3.0 * x @ q + 1.0, debiased=debiased) == pytest.approx(1.0)


def _on_circle(degrees: list[float]) -> np.ndarray:
    return np.array([[math.cos(math.radians(d)), math.sin(math.radians(d))] for d in degrees])


def test_mutual_knn_by_hand() -> None:
    x = _on_circle([0, 10, 90, 100])  # kNN1: 0<->1, 2<->3
    y = _on_circle([0, 10, 90, 200])  # kNN1: 0->1, 1->0, 2->1, 3->2
    assert RP.mutual_knn_alignment(x, y, k=1) == pytest.approx(3 / 4)
    # k=2: X {1,2} {0,2} {3,1} {2,1}; Y {1,2} {0,2} {1,0} {2,0}: overlaps 2,2,1,1
    assert RP.mutual_knn_alignment(x, y, k=2) == pytest.approx(6 / 8)
    assert RP.mutual_knn_alignment(x, 5 * x, k=2) == 1.0
    with pytest.raises(ParameterError, match="k must be"):
        RP.mutual_knn_alignment(x, y, k=4)


# ---- reliability --------------------------------------------------------------------------------
def test_cronbach_alpha_by_hand() -> None:
    # item variances 5/3 each, total scores 4 8 9 13 with variance 41/3: 3/2 (1 - 5/(41/3)) = 39/41
    x = np.array([[1, 2, 1], [2, 3, 3], [3, 4, 2], [4, 5, 4]], dtype=float)
    assert R.cronbach_alpha(x) == pytest.approx(39 / 41)
    r = np.corrcoef(x, rowvar=False)
    rbar = r[np.triu_indices(3, 1)].mean()
    assert R.cronbach_alpha(x, standardized=True) == pytest.approx(3 * rbar / (1 + 2 * rbar))


def _with_exact_correlation(r: np.ndarray, n: int = 200, seed: int = 0) -> np.ndarray:
    """Data whose sample correlation matrix is exactly r."""
    z = np.random.default_rng(seed).normal(size=(n, r.shape[0]))
    z -= z.mean(0)
    z = z @ np.linalg.inv(np.linalg.cholesky(np.cov(z, rowvar=False))).T
    return z @ np.linalg.cholesky(r).T


def test_one_factor_omega_recovers_known_loadings() -> None:
    lam = np.array([0.8, 0.7, 0.6, 0.5])
    r = np.outer(lam, lam)
    np.fill_diagonal(r, 1.0)
    x = _with_exact_correlation(r)
    # (sum lambda)^2 = 6.76; sum psi = 0.36 + 0.51 + 0.64 + 0.75 = 2.26; omega = 6.76 / 9.02
    assert R.mcdonalds_omega(x) == pytest.approx(6.76 / 9.02, abs=1e-4)
    assert R.mcdonalds_omega(x, method="ml") == pytest.approx(6.76 / 9.02, abs=1e-4)
    # a perfect one-factor fit: psych-style omega total (1'R1 - sum psi)/1'R1 agrees
    assert R.omega_total_group_factors(x, n_factors=1) == pytest.approx(
        (r.sum() - 2.26) / r.sum(), abs=1e-4
    )


def test_parse_verdict_codes_as_the_paper() -> None:
    assert R.parse_verdict("Best Response: [[C]] because ...") == 3.0
    assert R.parse_verdict("**Best Response: D**\n... Best Response: D") == 4.0
    assert R.parse_verdict("I cannot decide.") == 6.0
    assert R.parse_verdict("Best Response: A ... Best Response: B") == 7.0


def test_judge_reliability_drops_silent_and_credits_constant_questions() -> None:
    rng = np.random.default_rng(0)
    base = rng.integers(1, 6, size=100).astype(float)
    noisy = {
        f"q{i}": np.where(rng.random(100) < 0.3, rng.integers(1, 6, size=100), base)
        for i in range(5)
    }
    verdicts = {**noisy, "always_b": [2.0] * 100, "never": [6.0] * 100}
    res = R.judge_reliability(verdicts)
    inner = R.judge_reliability(noisy)
    assert (res.n_items, res.n_constant, res.n_dropped) == (5, 1, 1)
    assert res.alpha == pytest.approx((1 + 5 * inner.alpha) / 6)
    assert res.omega == pytest.approx((1 + 5 * inner.omega) / 6)
    assert R.judge_reliability({"a": [1.0] * 10, "b": [6.0] * 10}).omega == 1.0


def test_judge_reliability_with_more_questions_than_replications() -> None:
    """A small judge study (10 replications, 20 questions) has a singular correlation matrix;
    factor_analyzer fails on it, homogeny still fits."""
    x = np.random.default_rng(0).integers(1, 6, size=(10, 20)).astype(float)
    res = R.judge_reliability(x)
    assert res.n_items == 20 and math.isfinite(res.omega) and math.isfinite(res.alpha)


def test_exact_repeat_rate_by_hand() -> None:
    assert R.exact_repeat_rate(["a", "a", "a"]) == 1.0
    assert R.exact_repeat_rate(["a", "b", "c"]) == 0.0
    assert R.exact_repeat_rate(["a", "a", "b", "c"]) == pytest.approx(1 / 6)  # 1 of 6 pairs
    assert R.exact_repeat_rate(["a", "a "]) == 0.0  # exact: whitespace counts


# ---- statistics ---------------------------------------------------------------------------------
def test_bootstrap_is_deterministic_and_brackets_the_point() -> None:
    data = np.arange(20, dtype=float)
    a = ST.bootstrap_ci(np.mean, data, n_resamples=500, seed=1)
    b = ST.bootstrap_ci(np.mean, data, n_resamples=500, seed=1)
    assert a == b and a.low < a.point == 9.5 < a.high
    # the mean's standard error is 5.77 / sqrt(20) = 1.29: the 95% interval spans about +-2.5
    assert 3.5 < a.high - a.low < 6.5
    assert ST.bootstrap_ci(np.mean, np.ones(10)).low == 1.0


def test_bootstrap_keeps_pairs_together_and_takes_texts() -> None:
    x = np.random.default_rng(0).normal(size=30)
    paired = ST.bootstrap_ci(lambda a, b: float(np.mean(a - b)), (x, x.copy()))
    assert (paired.low, paired.high) == (0.0, 0.0)
    texts = ["a", "b", "a", "c"] * 5
    res = ST.bootstrap_ci(lambda t: len(set(t)), texts, n_resamples=200)
    assert res.point == 3 and res.low <= 3 <= res.high
    diff = ST.paired_difference_ci(x + 1.0, x)
    assert (
        diff.point == pytest.approx(1.0)
        and diff.low == pytest.approx(1.0)
        and diff.high == pytest.approx(1.0)
    )


def test_permutation_test_exact_p_values() -> None:
    # independent: C(6,3) = 20 splits, only the observed and its mirror are as extreme: 2/20
    res = ST.permutation_test([1, 2, 3], [4, 5, 6])
    assert res.statistic == -3.0 and res.pvalue == pytest.approx(0.1)
    # paired: 2^4 sign flips of differences 1..4, only all + and all - reach |mean| 2.5: 2/16
    assert ST.permutation_test([1, 2, 3, 4], [0, 0, 0, 0], paired=True).pvalue == pytest.approx(
        0.125
    )


# ---- scoring ------------------------------------------------------------------------------------
def _write(path: Path, lines: list[str]) -> Path:
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def test_read_text_jsonl_names_the_bad_line(tmp_path: Path) -> None:
    good = _write(
        tmp_path / "ok.jsonl",
        [json.dumps({"text": "a", "model": "m"}), "", json.dumps({"text": "b"})],
    )
    assert [r["text"] for r in SC.read_text_jsonl(good)] == ["a", "b"]
    bad = _write(tmp_path / "bad.jsonl", [json.dumps({"text": "a"}), "{not json"])
    with pytest.raises(PromptFileError, match=r"bad.jsonl:2: not valid JSON"):
        SC.read_text_jsonl(bad)
    missing = _write(tmp_path / "missing.jsonl", [json.dumps({"txt": "a"})])
    with pytest.raises(PromptFileError, match=r'missing.jsonl:1: no "text" field \(fields: txt\)'):
        SC.read_text_jsonl(missing)
    with pytest.raises(PromptFileError, match="does not exist"):
        SC.read_text_jsonl(tmp_path / "nope.jsonl")


def test_unknown_metric_suggests_the_closest() -> None:
    with pytest.raises(HomogenyError, match="did you mean 'self_bleu'"):
        SC.get_metric("self_bleau")


def test_score_texts_by_group_and_unit() -> None:
    records = [
        {"text": t, "model": m, "prompt_id": p}
        for m, texts in {"same": ["a b c", "a b c"], "diff": ["a b c", "x y z"]}.items()
        for p in ("p1", "p2")
        for t in texts
    ]
    out = SC.score_texts(records, "homogenization_rougel", by="model")
    assert out["groups"]["same"]["value"] == pytest.approx(1.0)
    assert out["groups"]["diff"]["value"] == pytest.approx(1 / 3)  # 2 of 6 ordered pairs identical
    per_prompt = SC.score_texts(records, "homogenization_rougel", by="model", unit="prompt_id")
    same = per_prompt["groups"]["same"]
    assert (same["value"], same["ci_low"], same["ci_high"], same["n_units"]) == (1.0, 1.0, 1.0, 2)
    assert per_prompt["groups"]["diff"]["value"] == 0.0
    with pytest.raises(HomogenyError, match="no field 'family'"):
        SC.score_texts(records, "distinct_1", by="family")


def test_every_registered_text_metric_runs() -> None:
    texts = ["the cat sat", "the dog sat", "a bird flew away", "the cat sat"]
    for name, spec in SC.METRICS.items():
        if spec.embeds:
            continue
        assert math.isfinite(spec(texts)), name
