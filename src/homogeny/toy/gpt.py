"""A tiny decoder-only transformer (nanoGPT-like), trained here on the CPU in seconds.

The training-stage claims (C2, C5, C7) need models whose whole training we control, so
homogeny trains its own: a character-level GPT (Radford et al. 2019 architecture, in the
style of Karpathy's nanoGPT) with learned positions, pre-LayerNorm blocks, tied embeddings.

Public API (kept stable; other toy modules import it):
  GPTConfig, GPT (forward, hidden_states), CharTokenizer, SIZES, train_lm, sample,
  generate_ids, sequence_logprob, completion_logprobs, save_checkpoint, load_checkpoint.

Everything is deterministic for fixed seeds on one machine with the same thread count:
model init uses `GPTConfig.init_seed`, training and sampling use seeded torch.Generators.
"""

from __future__ import annotations

import json
import math
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from pathlib import Path

import torch
import torch.nn.functional as F
from torch import nn

PAD, BOS, EOS = 0, 1, 2
SPECIALS = ("<pad>", "<bos>", "<eos>")

# Model shapes by name; use as GPTConfig(vocab_size=..., block_size=..., **SIZES["small"]).
# "medium" still pretrains in about a minute on 2 CPU cores (see tests/test_toy_gpt.py).
SIZES: dict[str, dict[str, int]] = {
    "tiny": {"n_layer": 1, "n_head": 2, "n_embd": 32},
    "small": {"n_layer": 2, "n_head": 4, "n_embd": 64},
    "medium": {"n_layer": 3, "n_head": 4, "n_embd": 96},
}


class CharTokenizer:
    """Characters of a fixed alphabet as tokens, after three specials: PAD=0, BOS=1, EOS=2."""

    def __init__(self, alphabet: str) -> None:
        chars = list(dict.fromkeys(alphabet))
        self.alphabet = "".join(chars)
        self.stoi = {c: i + len(SPECIALS) for i, c in enumerate(chars)}
        self.itos = {i: c for c, i in self.stoi.items()}
        self.pad_id, self.bos_id, self.eos_id = PAD, BOS, EOS

    @property
    def vocab_size(self) -> int:
        return len(SPECIALS) + len(self.stoi)

    def encode(self, text: str) -> list[int]:
        """Token ids of `text` (no BOS/EOS added); a character outside the alphabet is an error."""
        try:
            return [self.stoi[c] for c in text]
        except KeyError as exc:
            raise ValueError(f"character {exc.args[0]!r} is not in the tokenizer alphabet") from None

    def decode(self, ids: Sequence[int]) -> str:
        """Text of `ids`, stopping at the first EOS and skipping PAD/BOS."""
        out = []
        for i in ids:
            i = int(i)
            if i == EOS:
                break
            if i in self.itos:
                out.append(self.itos[i])
        return "".join(out)


@dataclass(frozen=True)
class GPTConfig:
    """Shape of a GPT; `init_seed` fixes the initial weights (same seed, same model)."""

    vocab_size: int
    n_layer: int
    n_head: int
    n_embd: int
    block_size: int
    dropout: float = 0.0
    init_seed: int = 0


KVCache = list[tuple[torch.Tensor, torch.Tensor]]


