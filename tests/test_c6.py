"""C6 (consistency vs reliability): the protocol on hand-made judge distributions, the primary
row's direction on controlled judges (the whole experiment, on a real store, with the judge's
verdict distributions laid in its cache), the exact letter reading against the engine's own
sampling, and the experiment end to end on a real model."""

from __future__ import annotations

import numpy as np
import pytest
from scipy.stats import chisquare

from homogeny.errors import HomogenyError
from homogeny.experiments.base import ExperimentContext
from homogeny.experiments.c6_reliability import (
    LETTERS,
    NO_VERDICT_CODE,
    PRIMARY_METRIC,
    T_ZERO,
    TEMPERATURES,
    ConsistencyReliability,
    Plan,
    draw_verdicts,
    fully_consistent,
    modal_correct,
    reliability_by_temperature,
    jackknife_scaled_omega,
    share_and_rank,
    tempered_class_probs,
)
from homogeny.experiments.c6_reliability.rows import majority_row
from homogeny.metrics import judge_reliability
from homogeny.store import Store

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


def test_jackknife_pseudo_values_resample_questions_not_one_omega() -> None:
    rng = np.random.default_rng(0)
    varying = rng.integers(1, 6, size=(100, 6)).astype(float)
    constant = np.column_stack([np.full(100, 2.0), np.full(100, 5.0)])
    silent = np.full((100, 1), float(NO_VERDICT_CODE))  # no verdict anywhere: left out
    verdicts = np.column_stack([varying, constant, silent])
    noise = rng.integers(1, 6, size=(100, 9)).astype(float)
    parts = jackknife_scaled_omega(verdicts, noise)
    assert parts.size == 8  # the silent question is dropped, as the paper drops it
    # one omega is not split into equal parts: the questions differ in their influence
    assert np.ptp(parts[:6]) > 0.0
    kept = [0, 1, 2, 3, 4, 5, 6, 7]
    full = judge_reliability(verdicts[:, kept]).omega
    floor = judge_reliability(noise[:, kept]).omega
    scaled = (full - floor) / (1 - floor)
    assert parts.mean() == pytest.approx(scaled, abs=1e-12)  # centred on the paper's statistic
    pseudo = parts - scaled  # + the pseudo-values' mean, unknown here: compare differences
    loo = (8 * scaled - pseudo) / 7
    loo = loo - loo[0]
    drop_first = [1, 2, 3, 4, 5, 6, 7]
    first = judge_reliability(verdicts[:, drop_first]).omega
    first_floor = judge_reliability(noise[:, drop_first]).omega
    drop_last = [0, 1, 2, 3, 4, 5, 6]
    last = judge_reliability(verdicts[:, drop_last]).omega
    last_floor = judge_reliability(noise[:, drop_last]).omega
    expected = (last - last_floor) / (1 - last_floor) - (first - first_floor) / (1 - first_floor)
    assert loo[7] == pytest.approx(expected, abs=1e-9)  # the leave-one-out values, undone
    # a perfectly consistent judge: every pseudo-value is 1
    assert (
        jackknife_scaled_omega(np.tile([1.0, 2.0, 3.0, 4.0], (100, 1)), noise[:, :4]).tolist()
        == [1.0] * 4
    )
    assert np.isnan(jackknife_scaled_omega(verdicts[:, :2], noise[:, :2])).all()  # too few


def test_majority_row_follows_the_data(tmp_path) -> None:
    """T ~ 0 repeats a wrong letter; the T = 1 majority is right on every question."""
    one = np.array([0.1, 0.6, 0.1, 0.1, 0.1, 0.0])  # B most likely at T = 1
    dists = {f"q{i}": {t: one for t in TEMPERATURES} for i in range(12)}
    for d in dists.values():
        d[T_ZERO] = np.eye(6)[0]  # but T ~ 0 says A
    ids = list(dists)
    rows = reliability_by_temperature(dists, ids, np.full(12, 2), seed=0)
    with Store.open(tmp_path / "s.duckdb") as store:
        ctx = ExperimentContext(store=store, models=[], quick=True, progress=False)
        row = majority_row(ctx, "toy", rows)
    assert row.effect == 1.0 and row.verdict == "supported" and row.role == "secondary"
    assert row.unit == "share of questions" and row.n_units == 12


