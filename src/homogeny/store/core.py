"""The Store: a DuckDB run store opened at the current schema, with named reads and writes.

Every write is by column name and inside a transaction where it spans several statements: a
sample is either fully stored or absent, so a killed run resumes. An interrupt during a write
rolls it back and marks the run `interrupted`; opening a store marks `abandoned` the runs a dead
process on this host left `running`.
"""

from __future__ import annotations

import contextlib
import json
import os
import socket
import time
import uuid
from collections.abc import Iterable, Iterator, Sequence
from pathlib import Path
from typing import Any, Self

import duckdb

from homogeny.errors import StoreError
from homogeny.store import db, queries
from homogeny.store.imports import ImportStore
from homogeny.store.reads import SampleReads
from homogeny.store.records import SampleRow, json_default, pid_alive

DEFAULT_STORE = "homogeny.duckdb"
TABLES = (
    "runs", "models", "prompts", "samples", "embeddings", "evidence", "artifacts",
    "annotations", "provenance",
)  # fmt: skip


class Store(SampleReads, ImportStore):
    """A DuckDB run store. Open with `Store.open(path)`; use as a context manager."""

    def __init__(self, con: duckdb.DuckDBPyConnection, path: str, read_only: bool) -> None:
        self.con = con
        self.path = path
        self.read_only = read_only
        self.run_id = ""
        self._depth = 0

    @classmethod
    def open(cls, path: str | os.PathLike[str] = DEFAULT_STORE, read_only: bool = False) -> Store:
        """Open (or create) the store at `path`, at the current schema version (migrating an
        older store); one clear StoreError when that cannot be done."""
        p = str(path)
        store = cls(db.open_connection(p, read_only), p, read_only)
        if not read_only:
            try:
                store.mark_abandoned()
            except BaseException:
                store.close()
                raise
        return store

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        """Close the connection (idempotent)."""
        with contextlib.suppress(duckdb.Error):
            self.con.close()

    # ---- transactions and errors -------------------------------------------------------
    @contextlib.contextmanager
    def transaction(self) -> Iterator[duckdb.DuckDBPyConnection]:
        """One transaction (nested calls join the outer one). On an interrupt it rolls back,
        marks the current run `interrupted` and raises KeyboardInterrupt."""
        if self._depth:
            self._depth += 1
            try:
                yield self.con
            finally:
                self._depth -= 1
            return
        self._depth = 1
        try:
            with db.transaction(self.con, self.path, on_interrupt=self._interrupted):
                yield self.con
        finally:
            self._depth = 0

    def _interrupted(self) -> None:
        if self.run_id:
            queries.finish_run(self.con, self.run_id, "interrupted", time.time())

    @contextlib.contextmanager
    def _errors(self, doing: str = "write") -> Iterator[None]:
        """Turn a DuckDB failure into one StoreError line and a stray interrupt into
        KeyboardInterrupt (outside transactions; those handle their own)."""
        try:
            yield
        except (duckdb.Error, RuntimeError, OSError) as exc:
            if db.is_interrupt(exc):
                raise KeyboardInterrupt("interrupted while using the store") from None
            if isinstance(exc, RuntimeError) and not isinstance(exc, duckdb.Error):
                raise
            if doing == "write":
                raise db.write_error(self.path, exc) from None
            raise StoreError(f"cannot read store {self.path!r}: {db.error_line(exc)}") from None

    def _write(
        self, table: str, records: Sequence[dict[str, Any]], on_conflict: str = "nothing"
    ) -> None:
        with self._errors():
            queries.insert(self.con, table, records, on_conflict)

    # ---- runs ---------------------------------------------------------------------------
    def begin_run(self, command: str, args: dict[str, Any], claim: str | None = None) -> str:
        """Record the start of a run (command, claim, settings, this process) and return its id."""
        from homogeny import __version__

        self.run_id = uuid.uuid4().hex[:16]
        record = {
            "run_id": self.run_id,
            "command": command,
            "claim": claim or queries.claim_of_command(command),
            "settings_json": json.dumps(args, default=str, sort_keys=True),
            "homogeny_version": __version__,
            "pid": os.getpid(),
            "hostname": socket.gethostname(),
            "started_at": time.time(),
            "finished_at": None,
            "status": "running",
        }
        self._write("runs", [record])
        return self.run_id

    def finish_run(self, status: str = "done") -> None:
        """Record the current run's end and status; works after an aborted transaction too."""
        if not self.run_id:
            return
        with self._errors():
            try:
                queries.finish_run(self.con, self.run_id, status, time.time())
            except duckdb.TransactionException:
                db.rollback(self.con)  # "Current transaction is aborted (please ROLLBACK)"
                queries.finish_run(self.con, self.run_id, status, time.time())

    def mark_abandoned(self) -> list[str]:
        """Mark `abandoned` the runs left `running` by a process of this host that is gone."""
        with self._errors():
            stale = queries.running_runs(self.con, socket.gethostname())
            dead = [run_id for run_id, pid in stale if not pid_alive(pid)]
            queries.set_status(self.con, dead, "abandoned")
        return dead

    def runs(self) -> list[dict[str, Any]]:
        """Every run, oldest first."""
        with self._errors("read"):
            return queries.runs(self.con)

    def run(self, run_id: str | None = None) -> dict[str, Any] | None:
        """One run's row (default: the current run), or None."""
        with self._errors("read"):
            return queries.run(self.con, run_id or self.run_id)

    def latest_done_settings(self, commands: Sequence[str]) -> dict[str, Any] | None:
        """The settings of the latest run of any of `commands` that finished 'done'; None
        when there is none or its settings are unreadable."""
        with self._errors("read"):
            text = queries.latest_done_settings(self.con, commands)
        try:
            settings = json.loads(text) if text else None
        except (TypeError, ValueError):
            return None
        return settings if isinstance(settings, dict) else None

    # ---- writes ---------------------------------------------------------------------------
    def upsert_model(
        self, model_sha256: str, model_id: str, spec: str, backend: str, info: dict[str, Any]
    ) -> None:
        """Record a model file (kept as first stored)."""
        info_json = json.dumps(info, sort_keys=True, default=str)
        self._write(
            "models",
            [
                {
                    "model_sha256": model_sha256,
                    "model_id": model_id,
                    "spec": spec,
                    "backend": backend,
                    "info_json": info_json,
                }
            ],
        )

    def upsert_prompt(
        self, prompt_hash: str, prompt_id: str, text: str, messages_json: str
    ) -> None:
        """Record a prompt (kept as first stored)."""
        self._write(
            "prompts",
            [
                {
                    "prompt_hash": prompt_hash,
                    "prompt_id": prompt_id,
                    "text": text,
                    "messages_json": messages_json,
                }
            ],
        )

    def add_samples(self, rows: Iterable[SampleRow]) -> int:
        """Insert samples in one transaction; keys already stored are skipped. Returns how many
        rows were given."""
        rows = list(rows)
        if not rows:
            return 0
        now = time.time()
        for r in rows:
            r.run_id = r.run_id or self.run_id
            r.created_at = r.created_at or now
        with self.transaction():
            queries.insert(self.con, "samples", [r.as_record() for r in rows])
        return len(rows)

    def add_evidence(self, rows: Iterable[dict[str, Any]]) -> None:
        """Store evidence rows (see homogeny.experiments.base.Evidence.as_row); the schema's
        columns are taken from each row by name (absent ones stored as NULL)."""
        cols = [c for c in db.expected_columns()["evidence"] if c not in ("run_id", "created_at")]
        records = [
            {**{c: row.get(c) for c in cols}, "run_id": self.run_id, "created_at": time.time()}
            for row in rows
        ]
        with self.transaction():
            queries.insert(self.con, "evidence", records)

    def replace_evidence(self, claim: str, rows: list[dict[str, Any]]) -> None:
        """Replace a claim's evidence with a fresh set (a rerun supersedes the old verdicts)."""
        with self.transaction():
            queries.delete_evidence(self.con, claim)
            self.add_evidence(rows)

    def put_artifact(self, claim: str, name: str, data: Any) -> None:
        """Store JSON data (plot series, curves, examples) under (claim, name), replacing older."""
        record = {
            "claim": claim,
            "name": name,
            "run_id": self.run_id,
            "data_json": json.dumps(data, default=json_default),
            "created_at": time.time(),
        }
        self._write("artifacts", [record], on_conflict="replace")

    def put_embeddings(self, embed_model: str, items: list[tuple[str, list[float]]]) -> None:
        """Cache sentence embeddings by (embed_model, text hash); present ones are kept."""
        records = [{"embed_model": embed_model, "text_hash": h, "vector": v} for h, v in items]
        if records:
            with self.transaction():
                queries.insert(self.con, "embeddings", records)

    # ---- reads ----------------------------------------------------------------------------
    def existing_keys(self, keys: Sequence[str]) -> set[str]:
        """Return which of `keys` are already stored."""
        if not keys:
            return set()
        with self._errors("read"):
            return queries.existing_keys(self.con, keys)

    def samples(self, keys: Sequence[str] | None = None) -> list[dict[str, Any]]:
        """Return sample rows as dicts: those of `keys`, or all."""
        with self._errors("read"):
            if keys is None:
                return queries.all_samples(self.con)
            return queries.samples_by_key(self.con, keys)

    def query(self, sql: str, params: Sequence[Any] = ()) -> list[dict[str, Any]]:
        """Run an ad-hoc read query and return rows as dicts (for tests and exploration;
        homogeny's own code uses the named reads above)."""
        with self._errors("read"):
            return queries.rows(self.con, sql, params)

    def embeddings(self, embed_model: str, hashes: Sequence[str]) -> dict[str, list[float]]:
        """Cached vectors of `embed_model` for those of `hashes` that have one."""
        if not hashes:
            return {}
        with self._errors("read"):
            return queries.embeddings(self.con, embed_model, hashes)

    def evidence(self, claim: str | None = None) -> list[dict[str, Any]]:
        """Evidence rows of one claim (oldest first) or of all."""
        with self._errors("read"):
            return queries.evidence(self.con, claim)

    def artifact(self, claim: str, name: str) -> Any:
        """The JSON data stored under (claim, name), or None."""
        with self._errors("read"):
            found = queries.artifacts(self.con, claim, name)
        return json.loads(found[0][2]) if found else None

    def artifacts(self, claim: str | None = None) -> dict[tuple[str, str], Any]:
        """(claim, name) -> data of every artifact, or one claim's."""
        with self._errors("read"):
            found = queries.artifacts(self.con, claim)
        return {(c, n): json.loads(d) for c, n, d in found}

    def count(self, table: str) -> int:
        """Rows in one of the store's tables."""
        if table not in db.expected_columns():
            raise StoreError(f"unknown table {table!r}; tables: {', '.join(TABLES)}")
        with self._errors("read"):
            return queries.count(self.con, table)

    # ---- export ---------------------------------------------------------------------------
    def export(self, out_dir: str | os.PathLike[str], fmt: str = "jsonl") -> list[Path]:
        """Write one file per table to `out_dir` (jsonl or parquet); return the paths. A full
        or unwritable disk is one StoreError line (the partial file is removed)."""
        if fmt not in ("jsonl", "parquet"):
            raise StoreError(f"unknown export format {fmt!r}; use jsonl or parquet")
        out = Path(out_dir)
        try:
            out.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise StoreError(f"cannot create export folder {str(out)!r}: {exc.strerror}") from None
        paths = []
        for table in TABLES:
            path = out / f"{table}.{fmt}"
            try:
                queries.copy_table(self.con, table, str(path), fmt)
            except (duckdb.Error, OSError) as exc:
                with contextlib.suppress(OSError):
                    if path.is_file():
                        path.unlink()
                cause = db.error_line(exc)
                raise StoreError(
                    f"cannot write {str(path)!r}: {cause}; {db.fix_hint(cause, '--out')}"
                ) from None
            except RuntimeError as exc:
                if db.is_interrupt(exc):
                    raise KeyboardInterrupt("export interrupted") from None
                raise
            paths.append(path)
        return paths
