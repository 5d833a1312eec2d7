"""The store's writes and reads for imported samples (a Store mixin): one transaction per
batch, keyed by each sample's deterministic key, so importing twice adds nothing and a killed
import resumes with no duplicate; annotations and provenance beside the samples."""

from __future__ import annotations

import contextlib
import time
from collections.abc import Sequence
from typing import Any

import duckdb

from homogeny.store import queries
from homogeny.store.records import SampleRow


def _columns(records: Sequence[dict[str, Any]]) -> dict[str, list[Any]]:
    """Records (dicts with the same keys) as column -> values."""
    if not records:
        return {}
    return {c: [r[c] for r in records] for c in records[0]}


class ImportStore:
    """Imported samples, their annotations and provenance; the Store supplies `con`, `run_id`,
    `_errors`, `transaction` and `existing_keys`."""

    con: duckdb.DuckDBPyConnection
    run_id: str

    def _errors(self, doing: str = "write") -> contextlib.AbstractContextManager[None]:
        raise NotImplementedError

    def transaction(self) -> contextlib.AbstractContextManager[duckdb.DuckDBPyConnection]:
        raise NotImplementedError

    def existing_keys(self, keys: Sequence[str]) -> set[str]:
        raise NotImplementedError

    def add_imported(
        self,
        models: Sequence[dict[str, Any]],
        prompts: Sequence[dict[str, Any]],
        samples: Sequence[SampleRow],
        annotations: Sequence[dict[str, Any]],
        provenance: Sequence[dict[str, Any]],
    ) -> int:
        """Store one batch of imported samples with their models (metadata replaced: a new
        `--meta` wins), prompts, annotations and provenance, all in one transaction; rows whose
        key is stored already are kept as they are. Returns how many samples were new."""
        new = len(samples) - len(self.existing_keys([s.key for s in samples]))
        now = time.time()
        for s in samples:
            s.run_id = s.run_id or self.run_id
            s.created_at = s.created_at or now
        marked = [{**p, "run_id": self.run_id, "created_at": now} for p in provenance]
        with self.transaction():
            queries.insert(self.con, "models", list(models), "replace")
            queries.insert_columns(self.con, "prompts", _columns(prompts))
            queries.insert_columns(self.con, "samples", _columns([s.as_record() for s in samples]))
            queries.insert_columns(self.con, "annotations", _columns(annotations))
            queries.insert_columns(self.con, "provenance", _columns(marked))
        return new

    def annotation_classes(self, name: str, by: str = "model_id") -> list[dict[str, Any]]:
        """Per model, prompt (and `by` value): the number of distinct values of annotation
        `name` among its samples (`classes`) and how many samples carry it (`k`)."""
        with self._errors("read"):
            return queries.annotation_classes(self.con, name, by)

    def annotations(self, name: str) -> list[dict[str, Any]]:
        """Every sample annotated `name`: key, model_id, prompt_id, sample_index, value."""
        with self._errors("read"):
            return queries.annotations(self.con, name)

    def model_texts(self, model_ids: Sequence[str]) -> list[dict[str, Any]]:
        """model_id, prompt_id, sample_index and text of every sample of `model_ids` (the
        texts claims read from imported models), by model, prompt and sample index."""
        if not model_ids:
            return []
        with self._errors("read"):
            return queries.model_texts(self.con, model_ids)

    def provenance(self, keys: Sequence[str]) -> list[dict[str, Any]]:
        """Where the samples of `keys` were imported from (source, source_sha256, line)."""
        if not keys:
            return []
        with self._errors("read"):
            return queries.provenance(self.con, keys)

    def model_info_json(self, model_sha256: str) -> str | None:
        """The stored info JSON of a model, or None."""
        with self._errors("read"):
            return queries.model_info_json(self.con, model_sha256)
