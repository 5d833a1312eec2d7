"""Opening a store file: the connection, the schema version and its migrations, transactions.

The layout is versioned (`meta.schema_version`) and checked whenever a store opens:
- no tables (a store killed before its tables existed): created from schema.sql and stamped;
- our tables without a stamp (stores made before versioning: version 1) or an older stamp:
  migrated in place, in one transaction, by MIGRATIONS; then stamped;
- a newer stamp, or tables that are not ours: refused with one line;
- then every table must have the columns schema.sql gives it (by name; extra ones are kept and
  left alone): a table missing one is refused with one line naming the table and columns.
A read-only open of a store that needs creating or migrating upgrades it once, read-write.

To change the layout: edit schema.sql (new stores) and append to MIGRATIONS a function that
brings a store of the previous version to the same layout (old stores); SCHEMA_VERSION follows.
"""

from __future__ import annotations

import contextlib
import functools
import importlib.resources
import os
import re
from collections.abc import Callable, Iterator
from pathlib import Path

import duckdb

from homogeny.errors import StoreError
from homogeny.store import queries

Con = duckdb.DuckDBPyConnection

# The tables of stores made before versioning (schema version 1).
LEGACY_TABLES = frozenset(
    {"runs", "models", "prompts", "samples", "embeddings", "evidence", "artifacts"}
)


def _v2_runs_record_claim_and_process(con: Con) -> None:
    """Version 2: runs gain claim, pid and hostname; args_json becomes settings_json; runs left
    'running' by a version-1 process are 'abandoned' (none can be live: we hold the lock)."""
    if "runs" not in user_tables(con):
        return  # a half-created store: schema.sql creates the table as it is now
    cols = table_columns(con, "runs")
    if "args_json" in cols and "settings_json" not in cols:
        con.execute("ALTER TABLE runs RENAME COLUMN args_json TO settings_json")
    for name, kind in (("claim", "VARCHAR"), ("pid", "BIGINT"), ("hostname", "VARCHAR")):
        con.execute(f"ALTER TABLE runs ADD COLUMN IF NOT EXISTS {name} {kind}")
    if "command" in cols:
        for run_id, command in con.execute("SELECT run_id, command FROM runs").fetchall():
            claim = queries.claim_of_command(command)
            if claim:
                con.execute("UPDATE runs SET claim = ? WHERE run_id = ?", [claim, run_id])
    if "status" in cols:
        con.execute("UPDATE runs SET status = 'abandoned' WHERE status = 'running'")


EVIDENCE_V3_COLUMNS = (
    ("threshold", "DOUBLE"),
    ("predicted", "VARCHAR"),
    ("unit", "VARCHAR"),
    ("subject", "VARCHAR"),
    ("source", "VARCHAR"),
    ("role", "VARCHAR"),
    ("n_units", "INTEGER"),
    ("null_rate", "DOUBLE"),
    ("p_value", "DOUBLE"),
    ("method", "VARCHAR"),
)


def _v3_evidence_is_typed(con: Con) -> None:
    """Version 3: evidence rows carry their rule (threshold, predicted), unit, subject, source,
    role, n in independent units, null rate, p-value and method (issues 13 and 14)."""
    if "evidence" not in user_tables(con):
        return
    for name, kind in EVIDENCE_V3_COLUMNS:
        con.execute(f"ALTER TABLE evidence ADD COLUMN IF NOT EXISTS {name} {kind}")


def _v4_imported_samples(con: Con) -> None:
    """Version 4: imported samples keep where they came from (`provenance`: file, sha256, line,
    format) and named annotations (`annotations`, e.g. NoveltyBench's equivalence partition)."""
    con.execute(
        "CREATE TABLE IF NOT EXISTS annotations (key VARCHAR, name VARCHAR, value VARCHAR, "
        "PRIMARY KEY (key, name))"
    )
    con.execute(
        "CREATE TABLE IF NOT EXISTS provenance (key VARCHAR PRIMARY KEY, source VARCHAR, "
        "source_sha256 VARCHAR, line INTEGER, format VARCHAR, run_id VARCHAR, created_at DOUBLE)"
    )


# MIGRATIONS[i] brings a store of version i + 1 to version i + 2. Append, never edit.
MIGRATIONS: list[Callable[[Con], None]] = [
    _v2_runs_record_claim_and_process,
    _v3_evidence_is_typed,
    _v4_imported_samples,
]
SCHEMA_VERSION = len(MIGRATIONS) + 1


@functools.cache
def schema_sql() -> str:
    """The current layout's CREATE TABLE IF NOT EXISTS statements (schema.sql)."""
    return importlib.resources.files("homogeny.store").joinpath("schema.sql").read_text("utf-8")


