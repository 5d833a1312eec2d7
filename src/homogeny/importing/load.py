"""Importing files into the store: every file read and checked first (a bad line leaves the
store untouched), then stored batch by batch, each batch one transaction keyed by
deterministic sample keys: importing twice adds nothing, a killed import resumes."""

from __future__ import annotations

import functools
import hashlib
import json
import time
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from homogeny.importing import jsonl, manifest, noveltybench
from homogeny.importing.sources import (
    ImportInputError,
    Item,
    Source,
    detect_format,
    expand,
    read_source,
)
from homogeny.models.base import ModelInfo
from homogeny.models.spec import ModelSpec, imported_info
from homogeny.store import SampleRow, Store
from homogeny.suites.prompt import Prompt

BATCH = 5000  # samples per transaction
PARSERS: dict[str, Callable[[Source], list[Item]]] = {
    "noveltybench": noveltybench.items,
    "jsonl": jsonl.items,
}


@dataclass
class ImportSummary:
    """What an import found and stored: files, samples read, samples new, per model."""

    files: int = 0
    samples: int = 0
    new: int = 0
    repeated: int = 0  # samples given twice in this import (same key), stored once
    models: Counter[str] = field(default_factory=Counter)
    seconds: float = 0.0


def read_items(paths: Sequence[Path], fmt: str | None = None) -> list[Item]:
    """Every sample of every file (folders searched for *.jsonl), all checked before any is
    stored; the first problem is one ImportInputError line naming file and line."""
    if fmt is not None and fmt not in PARSERS:
        raise ImportInputError(f"unknown format {fmt!r}; use noveltybench or jsonl")
    found: list[Item] = []
    for path in expand(list(paths)):
        source = read_source(path)
        found.extend(PARSERS[detect_format(source, fmt)](source))
    return found


def import_files(
    paths: Sequence[Path], store: str, fmt: str | None = None, meta: Path | None = None
) -> ImportSummary:
    """Import NoveltyBench or generic JSONL files into `store` as samples of
    `imported:NAME`; returns what was read and how much of it was new."""
    started = time.perf_counter()
    known = manifest.read(meta)
    items = read_items(paths, fmt)
    summary = ImportSummary(files=len({i.source for i in items}), samples=len(items))
    summary.models.update(f"imported:{i.model_name}" for i in items)
    settings = {"files": sorted({_absolute(s) for s in {i.source for i in items}}),
                "format": fmt, "meta": str(meta) if meta else None}  # fmt: skip
    pairs = list({(row := _sample(i)).key: (i, row) for i in reversed(items)}.values())[::-1]
    summary.repeated = len(items) - len(pairs)  # the first of a repeated key is kept
    with Store.open(store) as st:
        try:
            for start in range(0, len(pairs), BATCH):
                batch = pairs[start : start + BATCH]
                summary.new += _store_batch(st, batch, known, settings)
            st.finish_run("done")  # inside the try: a stop landing here still marks the run
        except BaseException:
            st.finish_run("interrupted")
            raise
    summary.seconds = time.perf_counter() - started
    return summary


def _store_batch(
    st: Store,
    pairs: Sequence[tuple[Item, SampleRow]],
    known: manifest.Manifest,
    settings: dict[str, Any],
) -> int:
    """Store one batch in one transaction; nothing is written when all of it is stored."""
    batch = [i for i, _ in pairs]
    rows = [r for _, r in pairs]
    models = _models(batch, known)
    changed = any(st.model_info_json(m["model_sha256"]) != m["info_json"] for m in models)
    if not changed and len(st.existing_keys([r.key for r in rows])) == len(rows):
        return 0
    if not st.run_id:
        st.begin_run("import", settings)
    notes = [
        {"key": r.key, "name": name, "value": value}
        for r, i in zip(rows, batch)
        for name, value in _annotations(i).items()
    ]
    where = [
        {"key": r.key, "source": _absolute(i.source), "source_sha256": i.source_sha256,
         "line": i.line, "format": i.fmt}
        for r, i in zip(rows, batch)
    ]  # fmt: skip
    return st.add_imported(models, _prompts(batch), rows, notes, where)


@functools.lru_cache(maxsize=4096)
def _info(model_name: str) -> ModelInfo:
    """The identity of `imported:model_name` (cached: one per model, not one per sample)."""
    return imported_info(ModelSpec("imported", model_name))


@functools.lru_cache(maxsize=65536)
def _prompt(prompt_id: str, text: str) -> tuple[str, str]:
    """(hash, canonical JSON) of a prompt (cached: one per prompt, not one per sample)."""
    prompt = Prompt(prompt_id, text)
    return prompt.hash, prompt.canonical()


def _models(batch: Sequence[Item], known: manifest.Manifest) -> list[dict[str, Any]]:
    """One models-table record per imported model of the batch, metadata from the manifest."""
    out = {}
    for item in batch:
        if item.model_name in out:
            continue
        info = _info(item.model_name)
        meta = manifest.lookup(known, item.model)
        extra = {**meta.as_info(), "model": item.model, "group": item.group}
        out[item.model_name] = {
            "model_sha256": info.sha256,
            "model_id": info.model_id,
            "spec": info.spec,
            "backend": "imported",
            "info_json": json.dumps(extra, sort_keys=True, default=str),
        }
    return list(out.values())


def _prompts(batch: Sequence[Item]) -> list[dict[str, Any]]:
    out = {}
    for item in batch:
        digest = _prompt(item.prompt_id, item.prompt)[0]
        if digest not in out:
            messages = Prompt(item.prompt_id, item.prompt).as_messages()
            out[digest] = {"prompt_hash": digest, "prompt_id": item.prompt_id,
                           "text": item.prompt, "messages_json": json.dumps(messages)}  # fmt: skip
    return list(out.values())


def sample_key(item: Item) -> str:
    """The sample's deterministic key: (imported model, prompt id and text, sample index, and
    the text itself when the index is only the row's order)."""
    text = None if item.indexed else hashlib.sha256(item.text.encode()).hexdigest()
    payload = json.dumps(
        ["imported", _info(item.model_name).sha256, item.prompt_id,
         _prompt(item.prompt_id, item.prompt)[1], item.sample_index, text],
        ensure_ascii=False,
    )  # fmt: skip
    return hashlib.sha256(payload.encode("utf-8")).hexdigest()


def _sample(item: Item) -> SampleRow:
    p = item.params
    info = _info(item.model_name)
    return SampleRow(
        key=sample_key(item), model_id=info.model_id, model_sha256=info.sha256,
        prompt_hash=_prompt(item.prompt_id, item.prompt)[0], prompt_id=item.prompt_id,
        sample_index=item.sample_index, seed=p.get("seed"), temperature=p.get("temperature"),
        top_p=p.get("top_p"), min_p=p.get("min_p"), top_k=p.get("top_k"),
        max_tokens=p.get("max_tokens"), chat=None,
        params_json=_params_json(tuple(sorted(p.items())), item.fmt), text=item.text,
        n_prompt_tokens=None, n_tokens=None, gen_seconds=None,
    )  # type: ignore[arg-type]  # fmt: skip


@functools.lru_cache(maxsize=4096)
def _params_json(params: tuple[tuple[str, Any], ...], fmt: str) -> str:
    return json.dumps({**dict(params), "imported": fmt}, sort_keys=True)


@functools.lru_cache(maxsize=4096)
def _absolute(path: str) -> str:
    return str(Path(path).resolve())


def _annotations(item: Item) -> dict[str, str]:
    return {**item.annotations, **({"group": item.group} if item.group else {})}
