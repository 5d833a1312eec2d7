"""C1 (input flattening): each measurement on hand-made cases whose answer is known, the
paper's pair files, and the experiment end to end on smollm2."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from scipy.stats import binomtest

from homogeny.experiments.c1_input import (
    clean_rewrite,
    closeness,
    cross_user_diversity,
    frequency_pair,
    is_correct,
    mcnemar_exact,
    rouge_l_matrix,
    sign_test,
    within_minus_between,
)
from homogeny.suites.frequency import sentence_frequency
from homogeny.suites.prompt import Prompt

ADAMS_LAW = Path(__file__).resolve().parents[2] / "shared" / "data" / "adams-law"


def test_identical_paraphrases_have_one_frequency_and_maximal_surface_similarity() -> None:
    texts = ["Determine the sum of seven and five."] * 3 + ["Describe a sunset over the sea."] * 3
    labels = ["add"] * 3 + ["sunset"] * 3
    assert len({sentence_frequency(t) for t in texts[:3]}) == 1
    sim = rouge_l_matrix(texts)
    assert np.allclose(sim[:3, :3], 1.0) and np.allclose(sim[3:, 3:], 1.0)
    assert np.allclose(closeness(sim, labels), 1.0)
    assert frequency_pair([Prompt(str(i), t) for i, t in enumerate(texts[:3])]) is None


def test_rouge_l_matrix_matches_rouge_score() -> None:
    from rouge_score import rouge_scorer

    texts = ["The cat sat on the mat.", "A cat was sitting on a mat", "Dogs bark loudly!", ""]
    sim = rouge_l_matrix(texts)
    scorer = rouge_scorer.RougeScorer(["rougeL"])
    for i, a in enumerate(texts):
        for j, b in enumerate(texts):
            assert sim[i, j] == pytest.approx(scorer.score(a, b)["rougeL"].fmeasure, abs=1e-12)


def test_closeness_and_within_minus_between_by_hand() -> None:
    # two families of two; within-family similarity 0.8 and 0.6, every cross pair 0.5
    sim = np.full((4, 4), 0.5)
    np.fill_diagonal(sim, 1.0)
    sim[0, 1] = sim[1, 0] = 0.8
    sim[2, 3] = sim[3, 2] = 0.6
    labels = ["a", "a", "b", "b"]
    assert within_minus_between(sim, labels) == pytest.approx([0.3, 0.1])
    assert closeness(sim, labels) == pytest.approx([0.6, 0.2])  # (w - b) / (1 - b)


def test_closeness_is_blind_to_a_shared_offset_that_raw_similarity_is_not() -> None:
    """Anisotropy: adding a common baseline to every similarity must not look like flattening."""
    rng = np.random.default_rng(0)
    base = rng.uniform(0, 0.5, size=(6, 6))
    base = (base + base.T) / 2
    np.fill_diagonal(base, 1.0)
    labels = ["a"] * 3 + ["b"] * 3
    squeezed = 0.9 + 0.1 * base  # the same geometry compressed toward cosine 0.9
    assert closeness(squeezed, labels) == pytest.approx(closeness(base, labels))


def test_a_model_that_repeats_one_text_has_no_diversity_left() -> None:
    same = np.tile(np.array([[0.6, 0.8]]), (5, 1))
    assert cross_user_diversity(same) == pytest.approx(0.0, abs=1e-12)
    assert cross_user_diversity(np.eye(4)) == pytest.approx(1.0)


def test_answers_are_matched_as_whole_words() -> None:
    assert is_correct("7 plus 5 is 12.", "12")
    assert is_correct("It is Twelve", "12", ["twelve"])
    assert not is_correct("The answer is 120", "12")
    assert not is_correct("about 12.5 in total", "12")
    assert is_correct("Paris is the capital.", "Paris")


def test_sign_and_mcnemar_tests_by_hand() -> None:
    st = sign_test([0.5, 0.2, -0.1, 0.0, 0.3])
    assert (st["positive"], st["nonzero"]) == (3, 4)
    assert st["p"] == pytest.approx(binomtest(3, 4, 0.5).pvalue)
    mc = mcnemar_exact([False] * 6 + [True] * 4, [True] * 6 + [True] * 4)
    assert (mc["only_low_right"], mc["only_high_right"]) == (0, 6)
    assert mc["p"] == pytest.approx(2 / 64)
    assert mcnemar_exact([True, False], [True, False])["p"] == 1.0


def test_frequency_pair_picks_the_rarest_and_commonest_wording() -> None:
    group = [Prompt("0", "Ascertain the summation of seven and five."), Prompt("1", "What is 7 plus 5?"),
             Prompt("2", "Determine the sum of seven and five.")]
    low, high = frequency_pair(group)  # type: ignore[misc]
    assert (low.id, high.id) == ("0", "1")
    assert sentence_frequency(low.text) < sentence_frequency(high.text)


def test_clean_rewrite_keeps_the_request_only() -> None:
    original = "Ascertain the summation of seven and five."
    assert clean_rewrite('Rewritten request: "Find the sum of seven and five."\nThat is it.', original) == "Find the sum of seven and five."
    assert clean_rewrite("\n\nAdd seven and five.", original) == "Add seven and five."
    assert clean_rewrite("Here's a rewritten version of the request:\nAdd seven and five.", original) == "Add seven and five."
    assert clean_rewrite("   \n", original) == original
    assert clean_rewrite("x" * 1000, original) == original


def _pair_files(tmp_path: Path, lines: int) -> list[str]:
    if not ADAMS_LAW.exists():
        pytest.skip("../shared/data/adams-law is not here")
    paths = []
    for side in ("low", "high"):
        text = (ADAMS_LAW / f"gsm8k-{side}frequency.txt").read_text(encoding="utf-8").splitlines()[:lines]
        path = tmp_path / f"{side}.txt"
        path.write_text("\n".join(text) + "\n", encoding="utf-8")
        paths.append(str(path))
    return paths


def test_the_papers_high_frequency_side_mostly_scores_higher_frequency() -> None:
    """With wordfreq (the paper used another corpus), 61% of the GSM8K pairs and 86% of the
    CommonsenseQA pairs have the higher sentence frequency on the paper's high side."""
    from homogeny.suites.files import read_pairs

    if not ADAMS_LAW.exists():
        pytest.skip("../shared/data/adams-law is not here")
    for name, share in (("gsm8k", 0.55), ("csqa", 0.8)):
        pairs = read_pairs(ADAMS_LAW / f"{name}-lowfrequency.txt", ADAMS_LAW / f"{name}-highfrequency.txt")
        higher = np.mean([sentence_frequency(hi) > sentence_frequency(lo) for lo, hi in pairs])
        assert higher > share, name