@functools.cache
def expected_columns() -> dict[str, tuple[str, ...]]:
    """Table -> column names of the current layout, read from schema.sql."""
    con = duckdb.connect(":memory:")
    try:
        con.execute(schema_sql())
        return {t: tuple(table_columns(con, t)) for t in sorted(user_tables(con))}
    finally:
        con.close()


def user_tables(con: Con) -> set[str]:
    """Names of the tables and views in the store's main schema."""
    cur = con.execute(
        "SELECT table_name FROM duckdb_tables() WHERE database_name = current_database() "
        "AND schema_name = 'main' AND NOT internal UNION ALL "
        "SELECT view_name FROM duckdb_views() WHERE database_name = current_database() "
        "AND schema_name = 'main' AND NOT internal"
    )
    return {r[0] for r in cur.fetchall()}


def table_columns(con: Con, table: str) -> list[str]:
    """Column names of `table`, in order."""
    cur = con.execute(
        "SELECT column_name FROM duckdb_columns() WHERE database_name = current_database() "
        "AND schema_name = 'main' AND table_name = ? ORDER BY column_index",
        [table],
    )
    return [r[0] for r in cur.fetchall()]


_KNOWN_CAUSES = (
    ("no space left", "no space left on device"),
    ("read-only file system", "the file system is read-only"),
    ("permission denied", "permission denied"),
    ("disk quota exceeded", "disk quota exceeded"),
)
_JSON_MESSAGE = re.compile(r'"exception_message":"((?:[^"\\]|\\.)*)"')


def error_line(exc: BaseException) -> str:
    """One short line for an error: a known cause (disk full, read-only, permission) in plain
    words, else the first line of its message (DuckDB's JSON detail unwrapped)."""
    text = str(exc).strip()
    if isinstance(exc, OSError) and exc.strerror:
        text = exc.strerror
    lowered = text.lower()
    for needle, cause in _KNOWN_CAUSES:
        if needle in lowered:
            return cause
    match = _JSON_MESSAGE.search(text)
    if match:
        text = match.group(1).replace('\\"', '"')
    lines = text.splitlines()
    return lines[0][:300] if lines else type(exc).__name__


def fix_hint(cause: str, option: str) -> str:
    """What to do about a failed write to the place `option` names."""
    if cause.startswith("no space") or cause.startswith("disk quota"):
        return f"free some space or choose another {option}"
    return f"check that it is writable (disk full? read-only?) or choose another {option}"


def is_interrupt(exc: BaseException) -> bool:
    """True for Ctrl-C however it surfaced: KeyboardInterrupt, DuckDB's interrupted query."""
    if isinstance(exc, (KeyboardInterrupt, duckdb.InterruptException)):
        return True
    return isinstance(exc, RuntimeError) and "interrupted" in str(exc).lower()


def write_error(path: str, exc: BaseException) -> StoreError:
    """One line for a failed write: full disk, read-only file, schema mismatch, constraint."""
    line = error_line(exc)
    if isinstance(exc, (duckdb.IOException, OSError)):
        return StoreError(f"cannot write store {path!r}: {line}; {fix_hint(line, '--store')}")
    if isinstance(exc, (duckdb.BinderException, duckdb.CatalogException)):
        return StoreError(
            f"store {path!r} does not match this homogeny's schema: {line}; "
            "restore the table or use another --store"
        )
    return StoreError(f"cannot write store {path!r}: {line}")


def rollback(con: Con) -> None:
    """Roll back the open transaction, if any; never raises."""
    try:
        con.execute("ROLLBACK")
    except (duckdb.Error, RuntimeError):
        pass


@contextlib.contextmanager
def transaction(
    con: Con, path: str, on_interrupt: Callable[[], None] | None = None
) -> Iterator[Con]:
    """BEGIN .. COMMIT; on any error or interrupt, ROLLBACK. An interrupt (however DuckDB
    reports it) then calls `on_interrupt` and leaves as KeyboardInterrupt; a DuckDB error as one
    StoreError line."""
    con.execute("BEGIN TRANSACTION")
    try:
        yield con
        con.execute("COMMIT")
    except BaseException as exc:
        rollback(con)
        if is_interrupt(exc):
            if on_interrupt is not None:
                with contextlib.suppress(Exception):
                    on_interrupt()
            if isinstance(exc, KeyboardInterrupt):
                raise
            raise KeyboardInterrupt("interrupted while writing the store; rolled back") from None
        if isinstance(exc, (duckdb.Error, OSError)):
            raise write_error(path, exc) from None
        raise


