"""C2: GRPO on the toy GPT moves format shares, the metrics match hand-computed values, and
the experiment returns valid, reproducible evidence."""

from __future__ import annotations

import math
from dataclasses import replace

import pytest
import torch

from homogeny.experiments.base import Evidence, ExperimentContext
from homogeny.experiments.c2_training import (
    RLFormatCollapse,
    classify_real_format,
    format_entropy,
    winner_agreement,
)
from homogeny.store import Store
from homogeny.toy.arithmetic import ALPHABET, classify_format, make_problems, pretraining_corpus
from homogeny.toy.gpt import GPT, SIZES, CharTokenizer, GPTConfig, train_lm
from homogeny.toy.rl import (
    RLConfig,
    _group_advantages,
    format_shares,
    majority_correct,
    pass_at_k,
    rl_finetune,
)

TOK = CharTokenizer(ALPHABET)


def test_pass_at_k_matches_the_formula() -> None:
    assert pass_at_k(4, 1, 2) == pytest.approx(1 - math.comb(3, 2) / math.comb(4, 2))  # 0.5
    assert pass_at_k(10, 3, 4) == pytest.approx(1 - math.comb(7, 4) / math.comb(10, 4))
    assert pass_at_k(5, 0, 3) == 0.0
    assert pass_at_k(5, 5, 3) == 1.0
    assert pass_at_k(8, 2, 1) == pytest.approx(2 / 8)
    with pytest.raises(ValueError):
        pass_at_k(3, 1, 4)


def test_majority_vote() -> None:
    assert majority_correct([7, 7, 3, None], 7)
    assert not majority_correct([3, 7, 7, 3], 7)  # tie: the answer seen first wins
    assert not majority_correct([None, None], 7)


def test_format_shares_and_advantages() -> None:
    shares = format_shares(["x=1\nprint(x)", "<ans>2</ans>", "So $1+1=2$.", "junk"])
    assert shares == {"code": 0.25, "tagged": 0.25, "nl": 0.25, "other": 0.25}
    adv = _group_advantages(torch.tensor([[1.0, 0.0, 0.0, 0.0], [1.0, 1.0, 1.0, 1.0]]), scale_by_std=False)
    assert adv.tolist() == [[0.75, -0.25, -0.25, -0.25], [0.0, 0.0, 0.0, 0.0]]
    scaled = _group_advantages(torch.tensor([[1.0, 0.0, 0.0, 0.0]]), scale_by_std=True)
    assert scaled[0, 0].item() == pytest.approx(0.75 / math.sqrt(0.1875), rel=1e-3)


@pytest.fixture(scope="module")
def pretrained_tiny() -> GPT:
    texts = pretraining_corpus(600, {"code": 0.4, "tagged": 0.3, "nl": 0.3}, seed=0, max_operand=9)
    model = GPT(GPTConfig(vocab_size=TOK.vocab_size, block_size=128, **SIZES["tiny"]))
    train_lm(model, TOK, texts, steps=120, batch_size=16, lr=3e-3, seed=0)
    return model


def _clone(model: GPT) -> GPT:
    copy = GPT(model.config)
    copy.load_state_dict(model.state_dict())
    return copy


@pytest.mark.slow
def test_rl_moves_share_toward_the_rewarded_format(pretrained_tiny: GPT) -> None:
    """Controlled case: only the code format is ever rewarded, so its share must rise."""
    problems = make_problems(16, seed=1, max_operand=9)
    config = RLConfig(epochs=3, prompts_per_step=4, group_size=6, lr=3e-3, eval_k=6, max_new_tokens=40, evals_per_epoch=1)
    model = _clone(pretrained_tiny)
    result = rl_finetune(model, TOK, problems, problems[:6], config, reward=lambda p, t: float(classify_format(t) == "code"))
    shares = [e["shares"]["code"] for e in result.evals]
    assert len(result.steps) == 12 and result.steps_per_epoch == 4 and len(shares) == 4
    assert shares[-1] > shares[0] + 0.2
    assert {"pass@1", "pass@G", "majority@G", "distinct", "shares", "mean_reward"} <= set(result.steps[0])


@pytest.mark.slow
def test_rl_same_seed_same_numbers(pretrained_tiny: GPT) -> None:
    problems = make_problems(8, seed=2, max_operand=9)
    config = RLConfig(epochs=1, prompts_per_step=4, group_size=4, eval_k=4, max_new_tokens=40, kl_coef=0.1, seed=3)
    a = rl_finetune(_clone(pretrained_tiny), TOK, problems, problems[:4], config)
    b = rl_finetune(_clone(pretrained_tiny), TOK, problems, problems[:4], config)
    assert a.as_dict() == b.as_dict()
    c = rl_finetune(_clone(pretrained_tiny), TOK, problems, problems[:4], replace(config, seed=4))
    assert c.steps != a.steps


def test_winner_agreement() -> None:
    by_size = {"tiny": ["code", "code", "code"], "small": ["nl", "nl", "nl"]}
    assert winner_agreement(by_size, [0, 1, 2]) == 1.0  # within sizes always, across never
    same = {"tiny": ["code", "nl", "code"], "small": ["code", "nl", "code"]}
    assert winner_agreement(same, [0, 1, 2]) == pytest.approx(1 / 3 - 1.0)
    assert math.isnan(winner_agreement(by_size, [1, 1, 1]))


@pytest.mark.parametrize(
    ("text", "fmt"),
    [
        ("```python\napples = 12 - 5\nprint(apples)\n```", "code"),
        ("def solve():\n    return 7", "code"),
        ("She has $12 - 5 = 7$ apples left.", "latex"),
        ("So \\(12-5=7\\). The answer is \\boxed{7}.", "latex"),
        ("Maria gives away five, so she keeps seven apples.", "prose"),
        (" 7", "bare"),
        ("", "bare"),
    ],
)
def test_real_format_classifier(text: str, fmt: str) -> None:
    assert classify_real_format(text) == fmt


def test_format_entropy() -> None:
    assert format_entropy([4, 0, 0, 0]) == 0.0
    assert format_entropy([1, 1, 1, 1]) == pytest.approx(2.0)
    assert format_entropy([[1, 0, 0, 0], [0, 1, 0, 0]]) == pytest.approx(1.0)


@pytest.mark.slow
def test_experiment_quick_run_gives_valid_reproducible_evidence() -> None:
    def run() -> tuple[list[Evidence], Store]:
        store = Store.open(":memory:")
        ctx = ExperimentContext(store=store, models=[], quick=True, seed=0, progress=False, log=lambda _: None)
        return RLFormatCollapse().run(ctx), store

    rows, store = run()
    assert {e.metric for e in rows} == {
        "dominant_share_gain_first_epoch", "epochs_until_90pct_format", "pass_at_k_change",
        "majority_minus_pass_at_k_change", "kl_minority_share_gain", "winner_depends_on_size",
    }
    for e in rows:
        assert e.claim == "c2" and e.quick and e.verdict in ("supported", "contradicted", "inconclusive")
        assert e.ci_low <= e.effect <= e.ci_high
        e.as_row()
    assert store.artifact("c2", "pretrain_curves").keys() == {"tiny", "small"}
    assert len(store.artifact("c2", "runs")) == 2 * 2 * 2
    again, _ = run()
    assert [(e.metric, e.effect, e.ci_low, e.ci_high) for e in again] == [(e.metric, e.effect, e.ci_low, e.ci_high) for e in rows]
