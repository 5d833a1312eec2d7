"""C6 (consistency vs reliability): the protocol on hand-made judge distributions, the exact
letter reading against the engine's own sampling, and the experiment end to end."""

from __future__ import annotations

import numpy as np
import pytest
from scipy.stats import chisquare

from homogeny.experiments.c6_reliability import (
    LETTERS,
    NO_VERDICT_CODE,
    T_ZERO,
    TEMPERATURES,
    draw_verdicts,
    fully_consistent,
    modal_correct,
    reliability_by_temperature,
    share_and_rank,
    tempered_class_probs,
)

LETTER_IDS = [[10], [11], [12], [13], [14]]  # a toy vocabulary of 20 tokens; 10-14 are A-E


def _logits(values: dict[int, float], vocab: int = 20) -> np.ndarray:
    z = np.full(vocab, -30.0)
    for tok, v in values.items():
        z[tok] = v
    return z


def _judge(probs_per_question: list[np.ndarray]) -> dict[str, dict[float, np.ndarray]]:
    """A judge whose verdict distribution is the same at every temperature (hand-made)."""
    return {f"q{i}": {t: p for t in TEMPERATURES} for i, p in enumerate(probs_per_question)}


def test_tempered_probs_match_the_softmax_by_hand() -> None:
    z = _logits({10: 2.0, 11: 1.0, 3: 1.0})  # A, B and one non-letter token
    expected = np.exp([2.0, 1.0, 1.0]) / np.exp([2.0, 1.0, 1.0]).sum()
    p = tempered_class_probs(z, LETTER_IDS, 1.0)
    assert p[0] == pytest.approx(expected[0], abs=1e-9)
    assert p[1] == pytest.approx(expected[1], abs=1e-9)
    assert p[-1] == pytest.approx(expected[2], abs=1e-9)  # the non-letter is "no verdict"
    half = tempered_class_probs(z, LETTER_IDS, 0.5)
    assert half[0] == pytest.approx(np.exp(4) / (np.exp(4) + 2 * np.exp(2)), abs=1e-9)


def test_temperature_zero_is_the_argmax_even_when_it_is_no_letter() -> None:
    assert tempered_class_probs(_logits({10: 2.0, 11: 1.9}), LETTER_IDS, T_ZERO).tolist() == [
        1,
        0,
        0,
        0,
        0,
        0,
    ]
    assert tempered_class_probs(_logits({3: 2.0, 11: 1.9}), LETTER_IDS, T_ZERO)[-1] == 1.0


def test_a_concentrated_judge_is_fully_consistent_with_omega_one() -> None:
    probs = [np.eye(6)[i % 5] for i in range(8)]  # always the same letter per question
    correct = np.array([1, 2, 3, 4, 5, 1, 5, 5])  # right on 6 of 8
    rows = reliability_by_temperature(_judge(probs), [f"q{i}" for i in range(8)], correct, seed=0)
    for row in rows:
        assert row["omega"] == 1.0 and row["alpha"] == 1.0
        assert row["consistent"].mean() == 1.0
        assert row["modal_correct"].mean() == 0.75  # consistency 1, accuracy 0.75


def test_a_uniform_judge_has_low_consistency_and_low_reliability() -> None:
    probs = [np.append(np.full(5, 0.2), 0.0) for _ in range(12)]
    rows = reliability_by_temperature(
        _judge(probs), [f"q{i}" for i in range(12)], np.ones(12, dtype=int), seed=0
    )
    assert all(r["consistent"].mean() == 0.0 for r in rows)
    # The paper's procedure correlates absolute values, so even pure noise scores ~0.5 with 12
    # questions (the floor the experiment reports); a concentrated judge scores 1.
    assert all(r["alpha"] < 0.6 and r["omega"] < 0.7 for r in rows)
    assert all(0.1 < r["draw_accuracy"] < 0.3 for r in rows)


def test_draws_follow_the_distribution_and_repeat_with_the_seed() -> None:
    p = np.array([[0.5, 0.3, 0.1, 0.05, 0.05, 0.0]])
    a = draw_verdicts(np.repeat(p, 1, axis=0), 20000, seed=3, temperature_index=0, item_ids=["x"])
    b = draw_verdicts(p, 20000, seed=3, temperature_index=0, item_ids=["x"])
    assert np.array_equal(a, b)
    freq = np.bincount(a[:, 0], minlength=7)[1:] / 20000
    assert np.abs(freq - p[0]).max() < 0.015
    assert set(np.unique(a)) <= {1, 2, 3, 4, 5}


def test_modal_pick_consistency_and_rank_by_hand() -> None:
    verdicts = np.array([[1, 2, 6], [1, 3, 6], [1, 2, 6]])  # 3 replications x 3 questions
    assert fully_consistent(verdicts).tolist() == [1.0, 0.0, 1.0]
    assert modal_correct(verdicts, np.array([1, 3, NO_VERDICT_CODE])).tolist() == [1.0, 0.0, 1.0]
    one = np.array([0.2, 0.3, 0.1, 0.1, 0.0, 0.3])
    assert share_and_rank(np.eye(6)[0], one) == (0.2, 3)  # two outcomes beat A at T=1
    assert share_and_rank(np.eye(6)[1], one) == (0.3, 1)


