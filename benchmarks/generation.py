"""Generation throughput: the engine against a naive loop and the machine's decode ceiling.

8 prompts x 16 samples x 64 tokens on smollm2-135m, all three measured in this run:
  (a) the engine: K samples of a prompt as parallel sequences sharing the prompt's KV cache,
      and prompts packed up to 32 sequences per batch (here 2 prompts x 16 samples);
  (b) naive: one llama-cpp-python chat call per sample;
  (c) ceiling: raw llama_decode of 16 sequences, one token per step, no sampling at all.
Last line: `speedup: X` (engine over naive).  Run: python benchmarks/generation.py
"""

from __future__ import annotations

import argparse
import time

from homogeny.generate.engine import generate
from homogeny.generate.params import SamplingParams
from homogeny.models import load_backend
from homogeny.store import Store
from homogeny.suites.prompt import Prompt

PROMPTS = [
    "Write a short story about a lighthouse keeper.",
    "Describe the taste of rain to someone who has never felt it.",
    "Give me three ideas for a weekend project.",
    "Explain why the sky is blue.",
    "Write a haiku about winter mornings.",
    "What makes a good friend?",
    "Invent a name for a new coffee shop and explain it.",
    "Describe a city in the year 3000.",
]


def bench_engine(model: str, prompts: list[Prompt], k: int, n: int) -> tuple[int, float]:
    """Tokens and seconds for the engine (fresh in-memory store, so nothing is cached)."""
    params = SamplingParams(temperature=1.0, top_p=1.0, min_p=0.0, top_k=0, max_tokens=n, chat=True)
    with Store.open(":memory:") as store:
        t0 = time.perf_counter()
        summary = generate(model, prompts, k, store, params, seed=1, progress=False)
        return summary.tokens, time.perf_counter() - t0


def bench_naive(backend, prompts: list[Prompt], k: int, n: int) -> tuple[int, float]:
    """Tokens and seconds for one create_chat_completion call per sample."""
    llm = backend.llm
    tokens = 0
    t0 = time.perf_counter()
    for p in prompts:
        for s in range(k):
            out = llm.create_chat_completion(
                messages=p.as_messages(), temperature=1.0, top_p=1.0, min_p=0.0, top_k=0,
                max_tokens=n, seed=1000 + s,
            )
            tokens += out["usage"]["completion_tokens"]
    return tokens, time.perf_counter() - t0


def bench_ceiling(backend, prompts: list[Prompt], k: int, n: int) -> tuple[int, float]:
    """Tokens and seconds for raw batched decoding: k sequences, one token each per step."""
    import llama_cpp as lib

    tokens = 0
    t0 = time.perf_counter()
    for p in prompts:
        ids = backend.render(p, True)
        ctx = backend._context(k, len(ids) + k * n + 8)
        batch = lib.llama_batch_init(max(len(ids), k), 0, k)
        try:
            backend._decode(ctx, batch, [(t, i, list(range(k)), i == len(ids) - 1) for i, t in enumerate(ids)])
            tok = ids[-1]
            for step in range(n):
                backend._decode(ctx, batch, [(tok, len(ids) + step, [s], True) for s in range(k)])
                tokens += k
        finally:
            lib.llama_batch_free(batch)
    return tokens, time.perf_counter() - t0


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--model", default="zoo:smollm2-135m")
    ap.add_argument("--prompts", type=int, default=8)
    ap.add_argument("--samples", type=int, default=16)
    ap.add_argument("--tokens", type=int, default=64)
    args = ap.parse_args()
    prompts = [Prompt(id=f"p{i}", text=t) for i, t in enumerate(PROMPTS[: args.prompts])]
    backend = load_backend(args.model)
    backend.generate(prompts[0], SamplingParams(max_tokens=4, chat=True), [0])  # warm-up
    rows = []
    for name, fn in (
        ("engine", lambda: bench_engine(args.model, prompts, args.samples, args.tokens)),
        ("naive", lambda: bench_naive(backend, prompts, args.samples, args.tokens)),
        ("ceiling", lambda: bench_ceiling(backend, prompts, args.samples, args.tokens)),
    ):
        tokens, seconds = fn()
        rows.append((name, tokens, seconds, tokens / seconds))
        print(f"{name:8s} {tokens:6d} tokens {seconds:7.2f} s {tokens / seconds:8.1f} tok/s", flush=True)
    rate = {r[0]: r[3] for r in rows}
    print(f"engine / ceiling: {rate['engine'] / rate['ceiling']:.2f}")
    print(f"speedup: {rate['engine'] / rate['naive']:.2f}")


if __name__ == "__main__":
    main()
