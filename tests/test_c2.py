"""C2: GRPO on the toy GPT moves format shares, the metrics match hand-computed values, the
rows test in the right direction on controlled run summaries, and the experiment returns one
primary row and valid, reproducible evidence."""

from __future__ import annotations

import math
from dataclasses import replace
from typing import Any

import pytest
import torch

from homogeny.errors import HomogenyError
from homogeny.experiments.base import Evidence, ExperimentContext
from homogeny.experiments.c2_training import (
    C2Plan,
    RLFormatCollapse,
    classify_real_format,
    format_entropy,
    size_shuffle_null,
    winner_agreement,
)
from homogeny.experiments.c2_training.real import real_rows, same_family_pairs
from homogeny.experiments.c2_training.rows import size_row, toy_rows
from homogeny.metrics.passk import pass_at_k
from homogeny.models.base import ModelInfo
from homogeny.store import Store
from homogeny.toy.arithmetic import ALPHABET, classify_format, make_problems, pretraining_corpus
from homogeny.toy.checkpoints import checkpoint_dir, checkpoint_folder
from homogeny.toy.gpt import GPT, SIZES, CharTokenizer, GPTConfig, train_lm
from homogeny.toy.rl import (
    RLConfig,
    _group_advantages,
    format_shares,
    majority_correct,
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
    with pytest.raises(ValueError):
        pass_at_k(3, 4, 2)


def test_majority_vote() -> None:
    assert majority_correct([7, 7, 3, None], 7)
    assert not majority_correct([3, 7, 7, 3], 7)  # tie: the answer seen first wins
    assert not majority_correct([None, None], 7)


def test_format_shares_and_advantages() -> None:
    shares = format_shares(["x=1\nprint(x)", "<ans>2</ans>", "So $1+1=2$.", "junk"])
    assert shares == {"code": 0.25, "tagged": 0.25, "nl": 0.25, "other": 0.25}
    adv = _group_advantages(
        torch.tensor([[1.0, 0.0, 0.0, 0.0], [1.0, 1.0, 1.0, 1.0]]), scale_by_std=False
    )
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
    config = RLConfig(
        epochs=3, prompts_per_step=4, group_size=6, lr=3e-3, eval_k=6, max_new_tokens=40
    )
    model = _clone(pretrained_tiny)
    result = rl_finetune(
        model,
        TOK,
        problems,
        problems[:6],
        config,
        reward=lambda p, t: float(classify_format(t) == "code"),
    )
    shares = [e["shares"]["code"] for e in result.evals]
    assert len(result.steps) == 12 and result.steps_per_epoch == 4 and len(shares) == 4
    assert shares[-1] > shares[0] + 0.2
    assert {"pass@1", "pass@G", "majority@G", "distinct", "shares", "mean_reward"} <= set(
        result.steps[0]
    )


@pytest.mark.slow
def test_rl_same_seed_same_numbers(pretrained_tiny: GPT) -> None:
    problems = make_problems(8, seed=2, max_operand=9)
    config = RLConfig(
        epochs=1,
        prompts_per_step=4,
        group_size=4,
        eval_k=4,
        max_new_tokens=40,
        kl_coef=0.1,
        seed=3,
    )
    a = rl_finetune(_clone(pretrained_tiny), TOK, problems, problems[:4], config)
    b = rl_finetune(_clone(pretrained_tiny), TOK, problems, problems[:4], config)
    assert a.as_dict() == b.as_dict()
    c = rl_finetune(_clone(pretrained_tiny), TOK, problems, problems[:4], replace(config, seed=4))
    assert c.steps != a.steps


# ---- plan ------------------------------------------------------------------------------------


def test_plan_quick_full_and_strict_options() -> None:
    full, quick = C2Plan.full(), C2Plan.quick()
    assert full.pretrain_seeds >= 3 and quick.pretrain_seeds >= 3  # issue 14: >= 3 per size
    assert len(full.sizes) * full.pretrain_seeds >= 9 and quick.sizes == ("tiny", "small")
    assert quick.rl.eval_k == 8 and full.rl.group_size == 8
    assert C2Plan.for_run(True, {"rl-seeds": "2"}).rl_seeds == 2
    assert C2Plan.for_run(False, {"sizes": "tiny,medium"}).sizes == ("tiny", "medium")
    with pytest.raises(HomogenyError, match="unknown option 'rl_seed'"):
        C2Plan.for_run(True, {"rl_seed": 2})
    with pytest.raises(HomogenyError, match="unknown model size 'huge'"):
        C2Plan.for_run(True, {"sizes": ("tiny", "huge")})


def test_one_checkpoint_folder_rule(tmp_path: Any) -> None:
    memory = ExperimentContext(store=Store.open(":memory:"), models=[])
    assert checkpoint_folder(memory, "c2") is None
    with checkpoint_dir(memory, "c2") as tmp:
        assert tmp.is_dir()
    assert not tmp.exists()
    with Store.open(str(tmp_path / "runs.duckdb")) as store:
        ctx = ExperimentContext(store=store, models=[])
        assert checkpoint_folder(ctx, "c2") == tmp_path / "runs_checkpoints" / "c2"
        off = ExperimentContext(store=store, models=[], options={"checkpoints": False})
        assert checkpoint_folder(off, "c2") is None


# ---- rows on controlled run summaries ---------------------------------------------------------

SIZES3 = ("tiny", "small", "medium")


def _run(
    size: str,
    p: int,
    crossing: float | None,
    winner: str = "nl",
    kl: float = 0.0,
    gain: float = 0.3,
    top: float = 0.9,
) -> dict[str, Any]:
    """A run summary as training.summarize_run writes it; `top` is the winner's end share."""
    start = {"code": 0.2, "tagged": 0.3, "nl": 0.4, "other": 0.1}
    fmts = ("code", "tagged", "nl")
    end = {f: (top if f == winner else (1 - top) / 2) for f in fmts} | {"other": 0.0}
    mid = {f: start[f] + (gain if f == "nl" else -gain / 2) for f in ("code", "tagged", "nl")}
    return {
        "size": size,
        "pretrain_seed": p,
        "seed": 0,
        "kl": kl,
        "shares_start": start,
        "shares_epoch1": mid | {"other": 0.1},
        "shares_end": end,
        "winner": winner,
        "initial_majority": "nl",
        "initial_most_accurate": "nl",
        "pass@1": [0.2, 0.3, 0.4],
        "pass@k": [0.6, 0.5, 0.4],
        "majority@k": [0.2, 0.3, 0.4],
        "distinct": [0.9, 0.5, 0.2],
        "k": 8,
        "crossing_epochs": crossing,
        "crossing_format": winner,
        "epochs": 3.0,
        "share_curve": [],
    }


def _rows(runs: list[dict[str, Any]], plan: C2Plan) -> dict[str, Evidence]:
    ctx = ExperimentContext(store=Store.open(":memory:"), models=[], quick=False)
    return {e.metric: e for e in toy_rows(ctx, runs, plan)}


def _plan() -> C2Plan:
    return replace(C2Plan.full(), sizes=SIZES3, pretrain_seeds=3)


def test_primary_row_direction_on_controlled_runs() -> None:
    models = [(z, p) for z in SIZES3 for p in range(3)]
    fast = [_run(z, p, 0.5) for z, p in models] + [
        _run(z, p, 2.0, kl=0.2, top=0.6) for z, p in models
    ]
    rows = _rows(fast, _plan())
    primary = rows["epochs_until_90pct_format"]
    assert primary.role == "primary" and primary.verdict == "supported"
    assert primary.n_units == 9 and primary.method.startswith("sign-flip")
    assert primary.null_rate is not None and primary.null_rate <= 0.025
    never = [_run(z, p, None) for z, p in models]  # never collapses: the run's length, 3 epochs
    assert _rows(never, _plan())["epochs_until_90pct_format"].verdict == "contradicted"
    assert rows["dominant_share_gain_first_epoch"].verdict == "supported"
    assert rows["pass_at_k_change"].verdict == "supported"
    assert (
        rows["kl_minority_share_gain"].verdict == "supported"
    )  # minorities 0.4 with KL, 0.1 without


def test_rl_seeds_are_nested_within_pretrained_models() -> None:
    """Two RL seeds per model: n counts pretrained models, not runs."""
    runs = [{**_run(z, p, 0.5), "seed": s} for z in SIZES3 for p in range(3) for s in (0, 1)]
    row = _rows(runs, replace(_plan(), rl_seeds=2))["epochs_until_90pct_format"]
    assert row.n_units == 9 and row.n == 9


def test_winner_agreement() -> None:
    by_size = {"tiny": ["code", "code", "code"], "small": ["nl", "nl", "nl"]}
    assert winner_agreement(by_size, [0, 1, 2]) == 1.0  # within sizes always, across never
    same = {"tiny": ["code", "nl", "code"], "small": ["code", "nl", "code"]}
    assert winner_agreement(same, [0, 1, 2]) == pytest.approx(1 / 3 - 1.0)
    assert math.isnan(winner_agreement(by_size, [1, 1, 1]))


def test_size_row_permutation_test() -> None:
    """Winners set by size: supported with 4 pretraining seeds (min p = 6/6^4), never with 3
    (6 of 216 shuffles tie the observed table, p = 1/36 > 0.025); winners set by the seed
    (the corpus) alone: never supported."""
    fmts = {"tiny": "code", "small": "nl", "medium": "tagged"}
    by_size = [_run(z, p, 1.0, winner=fmts[z]) for z in SIZES3 for p in range(4)]
    plan4 = replace(_plan(), pretrain_seeds=4)
    assert size_row(by_size, plan4, False, ()).verdict == "supported"
    three = [r for r in by_size if r["pretrain_seed"] < 3]
    assert size_row(three, _plan(), False, ()).verdict == "inconclusive"
    by_seed = [_run(z, p, 1.0, winner=("code", "nl")[p % 2]) for z in SIZES3 for p in range(4)]
    row = size_row(by_seed, plan4, False, ())
    assert row.verdict != "supported" and row.effect <= 0
    null = size_shuffle_null({"a": ["x", "y"], "b": ["y", "x"]})
    assert sorted(null.tolist()) == [0.0, 0.0, 1.0, 1.0]
    assert size_row(by_size[:1], plan4, False, ()).verdict == "not testable"


# ---- real models ------------------------------------------------------------------------------


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


def _info(spec: str, family: str, kind: str) -> ModelInfo:
    return ModelInfo(model_id=spec, sha256="0", backend="gguf", spec=spec, kind=kind, family=family)


def test_real_row_compares_one_family_only() -> None:
    infos = {
        "a": _info("a", "Gemma 3", "base"),
        "b": _info("b", "SmolLM2", "instruct"),
        "c": _info("c", "Gemma 3", "instruct"),
        "d": _info("d", "", "base"),
        "e": _info("e", "", "instruct"),
    }
    assert same_family_pairs(infos) == {"Gemma 3": (["a"], ["c"])}
    del infos["c"]
    assert same_family_pairs(infos) == {}


def test_real_row_is_not_testable_across_families() -> None:
    """The default models are three families (gemma3 the only base): no row, nothing sampled."""
    store = Store.open(":memory:")
    ctx = ExperimentContext(store=store, models=["zoo:smollm2-135m", "zoo:gemma3-270m"])
    (row,) = real_rows(ctx, C2Plan.quick())
    assert row.verdict == "not testable" and row.role == "secondary" and "one family" in row.rule


# ---- the experiment ---------------------------------------------------------------------------


# The quick plan's shape (two sizes, three pretraining seeds, with and without KL), trained
# briefly so the test costs seconds: the verdicts mean nothing, the contract is what is tested.
BRIEF = {
    "pretrain_steps": 30,
    "corpus_docs": 300,
    "rl_prompts": 8,
    "eval_prompts": 4,
    "epochs": 1.0,
    "eval_k": 4,
}


def _quick_run() -> tuple[list[Evidence], Store]:
    store = Store.open(":memory:")
    ctx = ExperimentContext(
        store=store,
        models=[],
        quick=True,
        seed=0,
        progress=False,
        log=lambda _: None,
        options=BRIEF,
    )
    return RLFormatCollapse().run(ctx), store


@pytest.fixture(scope="module")
def quick_run() -> tuple[list[Evidence], Store]:
    return _quick_run()


@pytest.mark.slow
def test_experiment_has_one_primary_and_every_row_a_role_and_unit(quick_run: Any) -> None:
    rows, store = quick_run
    assert {e.metric for e in rows} == {
        "dominant_share_gain_first_epoch",
        "epochs_until_90pct_format",
        "pass_at_k_change",
        "majority_minus_pass_at_k_change",
        "kl_minority_share_gain",
        "winner_depends_on_size",
    }
    (primary,) = [e for e in rows if e.role == "primary"]
    rule = RLFormatCollapse.primary
    assert (primary.metric, primary.predicted, primary.threshold) == (
        rule.metric,
        rule.predicted,
        rule.threshold,
    )
    plan = C2Plan.for_run(True, BRIEF)
    assert primary.n_units == len(plan.sizes) * plan.pretrain_seeds >= rule.min_n
    for e in rows:
        assert e.claim == "c2" and e.quick and e.role and e.unit and e.subject
        assert e.verdict in ("supported", "contradicted", "inconclusive", "not testable")
        assert e.ci_low <= e.effect <= e.ci_high and e.null_rate is not None
        assert e.as_row()["null_rate"] is not None
    assert store.artifact("c2", "pretrain_curves").keys() == {"tiny", "small"}
    runs = store.artifact("c2", "runs")
    assert len(runs) == len(plan.sizes) * plan.pretrain_seeds * plan.rl_seeds * 2
    assert {r["pretrain_seed"] for r in runs} == set(range(plan.pretrain_seeds))


@pytest.mark.slow
def test_experiment_is_reproducible(quick_run: Any) -> None:
    rows, _ = quick_run
    again, _ = _quick_run()
    key = [(e.metric, e.effect, e.ci_low, e.ci_high, e.verdict) for e in rows]
    assert [(e.metric, e.effect, e.ci_low, e.ci_high, e.verdict) for e in again] == key
