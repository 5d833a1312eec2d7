"""llama.cpp backend: K samples of one prompt decoded as parallel sequences sharing its KV cache.

The prompt is decoded once with every token tagged with all K sequence ids (a unified KV
cache stores it once); then each step decodes one token per live sequence in a single
`llama_decode`. Sampling is done here in numpy on the logits llama.cpp already computed,
so every sampled token's log-probability (under the model's full, untempered distribution),
its top alternatives and the step entropy come for free (`logits_all=True` is not needed).
Filter order follows llama.cpp's default chain: top-k, top-p, min-p on the model
distribution, then temperature, then a draw from a numpy Generator seeded per sample.
"""

from __future__ import annotations

import contextlib
import ctypes
import math
import os
import sys
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from homogeny.errors import ModelFileError
from homogeny.generate.params import SamplingParams
from homogeny.models.base import Completion, ModelInfo
from homogeny.suites.prompt import Prompt

TOP_ALTERNATIVES = 5
PROMPT_CHUNK = 512  # prompt tokens per llama_decode call (the context's n_ubatch)


@dataclass
class _Seq:
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


GGML_LOG_ERROR = 4  # ggml.h: NONE 0, DEBUG 1, INFO 2, WARN 3, ERROR 4, CONT 5
GGML_LOG_CONT = 5
_log_callback: Any = None  # kept referenced: llama.cpp holds only the C pointer
_last_log_level = 0


def _print_llama_errors(level: int, text: bytes, _user_data: Any) -> None:
    """Pass llama.cpp's errors (and their continuation lines) to stderr, drop everything else."""
    global _last_log_level
    if level != GGML_LOG_CONT:
        _last_log_level = level
    if _last_log_level >= GGML_LOG_ERROR:
        sys.stderr.write(text.decode("utf-8", errors="replace"))


def _quiet_llama() -> Any:
    """llama_cpp with its log limited to errors.

    llama-cpp-python 0.3.36 maps ggml's log levels from an older header (it reads WARN, 3, as
    ERROR), so `verbose=False` still prints context warnings into the progress display.
    """
    # OpenMP's wait policy is chosen when homogeny is imported (see homogeny/__init__.py).
    import llama_cpp
    import llama_cpp._logger  # installs its callback first; ours replaces it

    global _log_callback
    if _log_callback is None:
        _log_callback = llama_cpp.llama_log_callback(_print_llama_errors)
        llama_cpp.llama_log_set(_log_callback, ctypes.c_void_p(0))
    return llama_cpp


