"""C7: self-training loops, their filters and anchors, and the experiment's evidence."""

from __future__ import annotations

import json
import math
from functools import lru_cache

import numpy as np
import pytest

from homogeny.experiments.base import Evidence, ExperimentContext
from homogeny.experiments.c7_anchors import (
    QUICK,
    SelfImprovementAnchors,
    fact_correct,
    math_correct,
    verifier_score,
)
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


def test_pass_at_k_matches_hand_computed_values() -> None:
    assert selftrain.pass_at_k(4, 1, 1) == pytest.approx(0.25)
    assert selftrain.pass_at_k(5, 2, 2) == pytest.approx(
        1 - math.comb(3, 2) / math.comb(5, 2)
    )  # 0.7
    assert selftrain.pass_at_k(4, 0, 4) == 0.0
    assert selftrain.pass_at_k(4, 1, 4) == 1.0


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


def test_verifier_score_weighs_yes_against_no_in_the_first_token() -> None:
    # stored tops as a server gives them (token strings); "No" holds three times "Yes"'s mass
    row = {"text": "No.", "top_logprobs_json": json.dumps(
        {"top": [[[" No", math.log(0.6)], ["Yes", math.log(0.2)], [" maybe", math.log(0.2)]]]})}
    assert verifier_score("openai:http://x/v1#m", row) == pytest.approx(0.25)
    # neither word among the tops: the reply's own first word decides
    assert verifier_score("m", {"text": " Yes, it is", "top_logprobs_json": json.dumps({"top": [[["I", -0.1]]]})}) == 1.0
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


@pytest.mark.slow
def test_quick_run_gives_valid_evidence_and_curves() -> None:
    store = Store.open(":memory:")
    options = {
        "c7": {
            "pretrain_steps": 150,
            "rounds": 5,
            "problems_per_round": 8,
            "samples_per_problem": 3,
            "finetune_steps": 5,
            "eval_problems": 8,
            "eval_samples": 3,
        }
    }
    ctx = ExperimentContext(
        store=store, models=[], quick=True, seed=0, log=lambda m: None, options=options
    )
    evidence = SelfImprovementAnchors().run(ctx)
    assert len(evidence) == 3 + 2 * len(selftrain.ANCHORS)
    for e in evidence:
        # 3 seeds even in --quick: a toy row needs n >= 3 for a verdict other than inconclusive
        assert isinstance(e, Evidence) and e.claim == "c7" and e.n == QUICK.seeds >= 3
        assert e.ci_low <= e.effect <= e.ci_high and np.isfinite(e.effect)
    store.replace_evidence("c7", [e.as_row() for e in evidence])
    curves = store.artifact("c7", "self_training_curves")
    assert set(curves["coverage"]["series"]) == set(selftrain.FILTERS)
    assert len(curves["pass_at_1"]["x"]) == 6
    assert (
        store.artifact("c7", "self_training_histories")["checkpoints"] is None
    )  # in-memory store: no files
