"""The run store: one DuckDB file, the only place results live.

Schema (documented in docs/store.md):
  runs       one row per CLI/API invocation that wrote something
  models     one row per model file (by sha256) that produced samples
  prompts    one row per distinct prompt (by hash of its canonical JSON)
  samples    one row per generated sample, keyed by hash(model sha256, prompt, params, seed)
  embeddings sentence embeddings cached by (embedding model, text hash)
  evidence   one row per measured claim statistic, with CI and verdict
  artifacts  JSON data behind plots, training curves, examples (claim, name)
Writes are transactions: a sample is either fully stored or absent, so a killed run resumes.
"""

from __future__ import annotations

import json
import os
import time
import uuid
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Self

import duckdb

from homogeny.errors import StoreError

DEFAULT_STORE = "homogeny.duckdb"

SCHEMA = """
CREATE TABLE IF NOT EXISTS runs (
    run_id VARCHAR PRIMARY KEY,
    command VARCHAR,
    args_json VARCHAR,
    homogeny_version VARCHAR,
    started_at DOUBLE,
    finished_at DOUBLE,
    status VARCHAR
);
CREATE TABLE IF NOT EXISTS models (
    model_sha256 VARCHAR PRIMARY KEY,
    model_id VARCHAR,
    spec VARCHAR,
    backend VARCHAR,
    info_json VARCHAR
);
CREATE TABLE IF NOT EXISTS prompts (
    prompt_hash VARCHAR PRIMARY KEY,
    prompt_id VARCHAR,
    text VARCHAR,
    messages_json VARCHAR
);
CREATE TABLE IF NOT EXISTS samples (
    key VARCHAR PRIMARY KEY,
    run_id VARCHAR,
    model_id VARCHAR,
    model_sha256 VARCHAR,
    prompt_hash VARCHAR,
    prompt_id VARCHAR,
    sample_index INTEGER,
    seed BIGINT,
    temperature DOUBLE,
    top_p DOUBLE,
    min_p DOUBLE,
    top_k INTEGER,
    max_tokens INTEGER,
    chat BOOLEAN,
    params_json VARCHAR,
    text VARCHAR,
    token_ids INTEGER[],
    logprobs DOUBLE[],
    top_logprobs_json VARCHAR,
    finish_reason VARCHAR,
    n_prompt_tokens INTEGER,
    n_tokens INTEGER,
    gen_seconds DOUBLE,
    created_at DOUBLE
);
CREATE TABLE IF NOT EXISTS embeddings (
    embed_model VARCHAR,
    text_hash VARCHAR,
    vector FLOAT[],
    PRIMARY KEY (embed_model, text_hash)
);
CREATE TABLE IF NOT EXISTS evidence (
    evidence_id VARCHAR PRIMARY KEY,
    run_id VARCHAR,
    claim VARCHAR,
    question VARCHAR,
    metric VARCHAR,
    sign VARCHAR,
    effect DOUBLE,
    ci_low DOUBLE,
    ci_high DOUBLE,
    n INTEGER,
    verdict VARCHAR,
    rule VARCHAR,
    models VARCHAR,
    quick BOOLEAN,
    plot_json VARCHAR,
    created_at DOUBLE
);
CREATE TABLE IF NOT EXISTS artifacts (
    claim VARCHAR,
    name VARCHAR,
    run_id VARCHAR,
    data_json VARCHAR,
    created_at DOUBLE,
    PRIMARY KEY (claim, name)
);
"""

SAMPLE_COLUMNS = (
    "key", "run_id", "model_id", "model_sha256", "prompt_hash", "prompt_id", "sample_index",
    "seed", "temperature", "top_p", "min_p", "top_k", "max_tokens", "chat", "params_json",
    "text", "token_ids", "logprobs", "top_logprobs_json", "finish_reason", "n_prompt_tokens",
    "n_tokens", "gen_seconds", "created_at",
)
TABLES = ("runs", "models", "prompts", "samples", "embeddings", "evidence", "artifacts")


@dataclass
class SampleRow:
    """One stored sample: what was asked (model, prompt, params, seed) and what came back."""

    key: str
    model_id: str
    model_sha256: str
    prompt_hash: str
    prompt_id: str
    sample_index: int
    seed: int
    temperature: float
    top_p: float
    min_p: float
    top_k: int
    max_tokens: int
    chat: bool
    params_json: str
    text: str
    token_ids: list[int] = field(default_factory=list)
    logprobs: list[float] = field(default_factory=list)
    top_logprobs_json: str = "[]"
    finish_reason: str = ""
    n_prompt_tokens: int = 0
    n_tokens: int = 0
    gen_seconds: float = 0.0
    run_id: str = ""
    created_at: float = 0.0

    def values(self) -> tuple[Any, ...]:
        return tuple(getattr(self, c) for c in SAMPLE_COLUMNS)


