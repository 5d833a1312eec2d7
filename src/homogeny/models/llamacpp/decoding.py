"""Parallel decoding: several prompts' K samples as sequences of one batch, each prompt's
samples handed back the moment its own sequences finish.

Each prompt is decoded once with every token tagged with all its sequence ids (a unified KV
cache stores it once); then each step decodes one token of every live sequence of every
prompt in a single `llama_decode`, so small requests (greedy, K=1) fill the batch that one
prompt alone would leave empty.
"""

from __future__ import annotations

import time
from collections.abc import Iterator, Sequence
from typing import Any

import numpy as np

from homogeny.errors import ModelFileError
from homogeny.models.base import Completion, Request
from homogeny.models.llamacpp import native
from homogeny.models.llamacpp.sampler import Seq, step
from homogeny.models.params import SamplingParams

# The LlamaCppBackend that decodes (typed loosely: backend.py imports this module).
Decoder = Any

MAX_PARALLEL_SEQUENCES = 32  # sequences decoded together: one prompt's samples, or several's
PROMPT_CHUNK = 512  # prompt tokens per llama_decode call (the context's n_ubatch)


def packs(requests: Sequence[Request]) -> Iterator[list[int]]:
    """Indices of requests grouped so that each group has at most MAX_PARALLEL_SEQUENCES
    sequences: many prompts with few samples each are decoded together."""
    pack: list[int] = []
    width = 0
    for i, (_, seeds) in enumerate(requests):
        if pack and width + len(seeds) > MAX_PARALLEL_SEQUENCES:
            yield pack
            pack, width = [], 0
        pack.append(i)
        width += len(seeds)
    if pack:
        yield pack


def decode_pack(
    backend: Decoder, requests: Sequence[Request], params: SamplingParams
) -> Iterator[tuple[int, list[Completion]]]:
    """Sample every request of one pack; yield (request index, completions) as soon as all of
    that request's sequences have finished (see module doc)."""
    started = time.perf_counter()
    rendered = [backend.render(p, bool(params.chat)) for p, _ in requests]
    for ids in rendered:
        if len(ids) + params.max_tokens > backend.n_ctx_train:
            raise ModelFileError(
                f"prompt of {len(ids)} tokens + --max-tokens {params.max_tokens} exceeds "
                f"{backend.info.model_id}'s context of {backend.n_ctx_train}; "
                "shorten the prompt or max tokens"
            )
    n_seq = sum(len(seeds) for _, seeds in requests)
    n_ctx = sum(len(ids) + len(s) * params.max_tokens for ids, (_, s) in zip(rendered, requests))
    ctx = backend.generation_context(n_seq, n_ctx + 8)
    lib = backend.lib
    widest = max((len(seeds) for _, seeds in requests), default=1)
    batch = lib.llama_batch_init(max(PROMPT_CHUNK, n_seq, 1), 0, max(widest, 1))
    try:
        groups, next_id = [], 0
        for ids, (_, seeds) in zip(rendered, requests):
            rngs = [np.random.default_rng(seed) for seed in seeds]
            groups.append(
                [Seq(next_id + i, r, len(ids), [], [], [], []) for i, r in enumerate(rngs)]
            )
            next_id += len(seeds)
        logits = _decode_prompts(backend, ctx, batch, rendered, groups)
        live = [s for g in groups for s in g]
        pending = set(range(len(groups)))
        while live:
            step(live, logits, params)
            for s in live:
                s.finish = backend.finish_reason(s.tokens, params)
            live = [s for s in live if not s.finish]
            for gi in sorted(pending):
                if all(s.finish for s in groups[gi]):
                    pending.discard(gi)
                    seconds = (time.perf_counter() - started) / max(n_seq, 1)
                    n_prompt = len(rendered[gi])
                    yield gi, [backend.completion(s, params, n_prompt, seconds) for s in groups[gi]]
            if not live:
                break
            entries: list[native.Entry] = [(s.tokens[-1], s.pos, [s.index], True) for s in live]
            for row, s in enumerate(live):
                s.row = row
                s.pos += 1
            native.decode(lib, ctx, batch, entries)
            logits = native.logits(lib, ctx, len(live), backend.n_vocab)
    finally:
        lib.llama_batch_free(batch)


def _decode_prompts(
    backend: Decoder,
    ctx: object,
    batch: object,
    rendered: list[list[int]],
    groups: list[list[Seq]],
) -> np.ndarray:
    """Decode each prompt into the cells of its own sequences and return the logits after
    each prompt's last token, one row per prompt (each sequence's `row` points at its
    prompt's). Each prompt gets its own llama_decode calls: llama.cpp's numbers depend on
    the batch's size past a few dozen tokens (measured: 0.17 nats on one logprob), so
    packing prompts together would make a prompt's samples depend on its neighbours."""
    rows = []
    for r, (ids, g) in enumerate(zip(rendered, groups)):
        seq_ids = [s.index for s in g]
        for start in range(0, len(ids), PROMPT_CHUNK):
            chunk = ids[start : start + PROMPT_CHUNK]
            last = start + len(chunk) == len(ids)
            entries = [
                (tok, start + i, seq_ids, last and i == len(chunk) - 1)
                for i, tok in enumerate(chunk)
            ]
            native.decode(backend.lib, ctx, batch, entries)
        # the next decode overwrites llama.cpp's buffer: copy
        rows.append(native.logits(backend.lib, ctx, 1, backend.n_vocab)[0].copy())
        for s in g:
            s.row = r
    return np.stack(rows)
