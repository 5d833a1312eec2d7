"""The low-level llama.cpp calls: a quiet library, contexts, batches and logits.

llama-cpp-python's high-level API returns logits only for the top few tokens and keeps one
sequence per context, so generation and scoring drive llama.cpp's C API directly here.
"""

from __future__ import annotations

import ctypes
import math
import sys
from typing import Any

import numpy as np

from homogeny.errors import ModelFileError

GGML_LOG_ERROR = 4  # ggml.h: NONE 0, DEBUG 1, INFO 2, WARN 3, ERROR 4, CONT 5
GGML_LOG_CONT = 5
_log_callback: Any = None  # kept referenced: llama.cpp holds only the C pointer
_last_log_level = 0

# One token of a batch: (token id, position, sequence ids, whether its logits are wanted).
Entry = tuple[int, int, list[int], bool]


def _print_llama_errors(level: int, text: bytes, _user_data: Any) -> None:
    """Pass llama.cpp's errors (and their continuation lines) to stderr, drop everything else."""
    global _last_log_level
    if level != GGML_LOG_CONT:
        _last_log_level = level
    if _last_log_level >= GGML_LOG_ERROR:
        sys.stderr.write(text.decode("utf-8", errors="replace"))


def quiet_llama() -> Any:
    """llama_cpp with its log limited to errors, imported after the thread policy is chosen.

    llama-cpp-python 0.3.36 maps ggml's log levels from an older header (it reads WARN, 3, as
    ERROR), so `verbose=False` still prints context warnings into the progress display.
    """
    from homogeny.models.runtime import prepare_threads

    prepare_threads()  # before OpenMP starts its threads
    import llama_cpp
    import llama_cpp._logger  # noqa: F401 - installs its callback first; ours replaces it

    global _log_callback
    if _log_callback is None:
        _log_callback = llama_cpp.llama_log_callback(_print_llama_errors)
        llama_cpp.llama_log_set(_log_callback, ctypes.c_void_p(0))
    return llama_cpp


def context_size(n_tokens: int, least: int = 256) -> int:
    """A power of two of at least `least` cells holding n_tokens."""
    return int(2 ** math.ceil(math.log2(max(n_tokens, least))))


def new_context(
    lib: Any,
    model: Any,
    n_ctx: int,
    n_seq: int,
    n_threads: int,
    n_batch: int,
    name: str,
    unified: bool = True,
) -> Any:
    """A llama.cpp context of n_ctx cells for n_seq sequences (`unified`: one KV cache in
    which a prompt's cells are shared by all its sequences)."""
    params = lib.llama_context_default_params()
    params.n_ctx = n_ctx
    params.n_batch = n_batch
    params.n_ubatch = min(n_ctx, 512)
    params.n_seq_max = max(1, n_seq)
    params.n_threads = n_threads
    params.n_threads_batch = n_threads
    params.kv_unified = unified
    params.swa_full = True
    params.embeddings = False
    ctx = lib.llama_init_from_model(model, params)
    if not ctx:
        raise ModelFileError(f"llama.cpp could not create a context of {n_ctx} tokens for {name}")
    return ctx


def clear(lib: Any, ctx: Any) -> None:
    """Empty a context's KV cache."""
    lib.llama_memory_clear(lib.llama_get_memory(ctx), True)


def decode(lib: Any, ctx: Any, batch: Any, entries: list[Entry]) -> None:
    """Decode entries (token, pos, seq_ids, want_logits) as one llama_decode call."""
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


def logits(lib: Any, ctx: Any, n_rows: int, n_vocab: int) -> np.ndarray:
    """The float32 logits of the last decode's n_rows requested positions (a view)."""
    ptr = lib.llama_get_logits(ctx)
    return np.ctypeslib.as_array(ptr, shape=(n_rows, n_vocab))


class ScoringContext:
    """A one-sequence context of its own for exact teacher-forced logits (the generation
    context is left untouched). The whole text is decoded in one llama_decode call: llama.cpp's
    numbers depend on how a text is split into calls, so one call keeps scores independent of
    what was scored before."""

    def __init__(self, lib: Any, model: Any, n_vocab: int, n_threads: int, name: str) -> None:
        self.lib, self.model, self.n_vocab = lib, model, n_vocab
        self.n_threads, self.name = n_threads, name
        self.ctx: Any = None
        self.n_ctx = 0

    def _context(self, n_tokens: int) -> Any:
        if self.ctx is not None and self.n_ctx >= n_tokens:
            clear(self.lib, self.ctx)
            return self.ctx
        self.close()
        n_ctx = context_size(n_tokens + 8)
        # n_batch = n_ctx: one decode call holds the whole text
        self.ctx = new_context(
            self.lib, self.model, n_ctx, 1, self.n_threads, n_ctx, self.name, unified=False
        )
        self.n_ctx = n_ctx
        return self.ctx

    def logits(self, token_ids: list[int], first_row: int) -> np.ndarray:
        """float64 logits after every token from position `first_row` to the last, one row
        each (shape (len(token_ids) - first_row, n_vocab))."""
        lib, n = self.lib, len(token_ids)
        ctx = self._context(n)
        batch = lib.llama_batch_init(n, 0, 1)
        try:
            entries = [(int(t), i, [0], i >= first_row) for i, t in enumerate(token_ids)]
            decode(lib, ctx, batch, entries)
            out = logits(lib, ctx, n - first_row, self.n_vocab).astype(np.float64)
        finally:
            lib.llama_batch_free(batch)
        return out

    def close(self) -> None:
        """Free the context (closing twice is harmless)."""
        if self.ctx is not None:
            self.lib.llama_free(self.ctx)
            self.ctx = None
            self.n_ctx = 0
