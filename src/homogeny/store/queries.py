"""Every SQL statement the store runs, one named function each (callers hold the connection).

Writes name their columns: a row is a dict of column -> value, so a store whose table has a
column more (or in another order) never gets a value in the wrong column; the columns a table
must have are checked when the store opens (db.check_columns).
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Any

import duckdb

Con = duckdb.DuckDBPyConnection
Row = dict[str, Any]

_CLAIM = re.compile(r"^\S+\s+(c[1-7]|t)$", re.IGNORECASE)


def quote(name: str) -> str:
    """An SQL identifier, double-quoted (column and table names come from the schema)."""
    return '"' + name.replace('"', '""') + '"'


def rows(con: Con, sql: str, params: Sequence[Any] = ()) -> list[Row]:
    """Run a read query and return its rows as dicts."""
    cur = con.execute(sql, list(params))
    cols = [d[0] for d in cur.description]
    return [dict(zip(cols, row)) for row in cur.fetchall()]


def insert(con: Con, table: str, records: Sequence[Row], on_conflict: str = "nothing") -> None:
    """Insert dicts by column name; `on_conflict` is "nothing" (keep the stored row) or
    "replace" (the new row wins). Every record has the first record's keys."""
    if not records:
        return
    cols = list(records[0])
    names = ", ".join(quote(c) for c in cols)
    marks = ", ".join("?" for _ in cols)
    verb = "INSERT OR REPLACE INTO" if on_conflict == "replace" else "INSERT INTO"
    tail = "" if on_conflict == "replace" else " ON CONFLICT DO NOTHING"
    sql = f"{verb} {quote(table)} ({names}) VALUES ({marks}){tail}"
    values = [[r[c] for c in cols] for r in records]
    if len(values) == 1:
        con.execute(sql, values[0])
    else:
        con.executemany(sql, values)


# ---- runs -------------------------------------------------------------------------------
def claim_of_command(command: str) -> str | None:
    """The claim a run command names ("run c4" -> "c4", "audit T" -> "T"), else None."""
    match = _CLAIM.match(str(command or "").strip())
    if not match:
        return None
    claim = match.group(1)
    return "T" if claim.lower() == "t" else claim.lower()


def finish_run(con: Con, run_id: str, status: str, when: float) -> None:
    """Set a run's final status and time."""
    con.execute(
        "UPDATE runs SET finished_at = ?, status = ? WHERE run_id = ?", [when, status, run_id]
    )


def running_runs(con: Con, hostname: str) -> list[tuple[str, int]]:
    """(run_id, pid) of the runs on this host still marked running."""
    cur = con.execute(
        "SELECT run_id, pid FROM runs "
        "WHERE status = 'running' AND hostname = ? AND pid IS NOT NULL",
        [hostname],
    )
    return [(r, int(p)) for r, p in cur.fetchall()]


def set_status(con: Con, run_ids: Sequence[str], status: str) -> None:
    """Set the status of the given runs (finished_at untouched: nobody saw them end)."""
    if run_ids:
        con.execute(
            "UPDATE runs SET status = ? WHERE run_id IN (SELECT unnest(?))", [status, list(run_ids)]
        )


def runs(con: Con) -> list[Row]:
    """Every run, oldest first."""
    return rows(con, "SELECT * FROM runs ORDER BY started_at")


def run(con: Con, run_id: str) -> Row | None:
    """One run by id, or None."""
    found = rows(con, "SELECT * FROM runs WHERE run_id = ?", [run_id])
    return found[0] if found else None


def latest_done_settings(con: Con, commands: Sequence[str]) -> str | None:
    """The settings JSON of the latest finished ('done') run of any of `commands`, or None."""
    cur = con.execute(
        "SELECT settings_json FROM runs WHERE status = 'done' AND command IN (SELECT unnest(?)) "
        "ORDER BY started_at DESC LIMIT 1",
        [list(commands)],
    )
    found = cur.fetchone()
    return found[0] if found else None


# ---- models, prompts, samples ------------------------------------------------------------
def models(con: Con) -> list[Row]:
    """Every model that produced samples, by model id."""
    return rows(con, "SELECT * FROM models ORDER BY model_id")


