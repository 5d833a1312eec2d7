"""transformers backend: per-layer hidden states and weight perturbation, from the same GGUF files.

De-quantising a GGUF with transformers takes ~24 s (135M) to ~90 s (270M) on 2 cores, so the
converted model is saved once as safetensors under the cache, keyed by the GGUF's sha256.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any, ClassVar

import numpy as np

from homogeny.errors import ModelFileError
from homogeny.models import zoo
from homogeny.models.base import Backend, ModelInfo
from homogeny.models.spec import ModelSpec


class GGUFTokenizer:
    """The GGUF file's own tokenizer (llama.cpp, vocabulary only) behind the calls the hf
    backend makes. transformers' conversion of a GGUF tokenizer can differ from the file's: for
    gemma3-270m it split " haiku about rain." into 7 tokens where the file uses 4, so hidden
    states would be read for token sequences the model never sees."""

    def __init__(self, path: Path) -> None:
        from homogeny.models.llamacpp.native import quiet_llama

        self._llm = quiet_llama().Llama(model_path=str(path), vocab_only=True, verbose=False)
        self.eos_token_id = int(self._llm.token_eos())

    def encode(self, text: str) -> list[int]:
        """Token ids as llama.cpp feeds the model (BOS when the file asks for it)."""
        return list(self._llm.tokenize(text.encode("utf-8"), add_bos=True, special=False))

    def __call__(self, text: str, return_tensors: str = "pt") -> dict[str, Any]:
        import torch

        ids = torch.tensor([self.encode(text)], dtype=torch.long)
        return {"input_ids": ids, "attention_mask": torch.ones_like(ids)}

    def decode(self, ids: Any, skip_special_tokens: bool = True) -> str:
        tokens = [int(i) for i in ids]
        return self._llm.detokenize(tokens, special=not skip_special_tokens).decode(
            "utf-8", errors="replace"
        )


def _file_tokenizer(path: Path, fallback: Callable[[], Any]) -> Any:
    try:
        return GGUFTokenizer(path)
    except (ImportError, ValueError, RuntimeError):  # no llama.cpp here: transformers' conversion
        return fallback()


class HFBackend(Backend):
    """A causal LM in transformers (float32, CPU), used for what llama.cpp cannot show."""

    name: ClassVar[str] = "transformers"
    capabilities: ClassVar[frozenset[str]] = frozenset({"hidden_states"})

    def __init__(self, model: Any, tokenizer: Any, info: ModelInfo) -> None:
        import torch

        from homogeny import config

        torch.set_num_threads(config.threads())
        self.model = model.eval()
        self.tokenizer = tokenizer
        self.info = info

    @classmethod
    def from_gguf(cls, path: Path, info: ModelInfo) -> HFBackend:
        """Load a GGUF through transformers, converting once and caching as safetensors."""
        os.environ.setdefault("HF_HUB_OFFLINE", "1")
        from transformers import AutoModelForCausalLM, AutoTokenizer

        cached = zoo.cache_dir() / "hf" / info.sha256[:32]
        if (cached / "config.json").exists():
            model = AutoModelForCausalLM.from_pretrained(cached, dtype="float32")
            return cls(
                model, _file_tokenizer(path, lambda: AutoTokenizer.from_pretrained(cached)), info
            )
        try:
            model = AutoModelForCausalLM.from_pretrained(
                path.parent, gguf_file=path.name, dtype="float32"
            )
            tok = AutoTokenizer.from_pretrained(path.parent, gguf_file=path.name)
        except (ValueError, OSError, RuntimeError) as exc:
            raise ModelFileError(
                f"transformers cannot load GGUF {str(path)!r}: {str(exc).splitlines()[0]}"
            ) from None
        tmp = cached.with_name(cached.name + ".tmp")
        try:
            shutil.rmtree(tmp, ignore_errors=True)
            model.save_pretrained(tmp)
            tok.save_pretrained(tmp)
            os.replace(tmp, cached)
        except OSError:
            shutil.rmtree(tmp, ignore_errors=True)  # the cache is an optimisation only
        return cls(model, _file_tokenizer(path, lambda: tok), info)

    @classmethod
    def from_folder(cls, folder: Path, spec: ModelSpec) -> HFBackend:
        """Load a transformers model folder (safetensors + config + tokenizer)."""
        os.environ.setdefault("HF_HUB_OFFLINE", "1")
        from transformers import AutoModelForCausalLM, AutoTokenizer

        if not (folder / "config.json").exists():
            raise ModelFileError(
                f"{str(folder)!r} is not a transformers model folder (no config.json)"
            )
        model = AutoModelForCausalLM.from_pretrained(folder, dtype="float32")
        tok = AutoTokenizer.from_pretrained(folder)
        info = ModelInfo(folder.name, zoo.verified_sha256(folder), "hf", str(spec))
        return cls(model, tok, info)

    def hidden_states(self, texts: list[str]) -> list[np.ndarray]:
        """Per text: array (n_layers + 1, n_tokens, d) of hidden states (embeddings first)."""
        import torch

        out = []
        with torch.no_grad():
            for text in texts:
                enc = self.tokenizer(text, return_tensors="pt")
                hs = self.model(**enc, output_hidden_states=True).hidden_states
                out.append(torch.stack([h[0] for h in hs]).float().numpy())
        return out

    def mean_hidden(self, texts: list[str], layer: int = -1) -> np.ndarray:
        """One vector per text: the token-mean of one layer's hidden states (rows = texts)."""
        return np.stack([h[layer].mean(axis=0) for h in self.hidden_states(texts)])

    def greedy(self, texts: list[str], max_new_tokens: int = 16) -> list[str]:
        """Greedy continuations of raw texts (used to test output stability under noise)."""
        import torch

        outs = []
        with torch.no_grad():
            for text in texts:
                enc = self.tokenizer(text, return_tensors="pt")
                ids = self.model.generate(
                    **enc,
                    max_new_tokens=max_new_tokens,
                    do_sample=False,
                    pad_token_id=self.tokenizer.eos_token_id,
                )
                outs.append(
                    self.tokenizer.decode(
                        ids[0, enc["input_ids"].shape[1] :], skip_special_tokens=True
                    )
                )
        return outs

    @contextmanager
    def perturbed(self, scale: float, seed: int = 0) -> Iterator[None]:
        """Add Gaussian noise (std = scale x each tensor's std) to every weight, then restore."""
        import torch

        gen = torch.Generator().manual_seed(seed)
        saved = {n: p.detach().clone() for n, p in self.model.named_parameters()}
        with torch.no_grad():
            for _, p in self.model.named_parameters():
                std = float(p.std()) if p.numel() > 1 else 0.0
                p.add_(torch.randn(p.shape, generator=gen) * std * scale)
        try:
            yield
        finally:
            with torch.no_grad():
                for n, p in self.model.named_parameters():
                    p.copy_(saved[n])

    def close(self) -> None:
        """Drop the model (the registry closes it only when nobody holds it)."""
        self.model = None
