"""A same-checkpoint pair made here: a tiny base model and the same model after SFT on a chat
format, both saved as transformers folders (`hf:FOLDER`), generate through the registry, and
the pair identifies claim T's weights player (issue 16)."""

from __future__ import annotations

import math
import random
import shutil
from dataclasses import replace
from pathlib import Path

import pytest

from homogeny import models
from homogeny.models import SamplingParams
from homogeny.suites.prompt import Prompt

CHAT_TEMPLATE = (
    "{{ bos_token }}{% for m in messages %}<|{{ m['role'] }}|>{{ m['content'] }}<|end|>"
    "{% endfor %}{% if add_generation_prompt %}<|assistant|>{% endif %}"
)
SPECIALS = ["<pad>", "<s>", "<|end|>", "<|user|>", "<|assistant|>", "<|system|>"]
WORDS = (
    "the a sea rain wind city river song story poem light night morning garden cat dog bird "
    "tree stone cloud fire house road friend child old new quiet bright dark warm cold small "
    "long short blue green red walks sings falls grows waits shines runs sleeps dreams under "
    "over near far and but with about write tell give me please short one name idea"
).split()
ANSWERS = ["Sure! Here is one: a quiet blue sea.", "Sure! Here is one: a quiet blue sky."]


def _sentences(n: int, rng: random.Random) -> list[str]:
    return [" ".join(rng.choice(WORDS) for _ in range(rng.randint(4, 10))) for _ in range(n)]


def _tokenizer(corpus: list[str]):
    from tokenizers import Tokenizer, decoders, models as tm, pre_tokenizers, processors, trainers
    from transformers import PreTrainedTokenizerFast

    raw = Tokenizer(tm.BPE())
    raw.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    raw.decoder = decoders.ByteLevel()
    trainer = trainers.BpeTrainer(
        vocab_size=400,
        special_tokens=SPECIALS,
        initial_alphabet=pre_tokenizers.ByteLevel.alphabet(),
        show_progress=False,
    )
    raw.train_from_iterator(corpus, trainer)
    raw.post_processor = processors.TemplateProcessing(
        single="<s> $A", special_tokens=[("<s>", raw.token_to_id("<s>"))]
    )
    tok = PreTrainedTokenizerFast(
        tokenizer_object=raw, bos_token="<s>", eos_token="<|end|>", pad_token="<pad>"
    )
    tok.add_special_tokens({"additional_special_tokens": SPECIALS[3:]})
    tok.chat_template = CHAT_TEMPLATE
    return tok


def _train(model, tok, texts: list[str], steps: int, seed: int) -> None:
    import torch

    torch.manual_seed(seed)
    rng = random.Random(seed)
    opt = torch.optim.AdamW(model.parameters(), lr=3e-3)
    model.train()
    for _ in range(steps):
        batch = tok(rng.sample(texts, 16), return_tensors="pt", padding=True)
        labels = batch["input_ids"].masked_fill(batch["attention_mask"] == 0, -100)
        loss = model(**batch, labels=labels).loss
        opt.zero_grad()
        loss.backward()
        opt.step()
    model.eval()


def _chat(tok, user: str, answer: str) -> str:
    messages = [{"role": "user", "content": user}, {"role": "assistant", "content": answer}]
    return str(tok.apply_chat_template(messages, tokenize=False))


@pytest.fixture(scope="module")
def pair(tmp_path_factory) -> tuple[str, str]:
    """(hf:tiny-base, hf:tiny-instruct): a 2-layer GPT-2 pretrained on toy text, then the same
    weights after SFT on chat turns whose answers collapse to one format."""
    import torch
    from transformers import GPT2Config, GPT2LMHeadModel

    root = tmp_path_factory.mktemp("pair")
    rng = random.Random(0)
    corpus = [s + "." for s in _sentences(400, rng)]
    tok = _tokenizer(corpus + ANSWERS * 50)  # the answer's words get tokens of their own
    torch.manual_seed(0)
    config = GPT2Config(
        vocab_size=len(tok), n_positions=256, n_embd=48, n_layer=2, n_head=4,
        bos_token_id=tok.bos_token_id, eos_token_id=tok.eos_token_id,
        pad_token_id=tok.pad_token_id,
    )  # fmt: skip
    model = GPT2LMHeadModel(config)
    _train(model, tok, [s + "<|end|>" for s in corpus], steps=40, seed=0)
    base = root / "tiny-base"
    model.save_pretrained(base)
    tok.save_pretrained(base)
    chats = [_chat(tok, q, rng.choice(ANSWERS)) for q in _sentences(200, rng)]
    _train(model, tok, chats, steps=60, seed=1)
    tuned = root / "tiny-instruct"
    model.save_pretrained(tuned)
    tok.save_pretrained(tuned)
    return f"hf:{base}", f"hf:{tuned}"


# ---- generation through the registry ----------------------------------------------------


