"""C7: self-training loops, their filters and anchors, and the experiment's evidence."""

from __future__ import annotations

import json
import math
from functools import lru_cache

import numpy as np
import pytest

from homogeny.errors import HomogenyError
from homogeny.experiments.base import Evidence, ExperimentContext
from homogeny.experiments.c7_anchors import AnchorsPlan, SelfImprovementAnchors, toy_study
from homogeny.experiments.c7_anchors.real_study import (
    fact_correct,
    math_correct,
    most_novel,
    ngram_overlap,
    verifier_score,
)
from homogeny.metrics.answers import last_number, mentions_answer, states_number
from homogeny.store import Store
from homogeny.suites.prompt import Prompt
from homogeny.toy import arithmetic, gpt, selftrain
from homogeny.toy.selftrain import RoundMetrics, SelfTrainConfig

# A setup where collapse is known to happen: one-digit sums (100 problems, learnt in seconds),
# sampling for self-training at a low temperature, which sharpens the model's style
# distribution every round until minority styles vanish.
SMALL = SelfTrainConfig(
    digits=1,
    pretrain_texts=1500,
    pretrain_steps=300,
    rounds=5,
    problems_per_round=24,
    samples_per_problem=6,
    train_temperature=0.5,
    finetune_steps=30,
    eval_problems=24,
    eval_samples=6,
)


@lru_cache(maxsize=1)
def pretrained() -> tuple[gpt.GPT, gpt.CharTokenizer]:
    model, tok, curve = selftrain.pretrain(SMALL, seed=0)
    assert curve[-1] < curve[0]
    return model, tok


def test_majority_vote_keeps_every_sample_with_the_winning_answer() -> None:
    samples = ["7+8=15;ans 15", "16", "15", "9+9=18;ans 18"]
    assert selftrain.majority_vote(samples) == ["7+8=15;ans 15", "15"]
    assert selftrain.majority_vote(["16", "15"]) == ["16"]  # a tie goes to the answer seen first
    assert selftrain.majority_vote(["no answer", "+="]) == []


def test_exact_checker_reads_the_stated_sum() -> None:
    p = arithmetic.AdditionProblem(57, 68)
    for style, text in arithmetic.addition_solutions(p).items():
        assert selftrain.is_correct(p, text), style
    assert not selftrain.is_correct(p, "7+8=15;5+6+1=12;ans 124")


def test_loss_per_round_is_minus_the_slope() -> None:
    history = [RoundMetrics(r, 1.0, 1.0, 4.0 - r, 1.0) for r in range(4)]
    assert selftrain.loss_per_round(history, "distinct_correct") == pytest.approx(1.0)
    assert selftrain.loss_per_round(history, "pass_at_1") == pytest.approx(0.0, abs=1e-12)


def test_ground_truth_texts_follow_the_style_mix() -> None:
    config = SelfTrainConfig(style_mix=(0.0, 1.0, 0.0, 0.0))
    texts = selftrain.ground_truth_texts(20, config, seed=0)
    assert {arithmetic.classify_addition_style(t.split("=", 1)[1]) for t in texts} == {"column"}


def test_real_answer_checkers() -> None:
    maths = Prompt(id="m", text="2+5?", meta={"answer": 7})
    assert math_correct(maths, "She has 3, then 7 apples. The answer is 7.")
    assert not math_correct(maths, "The answer is 17")
    fact = Prompt(id="f", text="?", meta={"answer": "11", "aliases": ["eleven"]})
    assert fact_correct(fact, "Eleven players.") and fact_correct(fact, "There are 11.")
    assert not fact_correct(fact, "There are 111.")


def test_shared_answer_matching_respects_word_and_number_boundaries() -> None:
    assert mentions_answer("The capital is Paris.", "paris")
    assert not mentions_answer("A Parisian café", "Paris")
    assert not mentions_answer("about 0.11 or 11.5", "11")
    assert mentions_answer("It is 11.", 11) and mentions_answer("x", "y", aliases=["X"])
    assert last_number("from 3 to 1,200.") == "1200" and last_number("none") is None
    assert states_number("so 2.5 in total", "2.5") and not states_number("7.5", 5)


