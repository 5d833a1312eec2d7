"""The toy GPT's parts: tokenizer, shapes and the transformer itself (re-exported by gpt).

A character-level decoder-only transformer (Radford et al. 2019 architecture, in the style of
Karpathy's nanoGPT) with learned positions, pre-LayerNorm blocks and tied embeddings. Model
init uses `GPTConfig.init_seed`, so the same seed gives the same weights.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

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
            raise ValueError(
                f"character {exc.args[0]!r} is not in the tokenizer alphabet"
            ) from None

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
        self,
        x: torch.Tensor,
        mask: torch.Tensor | None,
        past: tuple[torch.Tensor, torch.Tensor] | None,
    ) -> tuple[torch.Tensor, tuple[torch.Tensor, torch.Tensor]]:
        B, T, C = x.shape
        q, k, v = (
            t.view(B, T, self.n_head, C // self.n_head).transpose(1, 2)
            for t in self.qkv(x).split(C, dim=2)
        )
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
            nn.Linear(cfg.n_embd, 4 * cfg.n_embd),
            nn.GELU(),
            nn.Linear(4 * cfg.n_embd, cfg.n_embd),
            nn.Dropout(cfg.dropout),
        )

    def forward(
        self,
        x: torch.Tensor,
        mask: torch.Tensor | None,
        past: tuple[torch.Tensor, torch.Tensor] | None,
    ) -> tuple[torch.Tensor, tuple[torch.Tensor, torch.Tensor]]:
        a, kv = self.attn(self.ln1(x), mask, past)
        x = x + a
        return x + self.mlp(self.ln2(x)), kv


class GPT(nn.Module):
    """A character-level GPT. `forward(idx, targets)` returns (logits, mean cross-entropy
    or None)."""

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
                raise ValueError(
                    f"sequence of length {T} exceeds block_size {self.config.block_size}"
                )
            pos = torch.arange(T, device=idx.device)
        x = self.drop(self.wte(idx) + self.wpe(pos))
        states, new_cache = [x], []
        for i, block in enumerate(self.blocks):
            x, kv = block(x, mask, None if cache is None else cache[i])
            states.append(x)
            new_cache.append(kv)
        return states, new_cache

    def forward(
        self, idx: torch.Tensor, targets: torch.Tensor | None = None
    ) -> tuple[torch.Tensor, torch.Tensor | None]:
        """Logits for every position; with `targets` (-100 = ignore) also the mean cross-entropy."""
        states, _ = self._trunk(idx)
        logits = self.lm_head(self.ln_f(states[-1]))
        if targets is None:
            return logits, None
        loss = F.cross_entropy(
            logits.reshape(-1, logits.size(-1)), targets.reshape(-1), ignore_index=-100
        )
        return logits, loss

    @torch.no_grad()
    def hidden_states(self, idx: torch.Tensor) -> list[torch.Tensor]:
        """Residual stream per layer, (B, T, n_embd) each: index 0 = embeddings, i = after
        block i."""
        states, _ = self._trunk(idx)
        return [s.detach() for s in states]
