"""Model specs and the backend registry: one string names a model, backends load lazily.

Specs: `zoo:ID` (or a bare zoo id), `gguf:PATH`, `hf:PATH` (a GGUF file or a transformers
folder, loaded with transformers for hidden states), `openai:URL#MODEL`. Each scheme maps to
a module path imported only when used, so `homogeny --help` never imports torch or llama.cpp.
"""

from __future__ import annotations

import atexit
import importlib
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from homogeny.errors import ModelFileError, UnknownModelError, did_you_mean

# scheme -> "module:factory"; the factory takes a ModelSpec and returns a Backend.
BACKENDS: dict[str, str] = {
    "zoo": "homogeny.models.loaders:load_gguf",
    "gguf": "homogeny.models.loaders:load_gguf",
    "hf": "homogeny.models.loaders:load_hf",
    "openai": "homogeny.models.openai:load_openai",
}
# What to use when a caller needs hidden states from a spec whose default backend lacks them.
HIDDEN_STATE_BACKENDS: dict[str, str] = {
    "zoo": "homogeny.models.loaders:load_hf",
    "gguf": "homogeny.models.loaders:load_hf",
    "hf": "homogeny.models.loaders:load_hf",
}


@dataclass(frozen=True)
class ModelSpec:
    """A parsed model string: scheme, target (zoo id, path or URL) and served model name."""

    scheme: str
    target: str
    name: str = ""

    def __str__(self) -> str:
        if self.scheme == "openai":
            return f"openai:{self.target}#{self.name}"
        return f"{self.scheme}:{self.target}"

    @property
    def short(self) -> str:
        """A short label for tables and plots."""
        if self.scheme == "zoo":
            return self.target
        if self.scheme == "openai":
            return self.name
        return Path(self.target).stem


def parse_spec(spec: str) -> ModelSpec:
    """Parse a model string; a bare zoo id is accepted. Raises UnknownModelError on bad input."""
    from homogeny.models import zoo

    spec = spec.strip()
    if not spec:
        raise UnknownModelError("empty model spec; use zoo:ID, gguf:PATH, hf:PATH or openai:URL#MODEL")
    scheme, sep, rest = spec.partition(":")
    if not sep or scheme not in BACKENDS:
        if spec in zoo.ZOO:
            return ModelSpec("zoo", spec)
        if not sep and spec.endswith(".gguf"):
            return ModelSpec("gguf", spec)
        hint = did_you_mean(spec, list(zoo.ZOO)) or did_you_mean(scheme, list(BACKENDS))
        raise UnknownModelError(
            f"unknown model {spec!r}{hint}; use zoo:ID (see `homogeny models`), gguf:PATH, "
            f"hf:PATH or openai:URL#MODEL"
        )
    if scheme == "zoo":
        zoo.entry(rest)  # raises with a suggestion
        return ModelSpec("zoo", rest)
    if scheme == "openai":
        url, _, name = rest.partition("#")
        if not url.startswith(("http://", "https://")) or not name:
            raise UnknownModelError(
                f"bad openai spec {spec!r}; write openai:http://HOST:PORT/v1#MODEL_NAME"
            )
        return ModelSpec("openai", url.rstrip("/"), name)
    if not rest:
        raise UnknownModelError(f"model spec {spec!r} names no path; write {scheme}:/path/to/model")
    if not Path(rest).exists():
        raise ModelFileError(f"model file {rest!r} does not exist; check the path in {spec!r}")
    return ModelSpec(scheme, rest)


def _factory(path: str) -> Any:
    module, _, attr = path.partition(":")
    return getattr(importlib.import_module(module), attr)


_LOADED: dict[tuple[str, str], Any] = {}


def load_backend(spec: str | ModelSpec, capability: str = "generate") -> Any:
    """Load (or reuse) the backend for `spec`. `capability="hidden_states"` picks a backend
    that returns per-layer hidden states (transformers, from the same GGUF file)."""
    parsed = spec if isinstance(spec, ModelSpec) else parse_spec(spec)
    table = HIDDEN_STATE_BACKENDS if capability == "hidden_states" else BACKENDS
    if parsed.scheme not in table:
        raise UnknownModelError(f"model {parsed} cannot give {capability.replace('_', ' ')}; use a zoo, gguf or hf model")
    cache_key = (str(parsed), table[parsed.scheme])
    if cache_key not in _LOADED:
        if len(_LOADED) >= 2:  # keep memory bounded when an experiment walks over many models
            _, old = _LOADED.popitem()
            old.close()
        _LOADED[cache_key] = _factory(table[parsed.scheme])(parsed)
    return _LOADED[cache_key]


def close_all() -> None:
    """Free every loaded backend."""
    while _LOADED:
        _, backend = _LOADED.popitem()
        backend.close()


# llama-cpp-python frees a model in __del__, which at interpreter teardown runs after its own
# module globals are gone ("TypeError: 'NoneType' object is not callable"); free them first.
atexit.register(close_all)