def test_lexical_novelty_judge_picks_the_least_overlapping_candidate() -> None:
    earlier = ["the cat sat on the mat", "a cat sat on a mat today"]
    candidates = ["the cat sat on the mat again", "dogs run through wet grass"]
    assert ngram_overlap("a b c", "a b c") == 1.0 and ngram_overlap("a b", "c d") == 0.0
    assert most_novel(candidates, earlier) == "dogs run through wet grass"


def test_verifier_score_weighs_yes_against_no_in_the_first_token() -> None:
    # stored tops as a server gives them (token strings); "No" holds three times "Yes"'s mass
    row = {
        "text": "No.",
        "top_logprobs_json": json.dumps(
            {"top": [[[" No", math.log(0.6)], ["Yes", math.log(0.2)], [" maybe", math.log(0.2)]]]}
        ),
    }
    assert verifier_score("openai:http://x/v1#m", row) == pytest.approx(0.25)
    # neither word among the tops: the reply's own first word decides
    assert (
        verifier_score(
            "m", {"text": " Yes, it is", "top_logprobs_json": json.dumps({"top": [[["I", -0.1]]]})}
        )
        == 1.0
    )
    assert verifier_score("m", {"text": "Perhaps", "top_logprobs_json": None}) == 0.0


@pytest.mark.slow
def test_self_verifier_prefers_what_the_model_finds_likely() -> None:
    model, tok = pretrained()
    problem = arithmetic.AdditionProblem(3, 4)
    right, wrong = arithmetic.format_addition(problem, "column"), "3+4=9;ans 9"
    assert selftrain.self_verified(model, tok, problem.prompt, [wrong, right], keep=0.5) == [right]


@lru_cache(maxsize=4)
def loop(filter_name: str) -> list[RoundMetrics]:
    model, tok = pretrained()
    return selftrain.self_train(model, tok, filter_name, SMALL, seed=0)[1]


@pytest.mark.slow
def test_self_training_without_an_anchor_loses_diversity() -> None:
    history = loop("none")
    assert len(history) == SMALL.rounds + 1
    first, last = history[0], history[-1]
    assert last.distinct_correct < first.distinct_correct - 0.5
    assert last.coverage < first.coverage
    assert selftrain.loss_per_round(history, "distinct_correct") > 0


@pytest.mark.slow
def test_exact_checker_keeps_accuracy_and_trains_only_on_correct_answers() -> None:
    history, unanchored = loop("exact_checker"), loop("none")
    assert all(m.kept_accuracy == 1.0 for m in history[1:])
    # pass@1 over 24 x 6 draws moves by ~0.04 between rounds (and across CPUs), so the anchor is
    # judged on its rounds' mean against the unanchored loop's, and on a loose floor
    mean_pass = [float(np.mean([m.pass_at_1 for m in h[1:]])) for h in (history, unanchored)]
    assert mean_pass[0] > mean_pass[1] + 0.05
    assert history[-1].pass_at_1 >= history[0].pass_at_1 - 0.15


@pytest.mark.slow
def test_self_training_is_deterministic_for_a_seed() -> None:
    model, tok = pretrained()
    config = SelfTrainConfig(**{**SMALL.__dict__, "rounds": 1})
    runs = [
        selftrain.history_rows(selftrain.self_train(model, tok, "majority", config, seed=3)[1])
        for _ in range(2)
    ]
    assert runs[0] == runs[1]


# ---- the experiment's rows: roles, units, the primary rule, direction ------------------------


def _history(coverage_loss: float, rounds: int = 5) -> list[RoundMetrics]:
    return [RoundMetrics(r, 0.9, 1.0, 3.0, 0.9 - coverage_loss * r) for r in range(rounds + 1)]


def _histories(majority: list[float], anchored: list[float]) -> toy_study.Histories:
    out: toy_study.Histories = {}
    for name in selftrain.FILTERS:
        losses = anchored if name in selftrain.ANCHORS else majority
        out[name] = [_history(x) for x in losses]
    return out


def _rows(plan: AnchorsPlan, histories: toy_study.Histories) -> list[Evidence]:
    ctx = ExperimentContext(store=Store.open(":memory:"), models=[], log=lambda m: None)
    rule = SelfImprovementAnchors.primary
    return list(toy_study.toy_rows(ctx, plan, histories, rule))


