"""The toy GPT and its synthetic tasks: training lowers loss, sampling is exact and seeded,
checkpoints round-trip, and the format classifier / answer extraction are exact."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch
import torch.nn.functional as F

from homogeny.toy.arithmetic import (
    ADDITION_STYLES,
    ALPHABET,
    AdditionProblem,
    addition_problems,
    addition_solutions,
    classify_addition_style,
    classify_format,
    extract_addition_answer,
    extract_answer,
    format_solution,
    make_problems,
    pretraining_corpus,
)
from homogeny.toy.gpt import (
    BOS,
    EOS,
    GPT,
    SIZES,
    CharTokenizer,
    GPTConfig,
    eval_loss,
    generate_ids,
    load_checkpoint,
    load_tokenizer,
    sample,
    save_checkpoint,
    sequence_logprob,
    train_lm,
)

TOK = CharTokenizer(ALPHABET)


def tiny_model(seed: int = 0, block_size: int = 96) -> GPT:
    return GPT(
        GPTConfig(vocab_size=TOK.vocab_size, block_size=block_size, init_seed=seed, **SIZES["tiny"])
    )


def test_tokenizer_round_trip_and_specials() -> None:
    text = "Tom has 3 pens, buys 4 more. How many pens?\nx=3+4\nprint(x)"
    ids = TOK.encode(text)
    assert min(ids) > EOS
    assert TOK.decode([BOS, *ids, EOS, *TOK.encode("junk")]) == text
    with pytest.raises(ValueError, match="not in the tokenizer alphabet"):
        TOK.encode("é")


def test_sizes_grow() -> None:
    counts = [tiny_model().num_params()] + [
        GPT(GPTConfig(vocab_size=TOK.vocab_size, block_size=64, **SIZES[s])).num_params()
        for s in ("small", "medium")
    ]
    assert counts == sorted(counts) and len(set(counts)) == 3


def test_training_reduces_loss_on_synthetic_data() -> None:
    texts = pretraining_corpus(400, {"code": 0.3, "tagged": 0.3, "nl": 0.4}, seed=0)
    held_out = pretraining_corpus(64, {"code": 0.3, "tagged": 0.3, "nl": 0.4}, seed=1)
    model = tiny_model()
    before = eval_loss(model, TOK, held_out)
    curve = train_lm(model, TOK, texts, steps=60, batch_size=16, lr=3e-3, seed=0)
    after = eval_loss(model, TOK, held_out)
    assert len(curve) == 60
    assert before > 4.0  # about ln(vocab) at initialisation
    assert after < before - 1.0
    assert sum(curve[-10:]) < sum(curve[:10])


def test_same_seed_same_numbers() -> None:
    texts = pretraining_corpus(100, {"code": 0.5, "nl": 0.5}, seed=3)
    a, b = tiny_model(), tiny_model()
    assert train_lm(a, TOK, texts, 15, 8, seed=5) == train_lm(b, TOK, texts, 15, 8, seed=5)
    prompts = ["Tom has 3 pens, buys 4 more. How many pens?\n"]
    assert sample(a, TOK, prompts, n=4, seed=9) == sample(b, TOK, prompts, n=4, seed=9)
    assert sample(a, TOK, prompts, n=4, seed=9) != sample(a, TOK, prompts, n=4, seed=10)
    assert tiny_model(seed=1).wte.weight.sum() != tiny_model(seed=2).wte.weight.sum()


def _greedy_by_full_recompute(model: GPT, prompt: list[int], steps: int) -> list[int]:
    seq = list(prompt)
    for _ in range(steps):
        logits, _ = model(torch.tensor([seq]))
        seq.append(int(logits[0, -1].argmax()))
        if seq[-1] == EOS:
            break
    return seq[len(prompt) :]


def test_cached_batched_generation_matches_full_recompute() -> None:
    """Left padding, position ids and the KV cache must not change what the model computes."""
    model = tiny_model(seed=4)
    train_lm(model, TOK, pretraining_corpus(200, {"code": 1.0}, seed=0), 20, 8, seed=0)
    prompts = [
        [BOS] + TOK.encode(p)
        for p in ("Ann has 5 eggs. How many?\n", "Sam has 12 cards, loses 3.\n", "x=")
    ]
    batched = generate_ids(
        model, prompts, temperature=0.0, max_new_tokens=12, generator=torch.Generator()
    )
    for p, got in zip(prompts, batched):
        assert got == _greedy_by_full_recompute(model, p, 12)


def test_sequence_logprob_matches_forward() -> None:
    model = tiny_model(seed=2)
    prompt, completion = "Tom has 3 pens. How many?\n", "x=3\nprint(x)"
    ids = [BOS] + TOK.encode(prompt + completion)
    with torch.no_grad():
        logits, _ = model(torch.tensor([ids[:-1]]))
    logp = F.log_softmax(logits[0], dim=-1)
    start = 1 + len(prompt)
    expected = sum(float(logp[i - 1, ids[i]]) for i in range(start, len(ids)))
    assert sequence_logprob(model, TOK, prompt, completion) == pytest.approx(expected, abs=1e-4)


def test_checkpoint_round_trip(tmp_path: Path) -> None:
    model = tiny_model(seed=7)
    path = save_checkpoint(model, tmp_path / "m.safetensors", TOK)
    loaded = load_checkpoint(path)
    x = torch.tensor([[BOS] + TOK.encode("Tom has 3 pens.")])
    assert torch.equal(model(x)[0], loaded(x)[0])
    assert loaded.config == model.config
    assert load_tokenizer(path).alphabet == TOK.alphabet  # type: ignore[union-attr]
    assert loaded.lm_head.weight.data_ptr() == loaded.wte.weight.data_ptr()  # tying survives


def test_hidden_states_per_layer() -> None:
    model = GPT(GPTConfig(vocab_size=TOK.vocab_size, block_size=32, **SIZES["small"]))
    states = model.hidden_states(torch.tensor([[BOS, 5, 6, 7]]))
    assert len(states) == SIZES["small"]["n_layer"] + 1
    assert all(s.shape == (1, 4, SIZES["small"]["n_embd"]) for s in states)


# ---- arithmetic tasks --------------------------------------------------------------------


def test_problems_are_consistent_and_seeded() -> None:
    problems = make_problems(50, seed=1, max_operand=9)
    assert problems == make_problems(50, seed=1, max_operand=9)
    for p in problems:
        assert p.answer == sum(v if op == "+" else -v for op, v in p.steps) + p.start >= 0
        for fmt in ("code", "tagged", "nl"):
            text = format_solution(p, fmt)
            assert classify_format(text) == fmt
            assert extract_answer(text) == p.answer
        assert set(TOK.encode(p.prompt + format_solution(p, "nl")))  # inside the alphabet


@pytest.mark.parametrize(
    ("text", "fmt", "answer"),
    [
        ("x=3+4\nprint(x)", "code", 7),
        ("a=10\nb=a-4*2\nprint(b)", "code", 2),
        ("x=3+4\nprint(y)", "code", None),
        ("x=__import__('os')\nprint(x)", "code", None),  # never evaluated
        ("<code>3+4-2</code> <ans>5</ans>", "tagged", 5),
        ("<code>3+4</code> <ans>", "tagged", None),
        ("So $3+4=7$, then $7-2=5$. The answer is 5.", "nl", 5),
        ("So $3+4=7$.", "nl", 7),
        ("The answer is 12.", "nl", 12),
        ("seven apples", "other", None),
        ("", "other", None),
        ("So $3+4=7$ and <ans>9</ans>", "nl", 7),  # the first marker decides
    ],
)
def test_format_classifier_and_answer_extraction(text: str, fmt: str, answer: int | None) -> None:
    assert classify_format(text) == fmt
    assert extract_answer(text) == answer


def test_corpus_mix_ratio() -> None:
    docs = pretraining_corpus(2000, {"code": 0.2, "tagged": 0.3, "nl": 0.5}, seed=0)
    shares = {
        f: sum(classify_format(d.split("\n", 1)[1]) == f for d in docs) / len(docs)
        for f in ("code", "tagged", "nl")
    }
    assert shares["code"] == pytest.approx(0.2, abs=0.03)
    assert shares["tagged"] == pytest.approx(0.3, abs=0.03)
    assert shares["nl"] == pytest.approx(0.5, abs=0.03)
    with pytest.raises(ValueError, match="unknown formats"):
        pretraining_corpus(2, {"latex": 1.0})


def test_addition_styles() -> None:
    p = AdditionProblem(57, 68)
    sols = addition_solutions(p)
    assert sols == {
        "direct": "125",
        "column": "7+8=15;5+6+1=12;ans 125",
        "chunks": "50+60=110;7+8=15;110+15=125;ans 125",
        "split": "57+60=117;117+8=125;ans 125",
    }
    for style, text in sols.items():
        assert classify_addition_style(text) == style
        assert extract_addition_answer(text) == 125
    assert classify_addition_style("12+3") == "other"
    assert extract_addition_answer("7+8=15;ans") is None
    for q in addition_problems(200, seed=0, digits=3):
        assert {classify_addition_style(t) for t in addition_solutions(q).values()} == set(
            ADDITION_STYLES
        )
        assert all(extract_addition_answer(t) == q.answer for t in addition_solutions(q).values())
