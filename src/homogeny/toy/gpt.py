"""A tiny decoder-only transformer (nanoGPT-like), trained here on the CPU in seconds.

The training-stage claims (C2, C5, C7) need models whose whole training we control, so
homogeny trains its own: a character-level GPT (Radford et al. 2019 architecture, in the
style of Karpathy's nanoGPT) with learned positions, pre-LayerNorm blocks, tied embeddings.

Public API (kept stable; other toy modules import it):
  GPTConfig, GPT (forward, hidden_states), CharTokenizer, SIZES, train_lm, sample,
  generate_ids, sequence_logprob, completion_logprobs, save_checkpoint, load_checkpoint.
The model classes and the tokenizer live in toy/model.py and are re-exported here.

Everything is deterministic for fixed seeds on one machine with the same thread count:
model init uses `GPTConfig.init_seed`, training and sampling use seeded torch.Generators.
"""

from __future__ import annotations

import json
import math
from collections.abc import Sequence
from dataclasses import asdict
from pathlib import Path

import torch
import torch.nn.functional as F

from homogeny.toy.model import (  # noqa: F401  (re-exported: gpt is the toy model's API)
    BOS,
    EOS,
    GPT,
    PAD,
    SIZES,
    SPECIALS,
    Block,
    CausalSelfAttention,
    CharTokenizer,
    GPTConfig,
    KVCache,
)

# ---- batching helpers ---------------------------------------------------------------------


def _right_padded(seqs: Sequence[Sequence[int]]) -> torch.Tensor:
    width = max(len(s) for s in seqs)
    out = torch.full((len(seqs), width), PAD, dtype=torch.long)
    for i, s in enumerate(seqs):
        out[i, : len(s)] = torch.tensor(list(s), dtype=torch.long)
    return out


def _lm_batch(seqs: Sequence[Sequence[int]]) -> tuple[torch.Tensor, torch.Tensor]:
    """Inputs and next-token targets from right-padded sequences; padding targets are -100."""
    batch = _right_padded(seqs)
    x, y = batch[:, :-1], batch[:, 1:].clone()
    y[y == PAD] = -100
    return x, y


def _documents(tokenizer: CharTokenizer, texts: Sequence[str], block_size: int) -> list[list[int]]:
    return [([BOS] + tokenizer.encode(t) + [EOS])[: block_size + 1] for t in texts]


def train_lm(
    model: GPT,
    tokenizer: CharTokenizer,
    texts: Sequence[str],
    steps: int,
    batch_size: int = 32,
    lr: float = 3e-3,
    seed: int = 0,
    weight_decay: float = 0.01,
    warmup: int = 20,
) -> list[float]:
    """Train `model` by next-character prediction on `texts` (each wrapped in BOS ... EOS).

    AdamW with linear warm-up then cosine decay to 10% of `lr`; batches drawn with a seeded
    generator. Returns the training loss at every step (the loss curve)."""
    if not texts:
        raise ValueError("train_lm needs at least one text")
    docs = _documents(tokenizer, texts, model.config.block_size)
    gen = torch.Generator().manual_seed(seed)
    opt = torch.optim.AdamW(model.parameters(), lr=lr, weight_decay=weight_decay, betas=(0.9, 0.99))
    curve: list[float] = []
    model.train()
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)  # dropout draws from the global generator
        for step in range(steps):
            for group in opt.param_groups:
                group["lr"] = _lr_at(step, steps, lr, warmup)
            pick = torch.randint(len(docs), (batch_size,), generator=gen).tolist()
            x, y = _lm_batch([docs[i] for i in pick])
            _, loss = model(x, y)
            opt.zero_grad(set_to_none=True)
            loss.backward()  # type: ignore[union-attr]
            torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
            opt.step()
            curve.append(float(loss.detach()))  # type: ignore[union-attr]
    model.eval()
    return curve