def _primary(rows: list[Evidence]) -> Evidence:
    (row,) = [r for r in rows if r.role == "primary"]
    return row


def test_primary_row_follows_the_direction_of_controlled_histories() -> None:
    plan = AnchorsPlan.full()
    assert plan.seeds >= 6 and not plan.shared_pretraining  # an exact test that can decide
    rng = np.random.default_rng(0)
    noise = list(rng.uniform(0.0, 0.004, plan.seeds))
    collapse = [0.03 + x for x in noise]  # the majority loop loses 3 points a round
    kept = [0.0 + x for x in noise[::-1]]  # the anchored loops lose nothing
    rows = _rows(plan, _histories(collapse, kept))
    primary = _primary(rows)
    assert primary.metric == SelfImprovementAnchors.primary.metric
    assert primary.verdict == "supported" and primary.n == plan.seeds
    assert primary.effect == pytest.approx(np.mean(collapse) - np.mean(kept))
    assert primary.null_rate is not None and primary.null_rate <= 0.05
    assert _primary(_rows(plan, _histories(kept, collapse))).verdict == "contradicted"


def test_quick_plan_counts_shared_pretraining_as_one_unit() -> None:
    plan = AnchorsPlan.quick()
    assert plan.shared_pretraining and plan.seeds == 3
    rows = _rows(plan, _histories([0.03, 0.04, 0.05], [0.0, 0.0, 0.0]))
    assert all(r.n == 1 and r.verdict == "inconclusive" for r in rows)
    assert "count as one unit" in _primary(rows).sign


def test_every_row_has_a_role_a_unit_and_a_fixed_metric_id() -> None:
    rows = _rows(AnchorsPlan.full(), _histories([0.02] * 8, [0.01] * 8))
    assert [r.role for r in rows].count("primary") == 1
    assert len(rows) == 1 + len(toy_study.UNANCHORED) + 2 * len(selftrain.ANCHORS)
    for r in rows:
        assert r.role in ("primary", "secondary") and r.unit and r.source
        assert r.metric.isidentifier() and r.metric == r.metric.lower()
    ids = {(r.metric, r.subject) for r in rows}
    assert len(ids) == len(rows)  # the subject (filter, anchor) tells replicates apart


def test_plan_options_are_strict() -> None:
    plan = AnchorsPlan.for_run(True, {"seeds": "4", "pretrain-steps": 10})
    assert plan.seeds == 4 and plan.toy_config().pretrain_steps == 10
    with pytest.raises(HomogenyError, match="unknown option"):
        AnchorsPlan.for_run(True, {"pretrian_steps": 10})


@pytest.mark.slow
def test_run_gives_one_primary_row_curves_and_independent_seeds() -> None:
    store = Store.open(":memory:")
    options = {
        "seeds": 2,
        "shared_pretraining": False,
        "pretrain_steps": 150,
        "rounds": 3,
        "problems_per_round": 8,
        "samples_per_problem": 3,
        "finetune_steps": 5,
        "eval_problems": 8,
        "eval_samples": 3,
    }
    ctx = ExperimentContext(
        store=store, models=[], quick=True, seed=0, log=lambda m: None, options=options
    )
    evidence = SelfImprovementAnchors().run(ctx)  # run() checks the declared primary
    assert len(evidence) == 1 + len(toy_study.UNANCHORED) + 2 * len(selftrain.ANCHORS)
    for e in evidence:
        assert e.claim == "c7" and e.n == 2 and e.verdict == "inconclusive"  # n < 6
        assert e.ci_low <= e.effect <= e.ci_high and np.isfinite(e.effect)
    store.replace_evidence("c7", [e.as_row() for e in evidence])
    curves = store.artifact("c7", "self_training_curves")
    assert set(curves["coverage"]["series"]) == set(selftrain.FILTERS)
    assert len(curves["pass_at_1"]["x"]) == 4
    assert len(store.artifact("c7", "pretraining_loss")["series"]) == 2  # one model per seed
    histories = store.artifact("c7", "self_training_histories")
    assert histories["checkpoints"] is None  # in-memory store: no files
