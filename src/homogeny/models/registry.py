"""Opening backends: `with open_backend(spec, need=...) as backend:`, shared while in use.

Each (spec, need) maps to a factory imported only when used, so `homogeny --help` never
imports torch or llama.cpp. Loaded backends are kept in a small cache so an experiment that
opens the same model again does not reload it; an entry is held while any `with` block uses
it and is never closed then. When more than KEEP_LOADED are loaded, the least recently used
entries that nobody holds are closed. Everything left is closed at exit, before interpreter
teardown (llama-cpp-python's __del__ fails once its module globals are gone).
"""

from __future__ import annotations

import atexit
import importlib
import threading
from collections import OrderedDict
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

from homogeny.models.base import CAPABILITIES, WHO_HAS, Backend, CapabilityError, lacks
from homogeny.models.spec import ModelSpec, as_spec

GGUF = "homogeny.models.loaders:load_gguf"
HF = "homogeny.models.loaders:load_hf"
OPENAI = "homogeny.models.loaders:load_openai"
# scheme -> capability -> "module:factory"; the factory takes a ModelSpec, returns a Backend.
FACTORIES: dict[str, dict[str, str]] = {
    "zoo": {"generate": GGUF, "score": GGUF, "hidden_states": HF},
    "gguf": {"generate": GGUF, "score": GGUF, "hidden_states": HF},
    "hf": {"generate": HF, "hidden_states": HF},  # a folder: one load serves both
    "openai": {"generate": OPENAI},
}
BACKEND_NAMES = {GGUF: "llama.cpp", HF: "transformers", OPENAI: "openai"}
KEEP_LOADED = 2  # models kept loaded when nobody holds them (memory stays bounded)


@dataclass
class _Entry:
    backend: Backend
    holders: int = 0


_CACHE: OrderedDict[tuple[object, ...], _Entry] = OrderedDict()
_LOCK = threading.RLock()
_atexit_registered = False


def factory_path(spec: ModelSpec, need: str) -> str:
    """The "module:factory" that gives `need` for `spec`; CapabilityError when none does."""
    if need not in CAPABILITIES:
        raise ValueError(f"need must be one of {CAPABILITIES}, not {need!r}")
    if spec.scheme == "imported":  # texts only (homogeny import): nothing to load
        what = need.replace("_", " ")
        raise CapabilityError(
            f"{spec} holds imported texts only; {what} is not testable on imported texts "
            f"(it needs a model homogeny can run: {WHO_HAS[need]})"
        )
    table = dict(FACTORIES[spec.scheme])
    if spec.scheme == "hf" and spec.target.endswith(".gguf"):
        table.update(generate=GGUF, score=GGUF)
    if need not in table:
        default = table.get("generate") or table["hidden_states"]
        raise lacks(BACKEND_NAMES[default], need, str(spec))
    return table[need]


def load(spec: str | ModelSpec, need: str = "generate") -> Backend:
    """A new backend for `spec` that the caller owns and must close (no cache)."""
    parsed = as_spec(spec)
    path = factory_path(parsed, need)
    _prepare()
    module, _, attr = path.partition(":")
    backend: Backend = getattr(importlib.import_module(module), attr)(parsed)
    return backend


@contextmanager
def open_backend(spec: str | ModelSpec, need: str = "generate") -> Iterator[Backend]:
    """The backend for `spec` that can `need` (generate, score or hidden_states), loaded or
    reused; it stays loaded, and is never closed by anyone else, until the block ends."""
    entry = _acquire(as_spec(spec), need)
    try:
        yield entry.backend
    finally:
        with _LOCK:
            entry.holders -= 1
            _evict()


def _acquire(spec: ModelSpec, need: str) -> _Entry:
    path = factory_path(spec, need)
    key = (str(spec), spec.auth, path)
    with _LOCK:
        entry = _CACHE.get(key)
        if entry is None:
            entry = _Entry(load(spec, need))
            _CACHE[key] = entry
        _CACHE.move_to_end(key)
        entry.holders += 1
        _evict()
        return entry


def _evict() -> None:
    """Close least recently used entries nobody holds while more than KEEP_LOADED are loaded."""
    idle = [k for k, e in _CACHE.items() if e.holders == 0]
    while len(_CACHE) > KEEP_LOADED and idle:
        _CACHE.pop(idle.pop(0)).backend.close()


def loaded() -> list[tuple[str, int]]:
    """(spec, holders) of every cached backend, least recently used first."""
    with _LOCK:
        return [(str(k[0]), e.holders) for k, e in _CACHE.items()]


def close_all() -> None:
    """Free every cached backend (at exit; in use or not)."""
    with _LOCK:
        while _CACHE:
            _, entry = _CACHE.popitem(last=False)
            entry.backend.close()


def _prepare() -> None:
    """First load: choose the thread wait policy and free backends at exit."""
    global _atexit_registered
    from homogeny.models.runtime import prepare_threads

    prepare_threads()
    if not _atexit_registered:
        atexit.register(close_all)
        _atexit_registered = True