def _lr_at(step: int, steps: int, lr: float, warmup: int) -> float:
    if step < warmup:
        return lr * (step + 1) / warmup
    progress = (step - warmup) / max(1, steps - warmup)
    return lr * (0.1 + 0.9 * 0.5 * (1 + math.cos(math.pi * min(1.0, progress))))


@torch.no_grad()
def eval_loss(
    model: GPT, tokenizer: CharTokenizer, texts: Sequence[str], batch_size: int = 64
) -> float:
    """Mean next-character cross-entropy of `model` on `texts` (token-weighted)."""
    docs = _documents(tokenizer, texts, model.config.block_size)
    total, count = 0.0, 0
    model.eval()
    for start in range(0, len(docs), batch_size):
        x, y = _lm_batch(docs[start : start + batch_size])
        logits, _ = model(x)
        losses = F.cross_entropy(
            logits.reshape(-1, logits.size(-1)), y.reshape(-1), ignore_index=-100, reduction="sum"
        )
        total += float(losses)
        count += int((y != -100).sum())
    return total / max(1, count)


# ---- sampling -----------------------------------------------------------------------------


@torch.no_grad()
def generate_ids(
    model: GPT,
    prompts: Sequence[Sequence[int]],
    temperature: float,
    max_new_tokens: int,
    generator: torch.Generator,
) -> list[list[int]]:
    """Sample one completion per prompt (token ids, BOS included by the caller), batched.

    Prompts are left-padded, positions count only real tokens, and a KV cache keeps each step
    to one new token. Completions stop at EOS (included) or `max_new_tokens`; temperature 0
    is greedy. Returns the completion ids only."""
    model.eval()
    B, width = len(prompts), max(len(p) for p in prompts)
    max_new_tokens = min(max_new_tokens, model.config.block_size - width)
    if max_new_tokens <= 0:
        return [[] for _ in prompts]
    idx = torch.full((B, width), PAD, dtype=torch.long)
    for i, p in enumerate(prompts):
        idx[i, width - len(p) :] = torch.tensor(list(p), dtype=torch.long)
    valid = idx != PAD
    pos = (valid.long().cumsum(1) - 1).clamp(min=0)
    causal = torch.tril(torch.ones(width, width, dtype=torch.bool))
    # A padding query may see itself so that no attention row is empty (which would give NaN).
    mask = (causal & valid[:, None, None, :]) | torch.eye(width, dtype=torch.bool)
    states, cache = model._trunk(idx, pos, mask)
    out = torch.empty((B, 0), dtype=torch.long)
    done = torch.zeros(B, dtype=torch.bool)
    next_pos = pos[:, -1:] + 1
    for _ in range(max_new_tokens):
        logits = model.lm_head(model.ln_f(states[-1][:, -1, :]))
        token = _pick(logits, temperature, generator)
        token = torch.where(done, torch.full_like(token, PAD), token)
        out = torch.cat([out, token[:, None]], dim=1)
        done |= token == EOS
        if bool(done.all()):
            break
        valid = torch.cat([valid, torch.ones(B, 1, dtype=torch.bool)], dim=1)
        states, cache = model._trunk(token[:, None], next_pos, valid[:, None, None, :], cache)
        next_pos = next_pos + 1
    return [[t for t in row if t != PAD] for row in out.tolist()]


def _pick(logits: torch.Tensor, temperature: float, generator: torch.Generator) -> torch.Tensor:
    if temperature <= 0:
        return logits.argmax(-1)
    probs = F.softmax(logits.float() / temperature, dim=-1)
    return torch.multinomial(probs, 1, generator=generator).squeeze(1)


