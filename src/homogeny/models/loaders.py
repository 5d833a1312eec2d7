"""Factories that turn a parsed ModelSpec into a loaded backend (imported lazily by scheme)."""

from __future__ import annotations

from pathlib import Path

from homogeny.errors import UnknownModelError
from homogeny.models import zoo
from homogeny.models.base import Backend, ModelInfo
from homogeny.models.spec import ModelSpec


def gguf_path_and_info(spec: ModelSpec) -> tuple[Path, ModelInfo]:
    """Resolve a zoo or gguf spec to its file and a ModelInfo with the file's sha256."""
    if spec.scheme == "zoo":
        e = zoo.entry(spec.target)
        if e.fmt != "gguf":
            raise UnknownModelError(
                f"zoo model {e.id!r} is an embedding model, not a generator; pick a GGUF model"
            )
        path = zoo.local_path(e.id)
        return path, ModelInfo(
            model_id=e.id,
            sha256=e.sha256 or zoo.verified_sha256(path),
            backend="llamacpp",
            spec=str(spec),
            kind=e.kind,
            params=e.n_params,
            family=e.family,
        )
    path = Path(spec.target)
    kind = "base" if "base" in path.name.lower() else "instruct"
    return path, ModelInfo(
        model_id=path.stem,
        sha256=zoo.verified_sha256(path),
        backend="llamacpp",
        spec=str(spec),
        kind=kind,
        params=0,
        family="",
    )


def load_gguf(spec: ModelSpec) -> Backend:
    """A llama.cpp backend for a zoo or gguf spec (or an hf: spec naming a GGUF file)."""
    from homogeny.models.llamacpp import LlamaCppBackend

    if spec.scheme == "hf":
        spec = ModelSpec("gguf", spec.target)
    path, info = gguf_path_and_info(spec)
    return LlamaCppBackend(path, info)


def load_hf(spec: ModelSpec) -> Backend:
    """A transformers backend (hidden states) for a zoo, gguf or hf spec."""
    from homogeny.models.hf import HFBackend

    if spec.scheme in ("zoo", "gguf") or spec.target.endswith(".gguf"):
        gguf = spec if spec.scheme != "hf" else ModelSpec("gguf", spec.target)
        path, info = gguf_path_and_info(gguf)
        return HFBackend.from_gguf(path, info)
    return HFBackend.from_folder(Path(spec.target), spec)


def load_openai(spec: ModelSpec) -> Backend:
    """A client for a model behind an OpenAI-compatible server."""
    from homogeny.models.openai import OpenAIBackend

    return OpenAIBackend(spec)