class Store:
    """A DuckDB run store. Open with `Store.open(path)`; use as a context manager."""

    def __init__(self, con: duckdb.DuckDBPyConnection, path: str, read_only: bool) -> None:
        self.con = con
        self.path = path
        self.read_only = read_only
        self.run_id = ""

    @classmethod
    def open(cls, path: str | os.PathLike[str] = DEFAULT_STORE, read_only: bool = False) -> Store:
        """Open (or create) the store at `path`; one clear StoreError when that cannot be done."""
        p = str(path)
        if p != ":memory:":
            parent = Path(p).resolve().parent
            if Path(p).is_dir():
                raise StoreError(f"store path {p!r} is a directory; give a file such as {p}/homogeny.duckdb")
            if read_only and not Path(p).exists():
                raise StoreError(f"store {p!r} does not exist; run `homogeny generate` or `homogeny audit` first")
            if not parent.exists():
                raise StoreError(f"store folder {str(parent)!r} does not exist; create it or choose another --store")
            if not read_only and not os.access(parent, os.W_OK) and not Path(p).exists():
                raise StoreError(f"store folder {str(parent)!r} is not writable; choose another --store")
        try:
            con = duckdb.connect(p, read_only=read_only)
        except duckdb.IOException as exc:
            msg = str(exc).splitlines()[0]
            if "lock" in msg.lower():
                raise StoreError(
                    f"store {p!r} is in use by another homogeny process; wait for it or use another --store"
                ) from None
            raise StoreError(f"cannot open store {p!r}: {msg}") from None
        except duckdb.Error as exc:
            raise StoreError(f"cannot open store {p!r}: {str(exc).splitlines()[0]}; is it a homogeny store?") from None
        store = cls(con, p, read_only)
        if not read_only:
            try:
                con.execute(SCHEMA)
            except duckdb.Error as exc:
                con.close()
                raise StoreError(f"cannot write store {p!r}: {str(exc).splitlines()[0]}") from None
        return store

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        try:
            self.con.close()
        except duckdb.Error:
            pass

    # ---- runs -------------------------------------------------------------------------
    def begin_run(self, command: str, args: dict[str, Any]) -> str:
        """Record the start of a run and return its id."""
        from homogeny import __version__

        self.run_id = uuid.uuid4().hex[:16]
        self._write(
            "INSERT INTO runs VALUES (?, ?, ?, ?, ?, NULL, 'running')",
            [self.run_id, command, json.dumps(args, default=str, sort_keys=True), __version__, time.time()],
        )
        return self.run_id

    def finish_run(self, status: str = "done") -> None:
        if self.run_id:
            self._write(
                "UPDATE runs SET finished_at = ?, status = ? WHERE run_id = ?",
                [time.time(), status, self.run_id],
            )

    # ---- writes -----------------------------------------------------------------------
    def _write(self, sql: str, params: Sequence[Any] | None = None) -> None:
        try:
            self.con.execute(sql, params)
        except duckdb.IOException as exc:
            raise StoreError(f"cannot write store {self.path!r}: {str(exc).splitlines()[0]} (disk full or read-only?)") from None

    def upsert_model(self, model_sha256: str, model_id: str, spec: str, backend: str, info: dict[str, Any]) -> None:
        self._write(
            "INSERT INTO models VALUES (?, ?, ?, ?, ?) ON CONFLICT DO NOTHING",
            [model_sha256, model_id, spec, backend, json.dumps(info, sort_keys=True, default=str)],
        )

    def upsert_prompt(self, prompt_hash: str, prompt_id: str, text: str, messages_json: str) -> None:
        self._write(
            "INSERT INTO prompts VALUES (?, ?, ?, ?) ON CONFLICT DO NOTHING",
            [prompt_hash, prompt_id, text, messages_json],
        )

    def add_samples(self, rows: Iterable[SampleRow]) -> int:
        """Insert samples in one transaction; keys already present are skipped. Returns rows given."""
        rows = list(rows)
        if not rows:
            return 0
        now = time.time()
        values = []
        for r in rows:
            r.run_id = r.run_id or self.run_id
            r.created_at = r.created_at or now
            values.append(r.values())
        placeholders = ", ".join("?" for _ in SAMPLE_COLUMNS)
        try:
            self.con.execute("BEGIN TRANSACTION")
            self.con.executemany(
                f"INSERT INTO samples VALUES ({placeholders}) ON CONFLICT DO NOTHING", values
            )
            self.con.execute("COMMIT")
        except duckdb.Error as exc:
            try:
                self.con.execute("ROLLBACK")
            except duckdb.Error:
                pass
            raise StoreError(f"cannot write samples to {self.path!r}: {str(exc).splitlines()[0]}") from None
        return len(rows)

    def add_evidence(self, rows: Iterable[dict[str, Any]]) -> None:
        """Store evidence rows (see homogeny.experiments.base.Evidence.as_row)."""
        for row in rows:
            self._write(
                "INSERT INTO evidence VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"
                " ON CONFLICT DO NOTHING",
                [
                    row["evidence_id"], self.run_id, row["claim"], row["question"], row["metric"],
                    row["sign"], row["effect"], row["ci_low"], row["ci_high"], row["n"],
                    row["verdict"], row["rule"], row["models"], row["quick"], row["plot_json"],
                    time.time(),
                ],
            )

    def replace_evidence(self, claim: str, rows: list[dict[str, Any]]) -> None:
        """Replace a claim's evidence with a fresh set (a rerun supersedes the previous verdicts)."""
        self._write("DELETE FROM evidence WHERE claim = ?", [claim])
        self.add_evidence(rows)

    def put_artifact(self, claim: str, name: str, data: Any) -> None:
        """Store JSON data (plot series, curves, examples) under (claim, name), replacing older."""
        self._write(
            "INSERT OR REPLACE INTO artifacts VALUES (?, ?, ?, ?, ?)",
            [claim, name, self.run_id, json.dumps(data, default=_json_default), time.time()],
        )

    def put_embeddings(self, embed_model: str, items: list[tuple[str, list[float]]]) -> None:
        if not items:
            return
        try:
            self.con.executemany(
                "INSERT INTO embeddings VALUES (?, ?, ?) ON CONFLICT DO NOTHING",
                [(embed_model, h, v) for h, v in items],
            )
        except duckdb.Error as exc:
            raise StoreError(f"cannot write embeddings to {self.path!r}: {str(exc).splitlines()[0]}") from None

    # ---- reads ------------------------------------------------------------------------
    def existing_keys(self, keys: Sequence[str]) -> set[str]:
        """Return which of `keys` are already stored."""
        if not keys:
            return set()
        rel = self.con.execute("SELECT key FROM samples WHERE key IN (SELECT unnest(?))", [list(keys)])
        return {r[0] for r in rel.fetchall()}

    def samples(self, keys: Sequence[str] | None = None, where: str = "", params: Sequence[Any] = ()) -> list[dict[str, Any]]:
        """Return sample rows as dicts, optionally restricted to `keys` or an SQL `where` clause."""
        sql = "SELECT * FROM samples"
        args: list[Any] = []
        if keys is not None:
            sql += " WHERE key IN (SELECT unnest(?))"
            args.append(list(keys))
        elif where:
            sql += f" WHERE {where}"
            args.extend(params)
        return self.query(sql, args)

    def query(self, sql: str, params: Sequence[Any] = ()) -> list[dict[str, Any]]:
        """Run a read query and return rows as dicts."""
        cur = self.con.execute(sql, list(params))
        cols = [d[0] for d in cur.description]
        return [dict(zip(cols, row)) for row in cur.fetchall()]

    def embeddings(self, embed_model: str, hashes: Sequence[str]) -> dict[str, list[float]]:
        if not hashes:
            return {}
        rows = self.con.execute(
            "SELECT text_hash, vector FROM embeddings WHERE embed_model = ? AND text_hash IN (SELECT unnest(?))",
            [embed_model, list(hashes)],
        ).fetchall()
        return {h: v for h, v in rows}

    def evidence(self, claim: str | None = None) -> list[dict[str, Any]]:
        if claim:
            return self.query("SELECT * FROM evidence WHERE claim = ? ORDER BY created_at", [claim])
        return self.query("SELECT * FROM evidence ORDER BY claim, created_at")

    def artifact(self, claim: str, name: str) -> Any:
        rows = self.con.execute(
            "SELECT data_json FROM artifacts WHERE claim = ? AND name = ?", [claim, name]
        ).fetchall()
        return json.loads(rows[0][0]) if rows else None

    def artifacts(self, claim: str | None = None) -> dict[tuple[str, str], Any]:
        sql = "SELECT claim, name, data_json FROM artifacts"
        rows = self.con.execute(sql + (" WHERE claim = ?" if claim else ""), [claim] if claim else []).fetchall()
        return {(c, n): json.loads(d) for c, n, d in rows}

    def count(self, table: str) -> int:
        if table not in TABLES:
            raise StoreError(f"unknown table {table!r}; tables: {', '.join(TABLES)}")
        return int(self.con.execute(f"SELECT count(*) FROM {table}").fetchone()[0])  # type: ignore[index]

    # ---- export -----------------------------------------------------------------------
    def export(self, out_dir: str | os.PathLike[str], fmt: str = "jsonl") -> list[Path]:
        """Write one file per table to `out_dir` (jsonl or parquet); return the paths."""
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
            target = str(path).replace("'", "''")
            if fmt == "parquet":
                self.con.execute(f"COPY {table} TO '{target}' (FORMAT PARQUET)")
            else:
                self.con.execute(f"COPY {table} TO '{target}' (FORMAT JSON)")
            paths.append(path)
        return paths


def _json_default(obj: Any) -> Any:
    """Make numpy scalars and arrays JSON-serialisable."""
    if hasattr(obj, "tolist"):
        return obj.tolist()
    if hasattr(obj, "item"):
        return obj.item()
    return str(obj)
