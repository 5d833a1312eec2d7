"""C1 (input flattening): each measurement on hand-made cases whose answer is known, the
near-miss suite, the plan, the paper's pair files, and the experiment end to end on smollm2."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from scipy.stats import binomtest

from homogeny.experiments.c1_input.measures import (
    clean_rewrite,
    closeness,
    cross_user_diversity,
    distinction_lost,
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
    group = [
        Prompt("0", "Ascertain the summation of seven and five."),
        Prompt("1", "What is 7 plus 5?"),
        Prompt("2", "Determine the sum of seven and five."),
    ]
    low, high = frequency_pair(group)  # type: ignore[misc]
    assert (low.id, high.id) == ("0", "1")
    assert sentence_frequency(low.text) < sentence_frequency(high.text)


def test_clean_rewrite_keeps_the_request_only() -> None:
    original = "Ascertain the summation of seven and five."
    assert (
        clean_rewrite('Rewritten request: "Find the sum of seven and five."\nThat is it.', original)
        == "Find the sum of seven and five."
    )
    assert clean_rewrite("\n\nAdd seven and five.", original) == "Add seven and five."
    assert (
        clean_rewrite("Here's a rewritten version of the request:\nAdd seven and five.", original)
        == "Add seven and five."
    )
    assert clean_rewrite("   \n", original) == original
    assert clean_rewrite("x" * 1000, original) == original


def _pair_files(tmp_path: Path, lines: int) -> list[str]:
    if not ADAMS_LAW.exists():
        pytest.skip("../shared/data/adams-law is not here")
    paths = []
    for side in ("low", "high"):
        text = (
            (ADAMS_LAW / f"gsm8k-{side}frequency.txt")
            .read_text(encoding="utf-8")
            .splitlines()[:lines]
        )
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
        pairs = read_pairs(
            ADAMS_LAW / f"{name}-lowfrequency.txt", ADAMS_LAW / f"{name}-highfrequency.txt"
        )
        higher = np.mean([sentence_frequency(hi) > sentence_frequency(lo) for lo, hi in pairs])
        assert higher > share, name


def _near_miss(answer: str, aliases: list[str], anchor_answer: str) -> tuple[Prompt, Prompt]:
    near = Prompt("n", "What is 7 minus 5?", meta={"answer": answer, "answer_aliases": aliases})
    anchor = Prompt("a", "What is 7 plus 5?", meta={"answer": anchor_answer, "answer_aliases": []})
    return near, anchor


def test_a_near_miss_answered_as_its_anchor_has_lost_the_distinction() -> None:
    near, anchor = _near_miss("2", ["two"], "12")
    assert distinction_lost("7 minus 5 is 12.", near, anchor) == 1
    assert distinction_lost("It is two.", near, anchor) == -1
    assert distinction_lost("I do not know.", near, anchor) == 0
    assert distinction_lost("Not 12 but 2.", near, anchor) == 0


def test_the_primary_statistic_reads_flattening_and_kept_distinctions() -> None:
    """Models that answer every near miss as its anchor give "supported"; models that keep
    every distinction give "contradicted"; the unit is the pair, pooled over models."""
    from homogeny.experiments.c1_input.distinctions import PRIMARY, near_miss_pairs, pair_values
    from homogeny.experiments.c1_input.plan import Plan
    from homogeny.metrics.inference import infer_mean

    pairs = near_miss_pairs(Plan.quick())
    assert len(pairs) == 12 >= PRIMARY.min_n
    anchor_says = {n.id: f"The answer is {a.meta['answer']}." for n, a in pairs}
    own_says = {n.id: f"The answer is {n.meta['answer']}." for n, _ in pairs}
    for outputs, verdict in (
        ({"m1": anchor_says, "m2": anchor_says}, "supported"),
        ({"m1": own_says, "m2": own_says}, "contradicted"),
    ):
        values = np.mean(list(pair_values(outputs, pairs).values()), axis=0)
        assert infer_mean(values, PRIMARY.threshold, PRIMARY.predicted).verdict == verdict


def test_near_misses_change_what_is_asked_not_the_wording() -> None:
    """Every near miss belongs to a checkable family, reads like that family's everyday
    phrasing (ROUGE-L >= 0.6), and has an answer that the anchor's answer does not match."""
    from homogeny.experiments.c1_input.distinctions import near_miss_pairs
    from homogeny.experiments.c1_input.plan import Plan

    pairs = near_miss_pairs(Plan.full())
    assert len(pairs) == 22 and len({a.meta["family"] for _, a in pairs}) == 22
    for near, anchor in pairs:
        assert anchor.meta["kind"] == "checkable" and near.text != anchor.text
        assert rouge_l_matrix([near.text, anchor.text])[0, 1] >= 0.6, near.text
        assert not is_correct(
            near.meta["answer"], anchor.meta["answer"], anchor.meta["answer_aliases"]
        )
        assert not is_correct(
            anchor.meta["answer"], near.meta["answer"], near.meta["answer_aliases"]
        )