def existing_keys(con: Con, keys: Sequence[str]) -> set[str]:
    """Which of `keys` are stored samples."""
    cur = con.execute("SELECT key FROM samples WHERE key IN (SELECT unnest(?))", [list(keys)])
    return {r[0] for r in cur.fetchall()}


def samples_by_key(con: Con, keys: Sequence[str]) -> list[Row]:
    """Full sample rows for `keys`."""
    return rows(con, "SELECT * FROM samples WHERE key IN (SELECT unnest(?))", [list(keys)])


def all_samples(con: Con) -> list[Row]:
    """Every full sample row."""
    return rows(con, "SELECT * FROM samples")


def sample_texts(con: Con, by: str) -> list[Row]:
    """Every sample's text and prompt id, plus column `by` (a sample column)."""
    extra = "" if by in ("text", "prompt_id") else f", {quote(by)}"
    return rows(con, f"SELECT text, prompt_id{extra} FROM samples")


def model_totals(con: Con) -> list[Row]:
    """Per model: samples, tokens, generation seconds, distinct seeds (and range), prompts."""
    return rows(
        con,
        "SELECT model_id, count(*) AS samples, sum(n_tokens) AS tokens, "
        "sum(gen_seconds) AS seconds, count(DISTINCT seed) AS seeds, min(seed) AS seed_min, "
        "max(seed) AS seed_max, count(DISTINCT prompt_hash) AS prompts "
        "FROM samples GROUP BY model_id",
    )


def model_settings(con: Con) -> list[Row]:
    """Per model and sampling setting, how many samples used it (most used first)."""
    return rows(
        con,
        "SELECT model_id, temperature, top_p, min_p, top_k, max_tokens, chat, count(*) AS n "
        "FROM samples GROUP BY ALL ORDER BY model_id, n DESC",
    )


def recent_samples(con: Con, limit: int) -> list[Row]:
    """The newest samples with their prompt's text (`prompt_text`), at most `limit`."""
    return rows(
        con,
        "SELECT s.model_id, s.prompt_id, s.prompt_hash, s.run_id, s.text, s.temperature, "
        "s.seed, s.sample_index, p.text AS prompt_text FROM samples s "
        "LEFT JOIN prompts p USING (prompt_hash) ORDER BY s.created_at DESC, s.key LIMIT ?",
        [limit],
    )


def shared_prompts(con: Con, run_ids: Sequence[str], limit: int) -> list[Row]:
    """Prompt hashes answered by two or more models within `run_ids` (most models first)."""
    return rows(
        con,
        "SELECT prompt_hash FROM samples WHERE run_id IN (SELECT unnest(?)) GROUP BY prompt_hash "
        "HAVING count(DISTINCT model_id) >= 2 "
        "ORDER BY count(DISTINCT model_id) DESC, prompt_hash LIMIT ?",
        [list(run_ids), limit],
    )


def prompt_samples(con: Con, prompt_hash: str, run_ids: Sequence[str]) -> list[Row]:
    """One prompt's samples within `run_ids`: model, text, prompt text and id."""
    return rows(
        con,
        "SELECT s.model_id, s.text, p.text AS prompt_text, s.prompt_id FROM samples s "
        "LEFT JOIN prompts p USING (prompt_hash) "
        "WHERE s.prompt_hash = ? AND s.run_id IN (SELECT unnest(?)) "
        "ORDER BY s.model_id, s.sample_index",
        [prompt_hash, list(run_ids)],
    )


# ---- embeddings, evidence, artifacts -----------------------------------------------------
def embeddings(con: Con, embed_model: str, hashes: Sequence[str]) -> dict[str, list[float]]:
    """Cached vectors of `embed_model` for the text hashes that have one."""
    cur = con.execute(
        "SELECT text_hash, vector FROM embeddings "
        "WHERE embed_model = ? AND text_hash IN (SELECT unnest(?))",
        [embed_model, list(hashes)],
    )
    return {h: v for h, v in cur.fetchall()}


def delete_evidence(con: Con, claim: str) -> None:
    """Remove a claim's evidence rows."""
    con.execute("DELETE FROM evidence WHERE claim = ?", [claim])


def evidence(con: Con, claim: str | None = None) -> list[Row]:
    """Evidence rows, of one claim or all (by claim, then time)."""
    if claim:
        return rows(con, "SELECT * FROM evidence WHERE claim = ? ORDER BY created_at", [claim])
    return rows(con, "SELECT * FROM evidence ORDER BY claim, created_at")


