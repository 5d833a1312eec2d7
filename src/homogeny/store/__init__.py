"""The run store: one DuckDB file, the only place results live.

Layout (schema.sql, documented in docs/store.md; versioned and migrated by db.py):
  meta       schema_version
  runs       one row per CLI/API invocation that wrote something: command, claim, settings,
             process (pid, hostname), start/finish, status
  models     one row per model file (by sha256) that produced samples
  prompts    one row per distinct prompt (by hash of its canonical JSON)
  samples    one row per generated sample, keyed by hash(model sha256, prompt, params, seed)
  embeddings sentence embeddings cached by (embedding model, text hash)
  evidence   one row per measured claim statistic, with CI and verdict
  artifacts  JSON data behind plots, training curves, examples (claim, name)
  annotations named values of samples (key, name), e.g. an imported equivalence partition
  provenance where an imported sample came from (file, its sha256, line, format)
Writes are transactions: a sample is either fully stored or absent, so a killed run resumes.
All SQL lives in queries.py (statements) and db.py (layout, migrations).
"""

from __future__ import annotations

from homogeny.store.core import DEFAULT_STORE, TABLES, Store
from homogeny.store.db import SCHEMA_VERSION, schema_sql
from homogeny.store.records import SAMPLE_COLUMNS, SampleRow, pid_alive

__all__ = [
    "DEFAULT_STORE",
    "SAMPLE_COLUMNS",
    "SCHEMA_VERSION",
    "TABLES",
    "SampleRow",
    "Store",
    "pid_alive",
    "schema_sql",
]