def test_plan_quick_full_and_strict_options() -> None:
    from homogeny.errors import HomogenyError
    from homogeny.experiments.c1_input import MAX_TOKENS, InputFlattening, Plan
    from homogeny.experiments.c1_input.experiment import plan_families
    from homogeny.experiments.presets import INPUT_MAX_TOKENS

    quick, full = Plan.quick(), Plan.full()
    assert (quick.max_tokens, full.max_tokens) == (INPUT_MAX_TOKENS[True], INPUT_MAX_TOKENS[False])
    assert MAX_TOKENS[True] == quick.max_tokens and MAX_TOKENS[False] == full.max_tokens
    assert len(plan_families(quick)) == 4 and len(plan_families(full)) == 44
    kinds = [g[0].meta["kind"] for g in plan_families(quick).values()]
    assert sorted(kinds) == ["checkable", "checkable", "open", "open"]
    assert Plan.for_run(True, {"pairs": ["low.txt", "high.txt"]}).pairs == ("low.txt", "high.txt")
    with pytest.raises(HomogenyError, match="unknown option"):
        Plan.for_run(True, {"pair": ["low.txt", "high.txt"]})
    assert InputFlattening.primary.metric == "near_miss_distinction_lost"
    assert InputFlattening().claim == "c1"


@pytest.mark.slow  # loads the MiniLM embedder (~85 s on a busy 2-core machine)
def test_rewriting_that_only_passes_the_inputs_through_loses_nothing_beyond_them(
    tmp_path: Path,
) -> None:
    """Normalisation of the rewriting rows: when every output repeats its request, the output
    diversity lost equals the input diversity the rewrite removed, so the row reads 0."""
    from homogeny.experiments.base import ExperimentContext
    from homogeny.experiments.c1_input.rewriting import family_losses
    from homogeny.store import Store

    users = [
        Prompt(f"f/{i}", t, meta={"family": "f"})
        for i, t in enumerate(
            ["Elucidate the etiology of rain.", "Why does it rain?", "Explain rainfall causes."]
        )
    ]
    new = [Prompt(f"{p.id}/rule", "Why does it rain?", meta=p.meta) for p in users]
    with Store.open(tmp_path / "s.duckdb") as store:
        ctx = ExperimentContext(store=store, models=["echo"], progress=False, log=lambda m: None)
        outputs = {"echo": {p.id: p.text for p in users}}
        after = {"echo": {p.id: p.text for p in new}}
        out_lost, in_lost = family_losses(ctx, users, new, outputs, after, ["f"])
    assert in_lost[0] > 0.05
    assert out_lost - in_lost == pytest.approx([0.0], abs=1e-9)


@pytest.mark.slow
def test_quick_run_end_to_end_and_rerun_generates_nothing(smollm: str, tmp_path: Path) -> None:
    import re

    from homogeny.experiments.base import ExperimentContext
    from homogeny.experiments.registry import run_in_store
    from homogeny.store import Store

    options = {"pairs": _pair_files(tmp_path, 6)} if ADAMS_LAW.exists() else {}
    with Store.open(tmp_path / "s.duckdb") as store:
        ctx = ExperimentContext(
            store=store,
            models=[smollm],
            quick=True,
            progress=False,
            log=lambda m: None,
            options=options,
        )
        first = run_in_store(store, "c1", ctx)
        samples = store.count("samples")
        assert samples > 0
        second = run_in_store(store, "c1", ctx)
        assert store.count("samples") == samples
    metrics = {e.metric for e in first}
    assert {
        "hidden_minus_surface_closeness_middle",
        "hidden_minus_surface_closeness_last",
        "outputs_within_minus_between",
        "output_minus_prompt_closeness",
        "near_miss_distinction_lost",
        "diversity_lost_beyond_input_synonym_table",
        "diversity_lost_beyond_input_model_rewriter",
        "nll_low_minus_high",
    } <= metrics
    primary = [e for e in first if e.role == "primary"]
    assert len(primary) == 1 and primary[0].metric == "near_miss_distinction_lost"
    assert primary[0].n_units == 12 and primary[0].null_rate is not None
    assert next(e for e in first if e.metric == "outputs_within_minus_between").role == "sanity"
    assert all(re.fullmatch(r"[a-z][a-z0-9_]*", m) for m in metrics)
    assert all(e.role and e.unit for e in first)
    assert len({e.evidence_id for e in first}) == len(first)
    assert all(np.isfinite(e.effect) and e.ci_low <= e.effect <= e.ci_high for e in first)
    assert [(e.metric, e.subject, round(e.effect, 9)) for e in first] == [
        (e.metric, e.subject, round(e.effect, 9)) for e in second
    ]
    if options:
        nll = next(e for e in first if e.metric == "nll_low_minus_high")
        assert nll.n == 6
