"""The toy game of claim T: C(pretraining, RL, sampling) on toy GPTs trained here.

Pretraining is compared with a shuffled-corpus pretraining (the same documents with their
words shuffled: the same characters and vocabulary, no problem-solution structure), not with
no training, so its credit is what the corpus's structure teaches. RL (GRPO with a
correctness reward, no KL) is run on both, so it is a player whether or not pretraining is
on. Sampling: temperature 1 or greedy. C is the character-level similarity of two
independently initialised models' answers to the same held-out problem, over every pair of
models, against answers to different problems as the floor. The models are trained with the
thesis's own settings and saved in the T checkpoint folder (homogeny.toy.checkpoints).
"""

from __future__ import annotations

import hashlib
import itertools
import json
import random
from pathlib import Path
from typing import Any

import numpy as np

from homogeny.experiments.thesis.plan import ThesisPlan
from homogeny.experiments.thesis.stages import (
    Decomposition,
    decompose,
    mask_coalition,
    text_similarity,
)

PLAYERS = ["pretraining", "post-training (RL)", "sampling"]
MIX = {"code": 0.2, "tagged": 0.3, "nl": 0.5}
MAX_OPERAND = 9
BLOCK_SIZE = 128
LEARNING_RATE = 3e-3
MAX_NEW_TOKENS = 40


def shuffled(texts: list[str], seed: int) -> list[str]:
    """Each document with its words shuffled (seeded): same characters, no structure."""
    rng = random.Random(seed)
    out = []
    for t in texts:
        words = t.split(" ")
        rng.shuffle(words)
        out.append(" ".join(words))
    return out


def _key(plan: ThesisPlan, corpus: list[str]) -> str:
    from homogeny.toy.gpt import SIZES

    payload = {
        "size": SIZES[plan.toy_size],
        "steps": plan.toy_pretrain_steps,
        "batch": plan.toy_pretrain_batch,
        "lr": LEARNING_RATE,
        "block": BLOCK_SIZE,
        "corpus": hashlib.sha256("\x00".join(corpus).encode()).hexdigest(),
    }
    return hashlib.sha256(json.dumps(payload, sort_keys=True).encode()).hexdigest()[:10]


def _pretrained(folder: Path, plan: ThesisPlan, corpus: list[str], seed: int, log: Any) -> Any:
    from homogeny.toy.arithmetic import ALPHABET
    from homogeny.toy.gpt import (
        GPT,
        SIZES,
        CharTokenizer,
        GPTConfig,
        load_checkpoint,
        save_checkpoint,
        train_lm,
    )

    path = folder / f"pretrain-{plan.toy_size}-seed{seed}-{_key(plan, corpus)}.safetensors"
    if path.exists():
        return load_checkpoint(path)
    tok = CharTokenizer(ALPHABET)
    log(f"T: pretraining toy model seed {seed} ({plan.toy_pretrain_steps} steps)")
    shape = GPTConfig(
        vocab_size=tok.vocab_size, block_size=BLOCK_SIZE, init_seed=seed, **SIZES[plan.toy_size]
    )
    model = GPT(shape)
    train_lm(
        model, tok, corpus, plan.toy_pretrain_steps, plan.toy_pretrain_batch, LEARNING_RATE, seed
    )
    save_checkpoint(model, path, tok)
    return model


def _rl(folder: Path, plan: ThesisPlan, model: Any, name: str, seed: int, log: Any) -> Any:
    from homogeny.toy.arithmetic import ALPHABET, make_problems
    from homogeny.toy.gpt import CharTokenizer, load_checkpoint, save_checkpoint
    from homogeny.toy.rl import RLConfig, rl_finetune

    path = folder / f"rl-{name}-e{plan.toy_rl_epochs:g}-p{plan.toy_rl_prompts}.safetensors"
    if path.exists():
        return load_checkpoint(path)
    log(f"T: RL of toy model {name}")
    tok = CharTokenizer(ALPHABET)
    problems = make_problems(plan.toy_rl_prompts, seed=seed + 1, max_operand=MAX_OPERAND)
    evals = make_problems(4, seed=seed + 2, max_operand=MAX_OPERAND)
    config = RLConfig(
        epochs=plan.toy_rl_epochs,
        prompts_per_step=4,
        group_size=4,
        lr=3e-4,
        eval_k=4,
        max_new_tokens=MAX_NEW_TOKENS,
        seed=seed,
    )
    rl_finetune(model, tok, problems, evals, config)
    save_checkpoint(model, path, tok)
    return model


