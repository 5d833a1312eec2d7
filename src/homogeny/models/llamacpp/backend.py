"""llama.cpp backend: generation (K samples of a prompt as parallel sequences) and scoring
(exact teacher-forced token log-probabilities) on a GGUF model, CPU, through llama-cpp-python.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any, ClassVar

import numpy as np

from homogeny.errors import ModelFileError
from homogeny.models.base import Backend, Completion, ModelInfo, Request, Result, TokenScores
from homogeny.models.llamacpp import native
from homogeny.models.llamacpp.decoding import decode_pack, packs
from homogeny.models.llamacpp.sampler import Seq
from homogeny.models.params import SamplingParams
from homogeny.suites.prompt import Prompt


class LlamaCppBackend(Backend):
    """A GGUF model on CPU through llama-cpp-python. One per process: not thread-safe."""

    name: ClassVar[str] = "llama.cpp"
    capabilities: ClassVar[frozenset[str]] = frozenset({"generate", "score"})

    def __init__(self, path: Path, info: ModelInfo, n_threads: int | None = None) -> None:
        from homogeny import config

        self.lib = native.quiet_llama()
        self.info = info
        self.path = path
        self.n_threads = n_threads or config.threads()
        try:
            # The Llama object gives tokenizer, metadata and chat template; its own context is
            # kept tiny because generation runs in a context made for K parallel sequences.
            self._llm = self.lib.Llama(
                model_path=str(path), n_ctx=64, n_batch=64, n_threads=self.n_threads, verbose=False
            )
        except (ValueError, RuntimeError) as exc:
            raise ModelFileError(f"cannot load GGUF model {str(path)!r}: {exc}") from None
        self.model = self._llm._model.model
        self.vocab = self.lib.llama_model_get_vocab(self.model)
        self.n_vocab = int(self.lib.llama_vocab_n_tokens(self.vocab))
        self.n_ctx_train = int(self.lib.llama_model_n_ctx_train(self.model))
        self._ctx: Any = None
        self._ctx_shape: tuple[int, int] = (0, 0)
        self._formatter: Any = None
        self._scoring = native.ScoringContext(
            self.lib, self.model, self.n_vocab, self.n_threads, info.model_id
        )

    # ---- text and tokens ----------------------------------------------------------------
    def chat_template(self) -> str | None:
        """The model's chat template (None for models without one)."""
        return self._llm.metadata.get("tokenizer.chat_template")

    def render(self, prompt: Prompt, chat: bool) -> list[int]:
        """Token ids of the prompt: the chat template applied when `chat`, else the raw text."""
        template = self.chat_template() if chat else None
        if template:
            if self._formatter is None:
                from llama_cpp.llama_chat_format import Jinja2ChatFormatter

                bos = self._piece(self._llm.token_bos())
                eos = self._piece(self._llm.token_eos())
                self._formatter = Jinja2ChatFormatter(
                    template=template, eos_token=eos, bos_token=bos
                )
            result = self._formatter(messages=prompt.as_messages())
            text = result.prompt.encode("utf-8")
            return self._llm.tokenize(text, add_bos=not result.added_special, special=True)
        text = prompt.text or "\n".join(c for _, c in prompt.messages)
        return self._llm.tokenize(text.encode("utf-8"), add_bos=True, special=False)

    def tokenize(self, text: str) -> list[int]:
        """Token ids of `text` as a continuation: no BOS, special tokens read as plain text."""
        return list(self._llm.tokenize(text.encode("utf-8"), add_bos=False, special=False))

    def detokenize(self, ids: Sequence[int]) -> str:
        """The text of token ids (special tokens left out)."""
        return self._llm.detokenize([int(i) for i in ids]).decode("utf-8", errors="replace")

    def _piece(self, token: int) -> str:
        if token < 0:
            return ""
        return self._llm.detokenize([token], special=True).decode("utf-8", errors="replace")

    # ---- generation ---------------------------------------------------------------------
    def generation_context(self, n_seq: int, n_ctx: int) -> Any:
        """A context for n_seq sequences in a unified KV cache of n_ctx cells (reused)."""
        shape = self._ctx_shape
        if self._ctx is not None and shape[0] >= n_seq and shape[1] >= n_ctx:
            native.clear(self.lib, self._ctx)
            return self._ctx
        self._close_context()
        n_ctx = native.context_size(n_ctx)
        self._ctx = native.new_context(
            self.lib, self.model, n_ctx, n_seq, self.n_threads, min(n_ctx, 2048), self.info.model_id
        )
        self._ctx_shape = (max(1, n_seq), n_ctx)
        return self._ctx

    def generate(
        self, prompt: Prompt, params: SamplingParams, seeds: list[int]
    ) -> list[Completion]:
        """Sample len(seeds) continuations of `prompt` as parallel sequences."""
        stream = decode_pack(self, [(prompt, seeds)], params)
        try:
            return next(stream)[1]
        finally:
            stream.close()

    def generate_batch(
        self, requests: Sequence[Request], params: SamplingParams
    ) -> Iterator[Result]:
        """Decode requests in packs of at most 32 sequences; yield each request's samples as
        soon as its own sequences finish (the engine stores them at once)."""
        for pack in packs(requests):
            for local, completions in decode_pack(self, [requests[i] for i in pack], params):
                yield pack[local], list(range(len(completions))), completions

    def finish_reason(self, tokens: list[int], params: SamplingParams) -> str:
        """Why a sequence ends after `tokens` ("stop", "length"), or "" while it goes on."""
        if self.lib.llama_vocab_is_eog(self.vocab, tokens[-1]):
            return "stop"
        if len(tokens) >= params.max_tokens:
            return "length"
        if params.stop and any(x in self.detokenize(tokens) for x in params.stop):
            return "stop"
        return ""

    def completion(
        self, s: Seq, params: SamplingParams, n_prompt: int, seconds: float
    ) -> Completion:
        """The Completion of a finished sequence (end-of-generation token and stop text cut)."""
        tokens = s.tokens
        eog = bool(tokens) and self.lib.llama_vocab_is_eog(self.vocab, tokens[-1])
        text = self.detokenize(tokens[:-1] if s.finish == "stop" and eog else tokens)
        for stop in params.stop:
            if stop in text:
                text = text[: text.index(stop)]
        return Completion(
            text=text,
            token_ids=tokens,
            logprobs=s.logprobs,
            top_logprobs=s.tops,  # type: ignore[arg-type]
            finish_reason=s.finish,
            n_prompt_tokens=n_prompt,
            seconds=seconds,
            entropies=s.entropies,
        )

    # ---- scoring ------------------------------------------------------------------------
    def score(
        self,
        context: Prompt | str,
        continuation: str,
        *,
        chat: bool = False,
        next_token: bool = False,
    ) -> TokenScores:
        """Token log-probabilities of `continuation` after `context` from exact logits, the
        whole text decoded in one call on a context of its own (see Backend.score)."""
        prompt = context if isinstance(context, Prompt) else Prompt("score", text=context)
        head = list(self.render(prompt, chat))
        ids = (head + self.tokenize(continuation))[: self.n_ctx_train]
        if not ids:
            return TokenScores([], np.zeros(0))
        first = min(max(len(head) - 1, 0), len(ids) - 1)  # the row predicting the first target
        targets = np.asarray(ids[first + 1 :], dtype=np.int64)
        if not len(targets) and not next_token:
            return TokenScores([], np.zeros(0))
        rows = self._scoring.logits(ids, first)
        top = rows.max(axis=1, keepdims=True)
        logz = top[:, 0] + np.log(np.exp(rows - top).sum(axis=1))
        scored = rows[np.arange(len(targets)), targets] - logz[: len(targets)]
        following = rows[-1] - logz[-1] if next_token else None
        return TokenScores([int(t) for t in targets], scored, following)

    # ---- the rest of the contract -------------------------------------------------------
    def _close_context(self) -> None:
        if self._ctx is not None:
            self.lib.llama_free(self._ctx)
            self._ctx = None
            self._ctx_shape = (0, 0)

    def close(self) -> None:
        """Free the contexts and the model (closing twice is harmless)."""
        self._close_context()
        self._scoring.close()
        with contextlib.suppress(Exception):
            self._llm.close()
