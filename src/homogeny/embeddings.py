"""Sentence embeddings for semantic metrics, from a local sentence-transformers model.

The model is the embedded all-MiniLM-L6-v2 (`zoo:minilm-l6`, installed from a PyPI package)
or any sentence-transformers folder given by path; nothing is fetched from a hub
(HF_HUB_OFFLINE=1 is set before loading). Vectors are cached in the run store by the sha256
of the text, so a text is embedded once per store. This module is the only place in
homogeny.metrics that loads a model; importing homogeny.metrics never imports torch.
"""

from __future__ import annotations

import hashlib
import os
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from homogeny.errors import ModelFileError, UnknownModelError

if TYPE_CHECKING:
    from homogeny.store import Store

DEFAULT_EMBED_MODEL = "zoo:minilm-l6"
_LOADED: dict[str, Any] = {}


def text_hash(text: str) -> str:
    """The store key of a text: sha256 of its UTF-8 bytes."""
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def model_dir(model: str) -> Path:
    """The local folder of an embedding model spec: `zoo:ID` or a path to a folder."""
    if model.startswith("zoo:"):
        from homogeny.models import zoo

        return Path(zoo.local_path(model[len("zoo:") :]))
    path = Path(model.removeprefix("path:")).expanduser()
    if path.is_dir():
        return path
    raise UnknownModelError(
        f"embedding model {model!r} is neither a zoo id (zoo:minilm-l6) nor a "
        "sentence-transformers folder"
    )


def _load(model: str) -> Any:
    """The SentenceTransformer for `model`, loaded once per process (CPU, offline)."""
    if model not in _LOADED:
        from homogeny.models.runtime import prepare_threads

        folder = model_dir(model)
        prepare_threads()  # OpenMP's wait policy, before torch starts its threads
        os.environ["HF_HUB_OFFLINE"] = "1"
        os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
        try:
            from sentence_transformers import SentenceTransformer
        except ImportError as exc:
            raise ModelFileError(
                f"embedding needs sentence-transformers ({exc}); "
                "run: pip install 'sentence-transformers>=5.1,<6'"
            ) from None
        _LOADED[model] = SentenceTransformer(str(folder), device="cpu", local_files_only=True)
    return _LOADED[model]


def _encode(model: str, texts: list[str], batch_size: int) -> np.ndarray:
    encoder = _load(model)
    vectors = encoder.encode(
        texts,
        batch_size=batch_size,
        normalize_embeddings=True,
        convert_to_numpy=True,
        show_progress_bar=False,
    )
    return np.asarray(vectors, dtype=np.float32)


def embed(
    texts: Sequence[str],
    model: str = DEFAULT_EMBED_MODEL,
    store: Store | None = None,
    batch_size: int = 64,
) -> np.ndarray:
    """Embed texts: an (n, dim) float32 array of L2-normalised rows, in input order.

    With a store, vectors already cached under (model, sha256(text)) are reused and new ones
    written back; duplicate texts are embedded once."""
    texts = list(texts)
    hashes = [text_hash(t) for t in texts]
    cached: dict[str, list[float]] = (
        store.embeddings(model, sorted(set(hashes))) if store is not None else {}
    )
    missing: dict[str, str] = {}
    for t, h in zip(texts, hashes):
        if h not in cached:
            missing.setdefault(h, t)
    fresh: dict[str, np.ndarray] = {}
    if missing:
        vectors = _encode(model, list(missing.values()), batch_size)
        fresh = dict(zip(missing.keys(), vectors))
        if store is not None and not store.read_only:
            store.put_embeddings(model, [(h, v.tolist()) for h, v in fresh.items()])
    if not texts:
        return np.zeros((0, 0), dtype=np.float32)
    rows = [fresh[h] if h in fresh else np.asarray(cached[h], dtype=np.float32) for h in hashes]
    return np.vstack(rows).astype(np.float32)
