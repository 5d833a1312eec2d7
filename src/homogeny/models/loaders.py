"""Factories that turn a parsed ModelSpec into a loaded backend (imported lazily by scheme)."""

from __future__ import annotations

from pathlib import Path

from homogeny.models.base import Backend
from homogeny.models.spec import ModelSpec, gguf_path_and_info

__all__ = ["gguf_path_and_info", "load_gguf", "load_hf", "load_openai"]


def load_gguf(spec: ModelSpec) -> Backend:
    """A llama.cpp backend for a zoo or gguf spec (or an hf: spec naming a GGUF file)."""
    from homogeny.models.llamacpp import LlamaCppBackend

    if spec.scheme == "hf":
        spec = ModelSpec("gguf", spec.target)
    path, info = gguf_path_and_info(spec)
    return LlamaCppBackend(path, info)


def load_hf(spec: ModelSpec) -> Backend:
    """A transformers backend for a zoo, gguf or hf spec: hidden states of a GGUF read through
    transformers; generation and hidden states of a transformers model folder."""
    from homogeny.models.hf import HFBackend
    from homogeny.models.hf_generate import HFGenerator

    if spec.scheme in ("zoo", "gguf") or spec.target.endswith(".gguf"):
        gguf = spec if spec.scheme != "hf" else ModelSpec("gguf", spec.target)
        path, info = gguf_path_and_info(gguf)
        return HFBackend.from_gguf(path, info)
    return HFGenerator.from_folder(Path(spec.target), spec)


def load_openai(spec: ModelSpec) -> Backend:
    """A client for a model behind an OpenAI-compatible server."""
    from homogeny.models.openai import OpenAIBackend

    return OpenAIBackend(spec)