@pytest.mark.slow
def test_score_matches_the_engine_and_itself(smollm: str) -> None:
    from homogeny import models
    from homogeny.models.params import SamplingParams
    from homogeny.suites.prompt import Prompt

    prompt = Prompt("p", "The capital of France is")
    with models.open(smollm, need="score") as backend:
        last = backend.score(prompt, "", next_token=True).next_logprobs
        whole = backend.score("", prompt.text, next_token=True)
        head, tail = prompt.text.rsplit(" ", 1)
        split = backend.score(head, " " + tail, next_token=True)
        top = backend.generate(prompt, SamplingParams(temperature=0, max_tokens=1, chat=False), [1])
    np.testing.assert_allclose(whole.next_logprobs, last, atol=1e-3)
    np.testing.assert_allclose(split.next_logprobs, last, atol=1e-3)
    np.testing.assert_allclose(whole.logprobs[-len(split.logprobs) :], split.logprobs, atol=1e-3)
    assert np.exp(last).sum() == pytest.approx(1.0)
    for tok, lp in top[0].top_logprobs[0]:
        assert last[tok] == pytest.approx(lp, abs=1e-4)


@pytest.mark.slow
def test_drawn_verdicts_have_the_distribution_of_engine_sampling(smollm: str, tmp_path) -> None:
    """The 100 replications are drawn from the letter distribution read once; this checks that
    sampling the verdict token through the engine at temperature 1 gives the same distribution."""
    from homogeny import models
    from homogeny.experiments.base import ExperimentContext
    from homogeny.experiments.c6_reliability import (
        judge_logprobs,
        letter_token_ids,
        raw_judge_prompt,
    )
    from homogeny.store import Store
    from homogeny.suites.catalog import judging_items

    n = 320
    with Store.open(tmp_path / "s.duckdb") as store, models.open(smollm, need="score") as backend:
        letter_ids = letter_token_ids(backend)
        code_of = {tok: code for code, ids in enumerate(letter_ids) for tok in ids}
        ctx = ExperimentContext(
            store=store, models=[smollm], quick=True, progress=False, log=lambda m: None
        )
        for item in judging_items(quick=True)[:2]:
            logprobs = judge_logprobs(backend, item, False)
            predicted = tempered_class_probs(logprobs, letter_ids, 1.0)
            rows = ctx.sample(
                smollm, [raw_judge_prompt(item)], n, temperature=1.0, max_tokens=1, chat=False
            )[item.id]
            codes = [code_of.get(r["token_ids"][0], len(LETTERS)) for r in rows]
            observed = np.bincount(codes, minlength=6)
            assert 0.5 * np.abs(observed / n - predicted).sum() < 0.1
            keep = predicted * n >= 5  # chi-square needs expected counts >= 5: pool the rest
            f_exp = np.append(predicted[keep] * n, predicted[~keep].sum() * n)
            f_obs = np.append(observed[keep], observed[~keep].sum())
            if f_exp[-1] < 5:
                f_exp, f_obs = f_exp[:-1], f_obs[:-1]
                f_exp *= f_obs.sum() / f_exp.sum()
            assert chisquare(f_obs, f_exp).pvalue > 0.001


@pytest.mark.slow
def test_quick_run_end_to_end_and_rerun_reads_nothing_new(smollm: str, tmp_path) -> None:
    from homogeny.experiments.base import ExperimentContext
    from homogeny.experiments.registry import run_in_store
    from homogeny.store import Store

    with Store.open(tmp_path / "s.duckdb") as store:
        ctx = ExperimentContext(
            store=store,
            models=[smollm],
            quick=True,
            progress=False,
            log=lambda m: None,
            options={"reliability_data": str(tmp_path / "absent")},
        )
        first = run_in_store(store, "c6", ctx)
        assert store.artifact("c6", "judge")["computed_now"] == 10
        samples = store.count("samples")
        second = run_in_store(store, "c6", ctx)
        assert store.artifact("c6", "judge")["computed_now"] == 0
        assert store.count("samples") == samples
        assert [(e.metric, e.effect) for e in first] == [(e.metric, e.effect) for e in second]
        head = next(e for e in first if e.metric == "consistency_minus_accuracy_t0")
        assert head.n == 10 and head.ci_low <= head.effect <= head.ci_high
        curve = store.artifact("c6", "reliability_by_temperature")
        assert curve["series"]["share fully consistent"][-1] == 1.0  # temperature ~0
        assert curve["series"]["McDonald's omega"][-1] == 1.0


@pytest.mark.slow
def test_the_paper_table_check_reproduces_one_judge() -> None:
    from pathlib import Path

    from homogeny.experiments.c6_reliability import paper_check

    folder = Path(__file__).resolve().parents[2] / "shared" / "data" / "llm-reliability"
    if not (folder / "full_judgments.zip").exists():
        pytest.skip("../shared/data/llm-reliability is not here")
    rows = paper_check(folder, max_judges=1)
    assert len(rows) == 10  # 5 temperatures x {omega, alpha}
    assert max(abs(r["paper"] - r["homogeny"]) for r in rows) < 1e-4