class CausalSelfAttention(nn.Module):
    def __init__(self, cfg: GPTConfig) -> None:
        super().__init__()
        if cfg.n_embd % cfg.n_head:
            raise ValueError(f"n_embd={cfg.n_embd} must be divisible by n_head={cfg.n_head}")
        self.n_head = cfg.n_head
        self.qkv = nn.Linear(cfg.n_embd, 3 * cfg.n_embd)
        self.proj = nn.Linear(cfg.n_embd, cfg.n_embd)
        self.dropout = cfg.dropout

    def forward(
        self, x: torch.Tensor, mask: torch.Tensor | None, past: tuple[torch.Tensor, torch.Tensor] | None
    ) -> tuple[torch.Tensor, tuple[torch.Tensor, torch.Tensor]]:
        B, T, C = x.shape
        q, k, v = (t.view(B, T, self.n_head, C // self.n_head).transpose(1, 2) for t in self.qkv(x).split(C, dim=2))
        if past is not None:
            k, v = torch.cat([past[0], k], dim=2), torch.cat([past[1], v], dim=2)
        drop = self.dropout if self.training else 0.0
        if mask is None:
            y = F.scaled_dot_product_attention(q, k, v, dropout_p=drop, is_causal=True)
        else:
            y = F.scaled_dot_product_attention(q, k, v, attn_mask=mask, dropout_p=drop)
        return self.proj(y.transpose(1, 2).reshape(B, T, C)), (k, v)


class Block(nn.Module):
    def __init__(self, cfg: GPTConfig) -> None:
        super().__init__()
        self.ln1 = nn.LayerNorm(cfg.n_embd)
        self.attn = CausalSelfAttention(cfg)
        self.ln2 = nn.LayerNorm(cfg.n_embd)
        self.mlp = nn.Sequential(
            nn.Linear(cfg.n_embd, 4 * cfg.n_embd), nn.GELU(), nn.Linear(4 * cfg.n_embd, cfg.n_embd),
            nn.Dropout(cfg.dropout),
        )

    def forward(
        self, x: torch.Tensor, mask: torch.Tensor | None, past: tuple[torch.Tensor, torch.Tensor] | None
    ) -> tuple[torch.Tensor, tuple[torch.Tensor, torch.Tensor]]:
        a, kv = self.attn(self.ln1(x), mask, past)
        x = x + a
        return x + self.mlp(self.ln2(x)), kv


class GPT(nn.Module):
    """A character-level GPT. `forward(idx, targets)` returns (logits, mean cross-entropy or None)."""

    def __init__(self, config: GPTConfig) -> None:
        super().__init__()
        self.config = config
        with torch.random.fork_rng(devices=[]):
            torch.manual_seed(config.init_seed)
            self.wte = nn.Embedding(config.vocab_size, config.n_embd)
            self.wpe = nn.Embedding(config.block_size, config.n_embd)
            self.drop = nn.Dropout(config.dropout)
            self.blocks = nn.ModuleList(Block(config) for _ in range(config.n_layer))
            self.ln_f = nn.LayerNorm(config.n_embd)
            self.lm_head = nn.Linear(config.n_embd, config.vocab_size, bias=False)
            self.lm_head.weight = self.wte.weight  # weight tying, as in GPT-2
            self.apply(self._init_weights)

    @staticmethod
    def _init_weights(module: nn.Module) -> None:
        if isinstance(module, (nn.Linear, nn.Embedding)):
            nn.init.normal_(module.weight, mean=0.0, std=0.02)
        if isinstance(module, nn.Linear) and module.bias is not None:
            nn.init.zeros_(module.bias)

    def num_params(self) -> int:
        return sum(p.numel() for p in self.parameters())

    def _trunk(
        self,
        idx: torch.Tensor,
        pos: torch.Tensor | None = None,
        mask: torch.Tensor | None = None,
        cache: KVCache | None = None,
    ) -> tuple[list[torch.Tensor], KVCache]:
        """Run embeddings and blocks; return [embeddings, block 1 out, ...] and the new KV cache."""
        T = idx.shape[1]
        if pos is None:
            if T > self.config.block_size:
                raise ValueError(f"sequence of length {T} exceeds block_size {self.config.block_size}")
            pos = torch.arange(T, device=idx.device)
        x = self.drop(self.wte(idx) + self.wpe(pos))
        states, new_cache = [x], []
        for i, block in enumerate(self.blocks):
            x, kv = block(x, mask, None if cache is None else cache[i])
            states.append(x)
            new_cache.append(kv)
        return states, new_cache

    def forward(self, idx: torch.Tensor, targets: torch.Tensor | None = None) -> tuple[torch.Tensor, torch.Tensor | None]:
        """Logits for every position; with `targets` (-100 = ignore) also the mean cross-entropy."""
        states, _ = self._trunk(idx)
        logits = self.lm_head(self.ln_f(states[-1]))
        if targets is None:
            return logits, None
        loss = F.cross_entropy(logits.reshape(-1, logits.size(-1)), targets.reshape(-1), ignore_index=-100)
        return logits, loss

    @torch.no_grad()
    def hidden_states(self, idx: torch.Tensor) -> list[torch.Tensor]:
        """Residual stream per layer, (B, T, n_embd) each: index 0 = embeddings, i = after block i."""
        states, _ = self._trunk(idx)
        return [s.detach() for s in states]


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
def eval_loss(model: GPT, tokenizer: CharTokenizer, texts: Sequence[str], batch_size: int = 64) -> float:
    """Mean next-character cross-entropy of `model` on `texts` (token-weighted)."""
    docs = _documents(tokenizer, texts, model.config.block_size)
    total, count = 0.0, 0
    model.eval()
    for start in range(0, len(docs), batch_size):
        x, y = _lm_batch(docs[start : start + batch_size])
        logits, _ = model(x)
        losses = F.cross_entropy(logits.reshape(-1, logits.size(-1)), y.reshape(-1), ignore_index=-100, reduction="sum")
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
        out = out.index_put((r, torch.tensor(slots)), logp[r, torch.tensor(cols), torch.tensor(toks)])
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