def connect(path: str, read_only: bool) -> Con:
    """A DuckDB connection to `path`, or one StoreError line saying why not."""
    if path != ":memory:":
        _check_path(Path(path), read_only)
    try:
        return duckdb.connect(path, read_only=read_only)
    except duckdb.IOException as exc:
        msg = error_line(exc)
        if "lock" in msg.lower():
            raise StoreError(
                f"store {path!r} is in use by another homogeny process; "
                "wait for it or use another --store"
            ) from None
        raise StoreError(f"cannot open store {path!r}: {msg}") from None
    except duckdb.Error as exc:
        raise StoreError(
            f"cannot open store {path!r}: {error_line(exc)}; is it a homogeny store?"
        ) from None


def _check_path(p: Path, read_only: bool) -> None:
    parent = p.resolve().parent
    if p.is_dir():
        raise StoreError(
            f"store path {str(p)!r} is a directory; give a file such as {p}/homogeny.duckdb"
        )
    if read_only and not p.exists():
        raise StoreError(
            f"store {str(p)!r} does not exist; run `homogeny generate` or `homogeny audit` first"
        )
    if not parent.exists():
        raise StoreError(
            f"store folder {str(parent)!r} does not exist; create it or choose another --store"
        )
    if not read_only and not p.exists() and not os.access(parent, os.W_OK):
        raise StoreError(f"store folder {str(parent)!r} is not writable; choose another --store")
    wal = Path(f"{p}.wal")
    if not read_only and p.is_file() and p.stat().st_size == 0 and not wal.exists():
        p.unlink()  # an empty file (killed as it was created) holds nothing: start afresh


class NeedsWrite(Exception):
    """A read-only open found a store that must be created or migrated first."""


def stored_version(con: Con, path: str, tables: set[str]) -> int | None:
    """The store's schema version: None when it has no tables; refuses foreign or newer."""
    if not tables:
        return None
    version = 1
    if "meta" in tables:
        found = con.execute("SELECT value FROM meta WHERE key = 'schema_version'").fetchone()
        try:
            version = int(found[0]) if found else 1
        except (TypeError, ValueError):
            version = 1
    if version > SCHEMA_VERSION:
        raise StoreError(
            f"store {path!r} has schema version {version}, newer than this homogeny reads "
            f"({SCHEMA_VERSION}); upgrade homogeny (pip install -U homogeny) or use another --store"
        )
    foreign = sorted(tables - LEGACY_TABLES - set(expected_columns()))
    if foreign:
        shown = ", ".join(foreign[:5]) + (", ..." if len(foreign) > 5 else "")
        raise StoreError(
            f"{path!r} is a DuckDB file but not a homogeny store (it holds tables: {shown}); "
            "choose another --store"
        )
    return version


def check_columns(con: Con, path: str) -> None:
    """Refuse a store whose tables lack a column of the schema (names the table and columns)."""
    for table, wanted in expected_columns().items():
        have = table_columns(con, table)
        missing = [c for c in wanted if c not in have]
        if missing:
            extra = [c for c in have if c not in wanted]
            also = f" and has unexpected column(s) {', '.join(extra)}" if extra else ""
            raise StoreError(
                f"store {path!r} does not match this homogeny's schema: table {table} lacks "
                f"column(s) {', '.join(missing)}{also}; restore them or use another --store"
            )


def prepare(con: Con, path: str, read_only: bool) -> None:
    """Check the store's version and columns; create or migrate it when writable."""
    try:
        version = stored_version(con, path, user_tables(con))
        if version == SCHEMA_VERSION:
            check_columns(con, path)
            return
        if read_only:
            raise NeedsWrite(version)
        with transaction(con, path):
            for migrate in MIGRATIONS[(version or SCHEMA_VERSION) - 1 :]:
                migrate(con)
            con.execute(schema_sql())
            check_columns(con, path)  # inside: a mismatch rolls every change back
            queries.insert(
                con, "meta", [{"key": "schema_version", "value": str(SCHEMA_VERSION)}], "replace"
            )
    except duckdb.Error as exc:
        raise StoreError(f"cannot read store {path!r}: {error_line(exc)}") from None


def open_connection(path: str, read_only: bool) -> Con:
    """A connection to a store at the current schema version (created or migrated as needed)."""
    con = connect(path, read_only)
    try:
        prepare(con, path, read_only)
        return con
    except NeedsWrite:
        con.close()  # upgraded below with a read-write connection, then opened again
    except BaseException:
        con.close()
        raise
    try:
        writer = connect(path, False)
    except StoreError as exc:
        raise StoreError(
            f"store {path!r} must be initialised or upgraded to schema version {SCHEMA_VERSION} "
            f"once, which needs writing it: {exc}"
        ) from None
    try:
        prepare(writer, path, False)
    finally:
        writer.close()
    con = connect(path, read_only)
    try:
        prepare(con, path, read_only)
    except BaseException:
        con.close()
        raise
    return con
