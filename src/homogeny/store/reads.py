"""The store's named reads of samples for scoring and the report (a Store mixin)."""

from __future__ import annotations

import contextlib
from collections.abc import Sequence
from typing import Any

import duckdb

from homogeny.errors import StoreError
from homogeny.store import queries
from homogeny.store.records import SAMPLE_COLUMNS


class SampleReads:
    """Reads over samples, models and prompts; the Store supplies `con` and `_errors`."""

    con: duckdb.DuckDBPyConnection

    def _errors(self, doing: str = "write") -> contextlib.AbstractContextManager[None]:
        raise NotImplementedError

    def sample_texts(self, by: str = "model_id") -> list[dict[str, Any]]:
        """Every sample's text and prompt_id plus the sample column `by` (for scoring)."""
        if by not in SAMPLE_COLUMNS:
            raise StoreError(
                f"{by!r} is not a sample column; use one of {', '.join(SAMPLE_COLUMNS)}"
            )
        with self._errors("read"):
            return queries.sample_texts(self.con, by)

    def models(self) -> list[dict[str, Any]]:
        """Every model that produced samples, by model id."""
        with self._errors("read"):
            return queries.models(self.con)

    def model_stats(self) -> dict[str, dict[str, Any]]:
        """Per model: samples, tokens, seconds, seeds, prompts, and `settings`: the sampling
        settings used with their counts (most used first)."""
        with self._errors("read"):
            stats = {r["model_id"]: r for r in queries.model_totals(self.con)}
            for r in queries.model_settings(self.con):
                stats[r["model_id"]].setdefault("settings", []).append(r)
        return stats

    def recent_samples(self, limit: int) -> list[dict[str, Any]]:
        """The newest samples (at most `limit`) with their prompt's text as `prompt_text`."""
        with self._errors("read"):
            return queries.recent_samples(self.con, limit)

    def shared_prompts(self, run_ids: Sequence[str], limit: int = 2) -> list[str]:
        """Hashes of prompts answered by two or more models within `run_ids`."""
        with self._errors("read"):
            return [r["prompt_hash"] for r in queries.shared_prompts(self.con, run_ids, limit)]

    def prompt_samples(self, prompt_hash: str, run_ids: Sequence[str]) -> list[dict[str, Any]]:
        """One prompt's samples within `run_ids` (model_id, text, prompt_text, prompt_id)."""
        with self._errors("read"):
            return queries.prompt_samples(self.con, prompt_hash, run_ids)
