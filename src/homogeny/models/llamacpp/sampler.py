"""Sampling on logits llama.cpp already computed, in numpy, one vectorised pass per step.

Every sampled token's log-probability (under the model's full, untempered distribution), its
top alternatives and the step entropy come for free. Filter order follows llama.cpp's default
chain: top-k, top-p, min-p on the model distribution, then temperature, then a draw from a
numpy Generator seeded per sample.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from homogeny.models.params import SamplingParams

TOP_ALTERNATIVES = 5


@dataclass
class Seq:
    """A live sequence: its sample index, RNG, position and what it produced so far."""

    index: int
    rng: np.random.Generator
    pos: int
    tokens: list[int]
    logprobs: list[float]
    tops: list[list[tuple[int, float]]]
    entropies: list[float]
    row: int = 0  # row of its logits in the last decode's output
    finish: str = ""


def step(live: list[Seq], logits: np.ndarray, params: SamplingParams) -> None:
    """Pick every live sequence's next token in one vectorised pass over their logits, and
    record each token's logprob, top alternatives and the step entropy. Works in float32
    with float64 sums: at 32 sequences x 262k vocabulary (gemma3) a float64 pass took
    0.56 s per step, more than the model's own decode."""
    z = logits[[s.row for s in live]]  # a float32 copy
    z -= z.max(axis=1, keepdims=True)
    w = np.exp(z)
    total = w.sum(axis=1, dtype=np.float64)
    log_total = np.log(total)
    entropy = log_total - (w * z).sum(axis=1, dtype=np.float64) / total
    top = np.argpartition(-z, TOP_ALTERNATIVES, axis=1)[:, :TOP_ALTERNATIVES]
    tokens = draw_tokens(w, z, params, [s.rng for s in live])
    for i, s in enumerate(live):
        token = int(tokens[i])
        row_top = top[i][np.argsort(-z[i, top[i]])]
        s.tokens.append(token)
        s.logprobs.append(float(z[i, token] - log_total[i]))
        s.tops.append([(int(t), float(z[i, t] - log_total[i])) for t in row_top])
        s.entropies.append(float(entropy[i]))


def draw_tokens(
    w: np.ndarray, z: np.ndarray, params: SamplingParams, rngs: list[np.random.Generator]
) -> np.ndarray:
    """One token per row: argmax at temperature 0, else filter (top-k, top-p, min-p) and draw
    from the tempered distribution by inverse CDF with one uniform per row. `z` holds each
    row's logits minus their maximum and `w` = exp(z), the unnormalised probabilities.

    Each row's RNG advances exactly once per step, so a sample's stream does not depend on
    the filters or on which other sequences share its batch."""
    u = np.array([rng.random() for rng in rngs])
    if params.temperature == 0:
        return z.argmax(axis=1)
    if params.top_k == 0 and params.top_p >= 1.0 and params.min_p == 0:
        tempered = w if params.temperature == 1.0 else np.exp(z / np.float32(params.temperature))
        return inverse_cdf(tempered, u)
    out = np.empty(len(rngs), dtype=np.int64)
    for i in range(len(rngs)):
        keep = candidate_tokens(w[i], params)
        scaled = z[i, keep].astype(np.float64) / params.temperature
        cdf = np.cumsum(np.exp(scaled - scaled.max()))
        out[i] = keep[min(int(np.searchsorted(cdf, u[i] * cdf[-1], side="right")), len(keep) - 1)]
    return out


def inverse_cdf(w: np.ndarray, u: np.ndarray, block: int = 1024) -> np.ndarray:
    """Per row i, the first index whose cumulative weight exceeds u[i] x the row's total, the
    sums taken in float64 two levels deep (block totals, then inside the chosen block): one
    pass over the vocabulary instead of a float64 cumulative sum of every row."""
    starts = np.arange(0, w.shape[1], block)
    blocks = np.add.reduceat(w, starts, axis=1, dtype=np.float64)
    cum = np.cumsum(blocks, axis=1)
    out = np.empty(w.shape[0], dtype=np.int64)
    for i in range(w.shape[0]):
        target = u[i] * cum[i, -1]
        b = min(int(np.searchsorted(cum[i], target, side="right")), len(starts) - 1)
        before = cum[i, b - 1] if b > 0 else 0.0
        inner = np.cumsum(w[i, starts[b] : starts[b] + block], dtype=np.float64)
        j = min(int(np.searchsorted(inner, target - before, side="right")), inner.size - 1)
        out[i] = starts[b] + j
    return out


def candidate_tokens(probs: np.ndarray, params: SamplingParams) -> np.ndarray:
    """Token ids that survive top-k, then top-p, then min-p (llama.cpp's order), by id order.
    `probs` may be unnormalised: every rule is relative to the row's total or maximum.

    Avoids a full vocabulary sort: top-p first looks at the 1024 most likely tokens (found in
    linear time) and only sorts everything when they hold less than top_p of the mass."""
    n = probs.shape[0]
    keep = np.arange(n)
    if params.top_k > 0 and params.top_k < keep.size:
        part = np.argpartition(-probs[keep], params.top_k - 1)[: params.top_k]
        keep = keep[part]
    if params.top_p < 1.0:
        sub = probs[keep]
        m = min(1024, sub.size)
        idx = np.argpartition(-sub, m - 1)[:m] if m < sub.size else np.arange(sub.size)
        idx = idx[np.argsort(-sub[idx], kind="stable")]
        cum = np.cumsum(sub[idx])
        target = params.top_p * sub.sum()
        if cum[-1] < target and m < sub.size:
            idx = np.argsort(-sub, kind="stable")
            cum = np.cumsum(sub[idx])
        cut = int(np.searchsorted(cum, target, side="left")) + 1
        keep = keep[idx[:cut]]
    if params.min_p > 0:
        keep = keep[probs[keep] >= params.min_p * probs.max()]
    return np.sort(keep)