@pytest.mark.slow
def test_quick_run_end_to_end_and_rerun_generates_nothing(smollm: str, tmp_path: Path) -> None:
    from homogeny.experiments.base import ExperimentContext
    from homogeny.experiments.registry import run_in_store
    from homogeny.store import Store

    options = {"pairs": _pair_files(tmp_path, 6)} if ADAMS_LAW.exists() else {}
    with Store.open(tmp_path / "s.duckdb") as store:
        ctx = ExperimentContext(store=store, models=[smollm], quick=True, progress=False, log=lambda m: None, options=options)
        first = run_in_store(store, "c1", ctx)
        samples = store.count("samples")
        assert samples > 0
        second = run_in_store(store, "c1", ctx)
        assert store.count("samples") == samples
    metrics = [e.metric for e in first]
    assert any(m.startswith("hidden - surface closeness") for m in metrics)
    assert {"outputs within - between request", "output - prompt closeness",
            "diversity lost, synonym table", "diversity lost, model rewriter"} <= set(metrics)
    assert any(m.startswith("NLL(low) - NLL(high)") for m in metrics)
    assert all(np.isfinite(e.effect) and e.ci_low <= e.effect <= e.ci_high for e in first)
    assert [(e.metric, round(e.effect, 9)) for e in first] == [(e.metric, round(e.effect, 9)) for e in second]
    if options:
        nll = next(e for e in first if e.metric.startswith("NLL(low)"))
        assert nll.n == 6