def test_pair_folders_generate_reproducibly_per_seed(pair) -> None:
    base, tuned = pair
    assert models.model_info(base).kind == "base"
    assert models.model_info(tuned).kind == "instruct"
    prompt = Prompt("p", "write a short poem about the sea")
    params = SamplingParams(temperature=1.0, max_tokens=12, chat=False)
    with models.open(base, need="generate") as backend:
        a = backend.generate(prompt, params, [1, 2, 3])
        b = backend.generate(prompt, params, [3, 1])
        assert [c.token_ids for c in b] == [a[2].token_ids, a[0].token_ids]  # per seed
        assert len({tuple(c.token_ids) for c in a}) > 1  # different seeds, different samples
        for c in a:
            assert 1 <= len(c.token_ids) <= 12 and c.n_prompt_tokens > 0
            assert c.finish_reason == ("length" if len(c.token_ids) == 12 else "stop")
            assert len(c.logprobs) == len(c.token_ids) and all(lp <= 0 for lp in c.logprobs)
        short = backend.generate(prompt, SamplingParams(max_tokens=3, chat=False), [5])[0]
        assert len(short.token_ids) <= 3
        # one load serves generate and hidden states
        with models.open(base, need="hidden_states") as same:
            assert same is backend
            assert same.hidden_states(["the sea"])[0].shape[0] == 3  # embeddings + 2 layers


def test_tuned_model_answers_in_its_chat_format_and_continues_raw_text(pair) -> None:
    _, tuned = pair
    prompt = Prompt("p", "tell me a story about the old city")
    greedy = SamplingParams(temperature=0.0, max_tokens=20)
    with models.open(tuned, need="generate") as backend:
        chat = backend.generate(prompt, replace(greedy, chat=True), [1])
        raw = backend.generate(prompt, replace(greedy, chat=False), [1])
        assert backend.render(prompt, True) != backend.render(prompt, False)
        assert chat[0].text.startswith("Sure! Here is one")  # the SFT format, via the template
        assert chat[0].finish_reason == "stop" and "<|end|>" not in chat[0].text
        assert raw[0].token_ids != chat[0].token_ids
        again = backend.generate(prompt, replace(greedy, chat=True), [9])
        assert again[0].token_ids == chat[0].token_ids  # greedy ignores the seed
        cut = backend.generate(
            prompt, SamplingParams(temperature=0.0, max_tokens=20, chat=True, stop=("one",)), [1]
        )[0]
        assert cut.text == "Sure! Here is " and cut.finish_reason == "stop"


def test_a_pair_folder_cannot_score_and_says_who_can(pair) -> None:
    with (
        models.open(pair[0], need="generate") as backend,
        pytest.raises(models.CapabilityError, match="llama.cpp"),
    ):
        backend.score("a", "b")


# ---- the weights player of claim T -------------------------------------------------------


@pytest.mark.slow
def test_declared_pair_gives_the_weights_player_a_shapley_value_with_an_interval(
    pair, tmp_path
) -> None:
    from homogeny.experiments.base import ExperimentContext
    from homogeny.experiments.thesis.games import model_game
    from homogeny.experiments.thesis.plan import ThesisPlan
    from homogeny.experiments.thesis.rows import model_game_rows
    from homogeny.store import Store

    options = {"pair": ",".join(pair), "skip_toy": True, "sampled": 2}
    with Store.open(tmp_path / "s.duckdb") as store:
        ctx = ExperimentContext(
            store=store, models=list(pair), quick=True, progress=False, log=lambda m: None,
            options=options,
        )  # fmt: skip
        plan = ThesisPlan.for_run(True, options)
        game = model_game(ctx, plan)
        rows = {(e.metric, e.subject): e for e in model_game_rows(ctx, game)}
    assert "weights" in game.players and game.weights_pair == pair
    assert game.game_models == ["tiny-base", "tiny-instruct"]
    weights = rows["stage_shapley_value", "weights"]
    assert weights.verdict != "not testable" and weights.n == len(game.requests) >= 2
    assert math.isfinite(weights.ci_low) and math.isfinite(weights.ci_high)
    assert weights.ci_low <= weights.effect <= weights.ci_high
    assert weights.effect > 0  # SFT collapsed the answers to one format: more convergence
    assert ("pretraining_level_above_floor", "tiny-base") in rows


@pytest.mark.slow
def test_run_t_with_a_pair_of_folders_from_the_command_line(pair, tmp_path, cli) -> None:
    base, tuned = pair
    copy = tmp_path / "tiny-instruct"
    shutil.copytree(Path(tuned.removeprefix("hf:")), copy)  # any path works
    result = cli(
        "run", "T", "--quick", "--models", f"{base},hf:{copy}", "--pair", f"{base},hf:{copy}",
        "--store", str(tmp_path / "s.duckdb"),
    )  # fmt: skip
    assert result.returncode == 0, result.stderr[-2000:]
    assert "Traceback" not in result.stderr
    from homogeny.store import Store

    with Store.open(tmp_path / "s.duckdb") as store:
        rows = {(r["metric"], r["subject"]): r for r in store.evidence("T")}
    weights = rows["stage_shapley_value", "weights"]
    assert weights["verdict"] != "not testable"
    assert weights["ci_low"] <= weights["effect"] <= weights["ci_high"]
    # the counter-pressures generate on the folders too (scored by the fixed reference model)
    assert any(m == "counter_pressure_diversity_gain" for m, _ in rows)