def sample(
    model: GPT,
    tokenizer: CharTokenizer,
    prompts: Sequence[str],
    n: int = 1,
    temperature: float = 1.0,
    max_new_tokens: int = 64,
    seed: int = 0,
) -> list[list[str]]:
    """`n` sampled completions (text after the prompt, up to EOS) for each prompt, in one batch."""
    gen = torch.Generator().manual_seed(seed)
    ids = [[BOS] + tokenizer.encode(p) for p in prompts for _ in range(n)]
    outs = generate_ids(model, ids, temperature, max_new_tokens, gen)
    texts = [tokenizer.decode(o) for o in outs]
    return [texts[i * n : (i + 1) * n] for i in range(len(prompts))]


def completion_logprobs(
    model: GPT, prompts: Sequence[Sequence[int]], completions: Sequence[Sequence[int]]
) -> torch.Tensor:
    """Log-probability of each completion token given its prompt, with gradients.

    Returns a (B, L) tensor, L = longest completion, zero where a completion is shorter (use
    `completion_mask`). Prompts include BOS; sequences are right-padded so positions start at 0."""
    seqs = [list(p) + list(c) for p, c in zip(prompts, completions)]
    x = _right_padded([s[:-1] for s in seqs])
    logits, _ = model(x)
    logp = F.log_softmax(logits.float(), dim=-1)
    L = max((len(c) for c in completions), default=0)
    out = torch.zeros(len(seqs), L)
    rows, cols, toks, slots = [], [], [], []
    for i, (p, c) in enumerate(zip(prompts, completions)):
        for j, t in enumerate(c):
            rows.append(i)
            cols.append(len(p) - 1 + j)
            toks.append(t)
            slots.append(j)
    if rows:
        r = torch.tensor(rows)
        out = out.index_put(
            (r, torch.tensor(slots)), logp[r, torch.tensor(cols), torch.tensor(toks)]
        )
    return out


def completion_mask(completions: Sequence[Sequence[int]]) -> torch.Tensor:
    """(B, L) float mask of real completion tokens, matching `completion_logprobs`."""
    L = max((len(c) for c in completions), default=0)
    mask = torch.zeros(len(completions), L)
    for i, c in enumerate(completions):
        mask[i, : len(c)] = 1.0
    return mask


@torch.no_grad()
def sequence_logprob(
    model: GPT, tokenizer: CharTokenizer, prompt: str, completion: str, include_eos: bool = False
) -> float:
    """Sum of log p(completion characters | BOS + prompt) under `model` (natural log)."""
    model.eval()
    comp = tokenizer.encode(completion) + ([EOS] if include_eos else [])
    if not comp:
        return 0.0
    return float(completion_logprobs(model, [[BOS] + tokenizer.encode(prompt)], [comp]).sum())


# ---- checkpoints --------------------------------------------------------------------------


def save_checkpoint(model: GPT, path: str | Path, tokenizer: CharTokenizer | None = None) -> Path:
    """Write weights as safetensors with the config (and tokenizer alphabet) as JSON metadata."""
    from safetensors.torch import save_model

    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    meta = {"config": json.dumps(asdict(model.config), sort_keys=True)}
    if tokenizer is not None:
        meta["alphabet"] = json.dumps(tokenizer.alphabet)
    save_model(model, str(path), metadata=meta)
    return path


def load_checkpoint(path: str | Path) -> GPT:
    """Rebuild a GPT saved by `save_checkpoint` (no pickle: safetensors + JSON config)."""
    from safetensors import safe_open
    from safetensors.torch import load_model

    with safe_open(str(path), framework="pt") as f:
        meta = f.metadata() or {}
    if "config" not in meta:
        raise ValueError(f"{path} is not a homogeny toy checkpoint (no config metadata)")
    model = GPT(GPTConfig(**json.loads(meta["config"])))
    load_model(model, str(path))
    model.eval()
    return model


def load_tokenizer(path: str | Path) -> CharTokenizer | None:
    """The tokenizer stored with a checkpoint, or None when it was saved without one."""
    from safetensors import safe_open

    with safe_open(str(path), framework="pt") as f:
        meta = f.metadata() or {}
    return CharTokenizer(json.loads(meta["alphabet"])) if "alphabet" in meta else None