def toy_models(ctx: Any, plan: ThesisPlan) -> dict[tuple[bool, bool], list[Any]]:
    """Models by (pretrained on the real corpus, RL applied): `plan.toy_models` independently
    initialised models each, trained now or reused from the T checkpoint folder."""
    from homogeny.toy.arithmetic import pretraining_corpus
    from homogeny.toy.checkpoints import checkpoint_dir

    out: dict[tuple[bool, bool], list[Any]] = {k: [] for k in itertools.product((0, 1), (0, 1))}
    with checkpoint_dir(ctx, "T") as folder:
        for j in range(plan.toy_models):
            seed = ctx.seed + j
            real = pretraining_corpus(plan.toy_corpus_docs, MIX, seed=seed, max_operand=MAX_OPERAND)
            for structured, corpus in ((False, shuffled(real, seed)), (True, real)):
                model = _pretrained(folder, plan, corpus, seed, ctx.log)
                out[structured, False].append(model.eval())
                tag = f"{'real' if structured else 'shuffled'}-{_key(plan, corpus)}-seed{seed}"
                again = _pretrained(folder, plan, corpus, seed, ctx.log)
                out[structured, True].append(_rl(folder, plan, again, tag, seed, ctx.log).eval())
    return out


def toy_game(ctx: Any, plan: ThesisPlan) -> tuple[Decomposition, np.ndarray, dict[str, Any]]:
    """C(pretraining, RL, sampling) on the toy models: (decomposition, per-problem values of
    every coalition, per-configuration format shares)."""
    from homogeny.toy.arithmetic import ALPHABET, make_problems
    from homogeny.toy.gpt import CharTokenizer, sample
    from homogeny.toy.rl import format_shares

    models = toy_models(ctx, plan)
    tok = CharTokenizer(ALPHABET)
    problems = make_problems(plan.toy_problems, seed=ctx.seed + 3, max_operand=MAX_OPERAND)
    prompts = [p.prompt for p in problems]
    n = len(problems)
    values, baseline = np.zeros((n, 8)), np.zeros(n)
    formats: dict[str, Any] = {}
    for mask in range(8):
        on = mask_coalition(PLAYERS, mask)
        greedy = "sampling" in on
        k = 1 if greedy else plan.toy_samples
        group = models["pretraining" in on, "post-training (RL)" in on]
        outs = [
            [
                t
                for g in sample(
                    m,
                    tok,
                    prompts,
                    n=k,
                    temperature=0.0 if greedy else 1.0,
                    max_new_tokens=MAX_NEW_TOKENS,
                    seed=ctx.seed + i,
                )
                for t in g
            ]
            for i, m in enumerate(group)
        ]
        same, other = _pair_similarity(outs, n, k)
        values[:, mask] = same
        if mask == 0:
            baseline = other
        label = ", ".join(f"{p} {'on' if p in on else 'off'}" for p in PLAYERS)
        formats[label] = [format_shares(o) for o in outs]
    d = decompose(PLAYERS, values, baseline, base_label="shuffled-corpus level", seed=ctx.seed)
    return d, values, formats


def _pair_similarity(outs: list[list[str]], n: int, k: int) -> tuple[np.ndarray, np.ndarray]:
    same, other = np.zeros(n), np.zeros(n)
    pairs = list(itertools.combinations(range(len(outs)), 2))
    for a, b in pairs:
        block = text_similarity(outs[a], outs[b]).reshape(n, k, n, k).mean(axis=(1, 3))
        same += np.diag(block) / len(pairs)
        other += (block.sum(axis=1) - np.diag(block)) / (n - 1) / len(pairs)
    return same, other