class LlamaCppBackend:
    """A GGUF model on CPU through llama-cpp-python. One per process: not thread-safe."""

    def __init__(self, path: Path, info: ModelInfo, n_threads: int | None = None) -> None:
        llama_cpp = _quiet_llama()
        from llama_cpp import Llama

        self.info = info
        self.path = path
        self.n_threads = n_threads or int(os.environ.get("HOMOGENY_THREADS", "0")) or max(1, os.cpu_count() or 1)
        try:
            # The Llama object gives tokenizer, metadata and chat template; its own context is
            # kept tiny because generation runs in a context made for K parallel sequences.
            self.llm = Llama(
                model_path=str(path), n_ctx=64, n_batch=64, n_threads=self.n_threads,
                verbose=False,
            )
        except (ValueError, RuntimeError) as exc:
            raise ModelFileError(f"cannot load GGUF model {str(path)!r}: {exc}") from None
        self._lib = llama_cpp
        self.model = self.llm._model.model
        self.vocab = llama_cpp.llama_model_get_vocab(self.model)
        self.n_vocab = int(llama_cpp.llama_vocab_n_tokens(self.vocab))
        self._ctx: Any = None
        self._ctx_shape: tuple[int, int] = (0, 0)
        self._formatter: Any = None
        self.n_ctx_train = int(llama_cpp.llama_model_n_ctx_train(self.model))

    # ---- prompt -----------------------------------------------------------------------
    def chat_template(self) -> str | None:
        return self.llm.metadata.get("tokenizer.chat_template")

    def render(self, prompt: Prompt, chat: bool) -> list[int]:
        """Token ids of the prompt: the chat template applied when `chat`, else the raw text."""
        template = self.chat_template() if chat else None
        if template:
            if self._formatter is None:
                from llama_cpp.llama_chat_format import Jinja2ChatFormatter

                bos = self._piece(self.llm.token_bos())
                eos = self._piece(self.llm.token_eos())
                self._formatter = Jinja2ChatFormatter(template=template, eos_token=eos, bos_token=bos)
            result = self._formatter(messages=prompt.as_messages())
            return self.llm.tokenize(result.prompt.encode("utf-8"), add_bos=not result.added_special, special=True)
        text = prompt.text or "\n".join(c for _, c in prompt.messages)
        return self.llm.tokenize(text.encode("utf-8"), add_bos=True, special=False)

    def _piece(self, token: int) -> str:
        if token < 0:
            return ""
        return self.llm.detokenize([token], special=True).decode("utf-8", errors="replace")

    # ---- context ----------------------------------------------------------------------
    def _context(self, n_seq: int, n_ctx: int) -> Any:
        """A context holding n_seq sequences in a unified KV cache of n_ctx cells (reused)."""
        lib = self._lib
        if self._ctx is not None and self._ctx_shape[0] >= n_seq and self._ctx_shape[1] >= n_ctx:
            lib.llama_memory_clear(lib.llama_get_memory(self._ctx), True)
            return self._ctx
        self.close_context()
        n_ctx = int(2 ** np.ceil(np.log2(max(n_ctx, 256))))
        params = lib.llama_context_default_params()
        params.n_ctx = n_ctx
        params.n_batch = min(n_ctx, 2048)
        params.n_ubatch = min(n_ctx, 512)
        params.n_seq_max = max(1, n_seq)
        params.n_threads = self.n_threads
        params.n_threads_batch = self.n_threads
        params.kv_unified = True  # the prompt's cells are shared by all K sequences
        params.swa_full = True
        params.embeddings = False
        ctx = lib.llama_init_from_model(self.model, params)
        if not ctx:
            raise ModelFileError(f"llama.cpp could not create a context of {n_ctx} tokens for {self.info.model_id}")
        self._ctx = ctx
        self._ctx_shape = (max(1, n_seq), n_ctx)
        return ctx

    def close_context(self) -> None:
        if self._ctx is not None:
            self._lib.llama_free(self._ctx)
            self._ctx = None
            self._ctx_shape = (0, 0)

    def close(self) -> None:
        self.close_context()
        with contextlib.suppress(Exception):  # closing twice is harmless
            self.llm.close()

    # ---- decode -----------------------------------------------------------------------
    def _decode(self, ctx: Any, batch: Any, entries: list[tuple[int, int, list[int], bool]]) -> None:
        """Decode entries (token, pos, seq_ids, want_logits) as one batch."""
        lib = self._lib
        batch.n_tokens = len(entries)
        for i, (tok, pos, seqs, want) in enumerate(entries):
            batch.token[i] = tok
            batch.pos[i] = pos
            batch.n_seq_id[i] = len(seqs)
            for j, s in enumerate(seqs):
                batch.seq_id[i][j] = s
            batch.logits[i] = 1 if want else 0
        rc = lib.llama_decode(ctx, batch)
        if rc != 0:
            raise RuntimeError(f"llama_decode failed with code {rc} (context full?)")

    def _logits(self, ctx: Any, n_rows: int) -> np.ndarray:
        ptr = self._lib.llama_get_logits(ctx)
        return np.ctypeslib.as_array(ptr, shape=(n_rows, self.n_vocab))

    def generate(self, prompt: Prompt, params: SamplingParams, seeds: list[int]) -> list[Completion]:
        """Sample len(seeds) continuations of `prompt` as parallel sequences (see module doc)."""
        return self.generate_many([(prompt, seeds)], params)[0]

    def generate_many(self, requests: list[tuple[Prompt, list[int]]], params: SamplingParams) -> list[list[Completion]]:
        """Sample several prompts at once: each (prompt, seeds) request gets one sequence per
        seed, its prompt decoded once into cells shared by those sequences, and every step
        decodes one token of every live sequence of every request in a single batch. Small
        requests (greedy, K=1) then fill the batch that one prompt alone would leave empty."""
        lib = self._lib
        started = time.perf_counter()
        rendered = [self.render(p, bool(params.chat)) for p, _ in requests]
        for ids in rendered:
            if len(ids) + params.max_tokens > self.n_ctx_train:
                raise ModelFileError(
                    f"prompt of {len(ids)} tokens + --max-tokens {params.max_tokens} exceeds "
                    f"{self.info.model_id}'s context of {self.n_ctx_train}; shorten the prompt or max tokens"
                )
        n_seq = sum(len(seeds) for _, seeds in requests)
        n_ctx = sum(len(ids) + len(seeds) * params.max_tokens for ids, (_, seeds) in zip(rendered, requests)) + 8
        ctx = self._context(n_seq, n_ctx)
        widest = max((len(seeds) for _, seeds in requests), default=1)
        batch = lib.llama_batch_init(max(PROMPT_CHUNK, n_seq, 1), 0, max(widest, 1))
        try:
            groups, next_id = [], 0
            for ids, (_, seeds) in zip(rendered, requests):
                groups.append([
                    _Seq(next_id + i, np.random.default_rng(seed), len(ids), [], [], [], []) for i, seed in enumerate(seeds)
                ])
                next_id += len(seeds)
            logits = self._decode_prompts(ctx, batch, rendered, groups)
            live = [s for g in groups for s in g]
            while live:
                self._step_all(live, logits, params)
                live = [s for s in live if not s.finish]
                if not live:
                    break
                entries = [(s.tokens[-1], s.pos, [s.index], True) for s in live]
                for row, s in enumerate(live):
                    s.row = row
                    s.pos += 1
                self._decode(ctx, batch, entries)
                logits = self._logits(ctx, len(live))
        finally:
            lib.llama_batch_free(batch)
        per_sample = (time.perf_counter() - started) / max(n_seq, 1)
        return [[self._completion(s, params, len(ids), per_sample) for s in g] for ids, g in zip(rendered, groups)]

    def _decode_prompts(self, ctx: Any, batch: Any, rendered: list[list[int]], groups: list[list[_Seq]]) -> np.ndarray:
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
                self._decode(ctx, batch, [(tok, start + i, seq_ids, last and i == len(chunk) - 1) for i, tok in enumerate(chunk)])
            rows.append(self._logits(ctx, 1)[0].copy())  # the next decode overwrites llama.cpp's buffer
            for s in g:
                s.row = r
        return np.stack(rows)

    def _step_all(self, live: list[_Seq], logits: np.ndarray, params: SamplingParams) -> None:
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
            if self._lib.llama_vocab_is_eog(self.vocab, token):
                s.finish = "stop"
            elif len(s.tokens) >= params.max_tokens:
                s.finish = "length"
            elif params.stop and any(x in self._text(s.tokens) for x in params.stop):
                s.finish = "stop"

    def _text(self, tokens: list[int]) -> str:
        return self.llm.detokenize(tokens).decode("utf-8", errors="replace")

    def _completion(self, s: _Seq, params: SamplingParams, n_prompt: int, seconds: float) -> Completion:
        tokens = s.tokens
        if tokens and s.finish == "stop" and self._lib.llama_vocab_is_eog(self.vocab, tokens[-1]):
            visible = tokens[:-1]
        else:
            visible = tokens
        text = self._text(visible)
        for stop in params.stop:
            if stop in text:
                text = text[: text.index(stop)]
        return Completion(
            text=text, token_ids=tokens, logprobs=s.logprobs, top_logprobs=s.tops,  # type: ignore[arg-type]
            finish_reason=s.finish, n_prompt_tokens=n_prompt, seconds=seconds,
            entropies=s.entropies,
        )

    # ---- internals --------------------------------------------------------------------
    def hidden_states(self, texts: list[str]) -> list[Any]:
        raise NotImplementedError(
            "the llama.cpp backend gives no per-layer hidden states; use the hf backend "
            "(hf:PATH or the zoo model through homogeny.models.load_backend(spec, backend='hf'))"
        )