def _run_on_laid_distributions(smollm: str, tmp_path, probs_of) -> list:
    """The whole experiment (quick plan) with the judge's verdict distributions laid in the
    store's cache beforehand, so no model is loaded: probs_of(index) gives question i's."""
    from homogeny.experiments.c6_reliability.judge import CACHE_ARTIFACT, _cache_key
    from homogeny.models import model_info
    from homogeny.suites.catalog import judging_items

    info = model_info(smollm)
    items = judging_items()[: Plan.quick().items]
    with Store.open(tmp_path / "s.duckdb") as store:
        cache = {
            _cache_key(info.sha256, it, info.kind != "base"): {
                repr(t): probs_of(i).tolist() for t in TEMPERATURES
            }
            for i, it in enumerate(items)
        }
        store.put_artifact("c6", CACHE_ARTIFACT, cache)
        ctx = ExperimentContext(
            store=store, models=[smollm], quick=True, progress=False, log=lambda m: None,
            options={"reliability_data": str(tmp_path / "absent")},
        )  # fmt: skip
        rows = ConsistencyReliability().run(ctx)
        assert store.artifact("c6", "judge")["computed_now"] == 0  # nothing was read
    return rows


def test_one_primary_row_and_every_row_typed(smollm: str, tmp_path) -> None:
    rows = _run_on_laid_distributions(smollm, tmp_path, lambda i: np.eye(6)[i % 5])
    assert [r.role for r in rows].count("primary") == 1
    assert all(r.role and r.unit and r.subject for r in rows)
    assert {r.metric: r.role for r in rows} == {
        PRIMARY_METRIC: "primary",
        "t1_majority_minus_t0_accuracy": "secondary",
        "consistency_minus_accuracy_t0": "sanity",
        "t1_mass_outside_t0_verdict": "sanity",
    }
    primary = rows[0]
    assert primary.n_units == 9 and primary.unit.startswith("omega scaled")


@pytest.mark.parametrize(
    ("kind", "verdict"), [("one letter", "contradicted"), ("uniform", "supported")]
)
def test_primary_direction_on_controlled_judges(smollm: str, tmp_path, kind, verdict) -> None:
    """A judge that gives one letter per question even at T = 1 is reliable in the paper's
    sense (omega 1): the claim is contradicted. A judge that picks uniformly at random at
    T = 1 sits on the random judge's floor: supported."""
    uniform = np.append(np.full(5, 0.2), 0.0)
    rows = _run_on_laid_distributions(
        smollm,
        tmp_path,
        (lambda i: np.eye(6)[i % 5]) if kind == "one letter" else lambda i: uniform,
    )
    primary = next(r for r in rows if r.role == "primary")
    assert primary.verdict == verdict
    if kind == "one letter":
        assert primary.effect == 1.0
    else:
        assert abs(primary.effect) < 0.3  # near the floor (one random-judge draw of 9 questions)


def test_plan_quick_full_and_strict_options() -> None:
    assert Plan.quick().items == 9 and Plan.quick().paper_judges == 1
    assert Plan.full().items == 0 and Plan.full().replications == 100  # 0 = every item
    assert Plan.for_run(True, {"reliability_data": "/x"}).reliability_data == "/x"
    with pytest.raises(HomogenyError, match="unknown option"):
        Plan.for_run(False, {"replicates": 10})


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
    from homogeny.experiments.c6_reliability import (
        judge_logprobs,
        letter_token_ids,
        raw_judge_prompt,
    )
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
    from homogeny.experiments.registry import run_in_store

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
        assert store.artifact("c6", "judge")["computed_now"] == 9
        samples = store.count("samples")
        second = run_in_store(store, "c6", ctx)
        assert store.artifact("c6", "judge")["computed_now"] == 0
        assert store.count("samples") == samples
        assert [(e.metric, e.effect) for e in first] == [(e.metric, e.effect) for e in second]
        assert [e.role for e in first].count("primary") == 1
        assert all(e.role and e.unit and e.subject == "smollm2-135m" for e in first)
        head = next(e for e in first if e.role == "primary")
        assert head.metric == PRIMARY_METRIC and head.n_units == 9
        assert head.ci_low <= head.effect <= head.ci_high and head.null_rate is not None
        sanity = next(e for e in first if e.metric == "consistency_minus_accuracy_t0")
        assert sanity.role == "sanity" and sanity.n == 9
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
