"""Generation from a transformers model folder (`hf:FOLDER`): the same contract as llama.cpp.

One folder, loaded once, serves both `generate` and `hidden_states` (the registry maps both to
one factory, so one cache entry). The K samples of a prompt decode as one batch on a KV cache
that the prompt fills once; finished rows leave the batch. Each step's token is drawn by the
llama.cpp backend's own numpy sampler (`llamacpp.sampler.step`: top-k, top-p, min-p on the
model distribution, then temperature, one uniform per step from a numpy Generator seeded with
the sample's seed), so a sample is reproducible from its seed, does not depend on which other
samples share its batch, and the filters mean the same thing on either backend. A GGUF read
through transformers (`HFBackend.from_gguf`) keeps hidden states only: llama.cpp generates it.
"""

from __future__ import annotations

import os
import time
from pathlib import Path
from typing import Any, ClassVar

import numpy as np

from homogeny.errors import ModelFileError
from homogeny.models.base import Completion
from homogeny.models.hf import HFBackend
from homogeny.models.params import SamplingParams
from homogeny.models.spec import ModelSpec
from homogeny.suites.prompt import Prompt


class HFGenerator(HFBackend):
    """A transformers model folder that generates (float32, CPU) and gives hidden states."""

    capabilities: ClassVar[frozenset[str]] = frozenset({"generate", "hidden_states"})

    @classmethod
    def from_folder(cls, folder: Path, spec: ModelSpec) -> HFGenerator:
        """Load a transformers model folder (config, weights, tokenizer); its ModelInfo is
        `model_info(spec)` (kind "base" when the folder name says so, else "instruct")."""
        os.environ.setdefault("HF_HUB_OFFLINE", "1")
        from transformers import AutoModelForCausalLM, AutoTokenizer

        from homogeny.models.spec import model_info

        if not (folder / "config.json").exists():
            raise ModelFileError(
                f"{str(folder)!r} is not a transformers model folder (no config.json)"
            )
        try:
            model = AutoModelForCausalLM.from_pretrained(folder, dtype="float32")
            tok = AutoTokenizer.from_pretrained(folder)
        except (ValueError, OSError) as exc:
            raise ModelFileError(
                f"transformers cannot load {str(folder)!r}: {str(exc).splitlines()[0]}"
            ) from None
        return cls(model, tok, model_info(spec))

    # ---- text and tokens ----------------------------------------------------------------
    def render(self, prompt: Prompt, chat: bool) -> list[int]:
        """Token ids of the prompt: the tokenizer's chat template (with the generation prompt)
        when `chat` and the tokenizer has one, else the raw text with the tokenizer's own
        special tokens (BOS where it adds one)."""
        tok = self.tokenizer
        if chat and getattr(tok, "chat_template", None):
            text = tok.apply_chat_template(
                prompt.as_messages(), add_generation_prompt=True, tokenize=False
            )
            return list(tok(text, add_special_tokens=False)["input_ids"])
        text = prompt.text or "\n".join(c for _, c in prompt.messages)
        return list(tok(text)["input_ids"])

    def _eos_ids(self) -> set[int]:
        ids = {self.tokenizer.eos_token_id}
        config_eos = getattr(getattr(self.model, "generation_config", None), "eos_token_id", None)
        ids |= set(config_eos) if isinstance(config_eos, list) else {config_eos}
        return {int(i) for i in ids if i is not None}

    def _context_length(self) -> int:
        config = self.model.config
        for name in ("max_position_embeddings", "n_positions", "n_ctx"):
            value = getattr(config, name, None)
            if isinstance(value, int) and value > 0:
                return value
        return 1 << 30

    # ---- generation ---------------------------------------------------------------------
    def generate(
        self, prompt: Prompt, params: SamplingParams, seeds: list[int]
    ) -> list[Completion]:
        """Return len(seeds) samples of `prompt`, sample i drawn with seeds[i] (see module
        doc); temperature 0 is greedy decoding."""
        from homogeny.models.llamacpp.sampler import Seq

        if not seeds:
            return []
        started = time.perf_counter()
        ids = self.render(prompt, bool(params.chat))
        if len(ids) + params.max_tokens > self._context_length():
            raise ModelFileError(
                f"prompt of {len(ids)} tokens + --max-tokens {params.max_tokens} exceeds "
                f"{self.info.model_id}'s context of {self._context_length()}; "
                "shorten the prompt or max tokens"
            )
        seqs = [
            Seq(i, np.random.default_rng(seed), len(ids), [], [], [], [], row=i)
            for i, seed in enumerate(seeds)
        ]
        self._decode(ids, seqs, params)
        seconds = (time.perf_counter() - started) / len(seeds)
        return [self.completion(s, params, len(ids), seconds) for s in seqs]

    def _decode(self, ids: list[int], seqs: list[Any], params: SamplingParams) -> None:
        """Sample every sequence to its end: the prompt decoded once, its cache copied per
        sequence, then one batched step per token; finished rows leave the cache."""
        import torch

        from homogeny.models.llamacpp.sampler import step

        eos = self._eos_ids()
        with torch.no_grad():
            prompt = torch.tensor([ids])
            out = self.model(
                input_ids=prompt, attention_mask=torch.ones_like(prompt), use_cache=True
            )
            cache = out.past_key_values
            logits = out.logits[0, -1:].float().numpy().repeat(len(seqs), axis=0)
            cache.batch_repeat_interleave(len(seqs))
            live = list(seqs)
            while live:
                step(live, logits, params)
                for s in live:
                    s.finish = self.finish_reason(s.tokens, params, eos)
                still = [s for s in live if not s.finish]
                if not still:
                    break
                if len(still) < len(live):
                    cache.batch_select_indices(torch.tensor([s.row for s in still]))
                live = still
                for row, s in enumerate(live):
                    s.row = row
                width = len(ids) + len(live[0].tokens)  # every live row is as long
                out = self.model(
                    input_ids=torch.tensor([[s.tokens[-1]] for s in live]),
                    attention_mask=torch.ones(len(live), width, dtype=torch.long),
                    past_key_values=cache,
                    use_cache=True,
                )
                cache = out.past_key_values
                logits = out.logits[:, -1].float().numpy()

    def finish_reason(self, tokens: list[int], params: SamplingParams, eos: set[int]) -> str:
        """Why a sequence ends after `tokens` ("stop", "length"), or "" while it goes on."""
        if tokens[-1] in eos:
            return "stop"
        if params.stop and any(x in self._text(tokens) for x in params.stop):
            return "stop"
        if len(tokens) >= params.max_tokens:
            return "length"
        return ""

    def _text(self, tokens: list[int]) -> str:
        return str(self.tokenizer.decode(tokens, skip_special_tokens=True))

    def completion(
        self, s: Any, params: SamplingParams, n_prompt: int, seconds: float
    ) -> Completion:
        """The Completion of a finished sequence (end-of-sequence token and stop text cut)."""
        text = self._text(s.tokens)
        for stop in params.stop:
            if stop in text:
                text = text[: text.index(stop)]
        return Completion(
            text=text,
            token_ids=list(s.tokens),
            logprobs=s.logprobs,
            top_logprobs=s.tops,
            finish_reason=s.finish,
            n_prompt_tokens=n_prompt,
            seconds=seconds,
            entropies=s.entropies,
        )