def draw_tokens(w: np.ndarray, z: np.ndarray, params: SamplingParams, rngs: list[np.random.Generator]) -> np.ndarray:
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


class LogitReader:
    """Full next-token logits of a llama.cpp backend for given token ids, on a context of its
    own (the backend's generation context is left untouched). Written here because
    llama-cpp-python's high-level API returns logits only for the top few tokens."""

    def __init__(self, backend: Any) -> None:
        llama_cpp = _quiet_llama()

        self.backend = backend
        self.lib = llama_cpp
        self.ctx: Any = None
        self.n_ctx = 0

    def _context(self, n_tokens: int) -> Any:
        lib = self.lib
        if self.ctx is not None and self.n_ctx >= n_tokens:
            lib.llama_memory_clear(lib.llama_get_memory(self.ctx), True)
            return self.ctx
        self.close()
        n_ctx = int(2 ** math.ceil(math.log2(max(n_tokens + 8, 256))))
        params = lib.llama_context_default_params()
        params.n_ctx = n_ctx
        params.n_batch = n_ctx  # one decode call holds the whole text
        params.n_ubatch = min(n_ctx, 512)
        params.n_seq_max = 1
        params.n_threads = self.backend.n_threads
        params.n_threads_batch = self.backend.n_threads
        params.swa_full = True
        params.embeddings = False
        self.ctx = lib.llama_init_from_model(self.backend.model, params)
        if not self.ctx:
            raise ModelFileError(f"llama.cpp could not create a {n_ctx}-token context for {self.backend.info.model_id}")
        self.n_ctx = n_ctx
        return self.ctx

    def logits(self, token_ids: Sequence[int], all_positions: bool = False) -> np.ndarray:
        """float64 logits after the last token (shape (n_vocab,)) or after every token
        (shape (len(token_ids), n_vocab)) when all_positions."""
        lib, n = self.lib, len(token_ids)
        ctx = self._context(n)
        batch = lib.llama_batch_init(n, 0, 1)
        try:
            batch.n_tokens = n
            for i, tok in enumerate(token_ids):
                batch.token[i] = int(tok)
                batch.pos[i] = i
                batch.n_seq_id[i] = 1
                batch.seq_id[i][0] = 0
                batch.logits[i] = 1 if (all_positions or i == n - 1) else 0
            if lib.llama_decode(ctx, batch) != 0:
                raise RuntimeError(f"llama_decode failed on {n} tokens")
            rows = n if all_positions else 1
            out = np.ctypeslib.as_array(lib.llama_get_logits(ctx), shape=(rows, self.backend.n_vocab))
            out = out.astype(np.float64)
        finally:
            lib.llama_batch_free(batch)
        return out if all_positions else out[0]

    def close(self) -> None:
        if self.ctx is not None:
            self.lib.llama_free(self.ctx)
            self.ctx = None
            self.n_ctx = 0