def artifacts(con: Con, claim: str | None = None, name: str | None = None) -> list[tuple]:
    """(claim, name, data_json) of stored artifacts, optionally one claim's or one name's."""
    sql, args = "SELECT claim, name, data_json FROM artifacts WHERE true", []
    if claim is not None:
        sql, args = sql + " AND claim = ?", [*args, claim]
    if name is not None:
        sql, args = sql + " AND name = ?", [*args, name]
    return con.execute(sql, args).fetchall()


def count(con: Con, table: str) -> int:
    """Rows in `table` (a schema table name)."""
    return int(con.execute(f"SELECT count(*) FROM {quote(table)}").fetchone()[0])  # type: ignore[index]


def copy_table(con: Con, table: str, target: str, fmt: str) -> None:
    """Write `table` to the file `target` as PARQUET or newline-delimited JSON."""
    path = target.replace("'", "''")
    kind = "PARQUET" if fmt == "parquet" else "JSON"
    con.execute(f"COPY {quote(table)} TO '{path}' (FORMAT {kind})")


# ---- imported samples: bulk inserts, annotations, provenance -----------------------------
def column_types(con: Con, table: str) -> dict[str, str]:
    """Column name -> SQL type of `table`."""
    cur = con.execute(
        "SELECT column_name, data_type FROM duckdb_columns() WHERE database_name = "
        "current_database() AND schema_name = 'main' AND table_name = ?",
        [table],
    )
    return dict(cur.fetchall())


def insert_columns(con: Con, table: str, columns: dict[str, list[Any]]) -> None:
    """Insert many rows given column-wise (column -> values, all of one length) in one
    statement, keeping stored rows on a key conflict; far faster than one statement a row."""
    if not columns or not next(iter(columns.values())):
        return
    types = column_types(con, table)
    names = ", ".join(quote(c) for c in columns)
    unnests = ", ".join(f"unnest(?::{types[c]}[]) AS {quote(c)}" for c in columns)
    con.execute(
        f"INSERT INTO {quote(table)} ({names}) SELECT {names} FROM (SELECT {unnests}) "
        "ON CONFLICT DO NOTHING",
        list(columns.values()),
    )


def annotation_classes(con: Con, name: str, by: str) -> list[Row]:
    """Per (model, prompt, `by` value): how many distinct values annotation `name` takes among
    the samples (`classes`) and how many samples carry it (`k`)."""
    extra = "" if by in ("model_id", "prompt_id") else f", s.{quote(by)}"
    return rows(
        con,
        f"SELECT s.model_id, s.prompt_id{extra}, count(DISTINCT a.value) AS classes, "
        "count(*) AS k FROM samples s JOIN annotations a ON a.key = s.key AND a.name = ? "
        "GROUP BY ALL ORDER BY ALL",
        [name],
    )


def annotations(con: Con, name: str) -> list[Row]:
    """(key, model_id, prompt_id, sample_index, value) of every sample annotated `name`."""
    return rows(
        con,
        "SELECT s.key, s.model_id, s.prompt_id, s.sample_index, a.value FROM annotations a "
        "JOIN samples s ON s.key = a.key WHERE a.name = ? ORDER BY ALL",
        [name],
    )


def model_texts(con: Con, model_ids: Sequence[str]) -> list[Row]:
    """(model_id, prompt_id, sample_index, text) of the samples of `model_ids`, in order."""
    return rows(
        con,
        "SELECT model_id, prompt_id, sample_index, text FROM samples "
        "WHERE model_id IN (SELECT unnest(?)) ORDER BY model_id, prompt_id, sample_index",
        [list(model_ids)],
    )


def provenance(con: Con, keys: Sequence[str]) -> list[Row]:
    """The provenance rows (source file, sha256, line, format) of `keys`."""
    return rows(con, "SELECT * FROM provenance WHERE key IN (SELECT unnest(?))", [list(keys)])


def model_info_json(con: Con, model_sha256: str) -> str | None:
    """The stored info JSON of one model, or None when it is not stored."""
    found = con.execute(
        "SELECT info_json FROM models WHERE model_sha256 = ?", [model_sha256]
    ).fetchone()
    return found[0] if found else None
