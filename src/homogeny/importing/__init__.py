"""Importing generations made elsewhere (NoveltyBench rows, generic JSONL) as samples of
`imported:NAME`, with provenance and named annotations; see docs/import.md.

    from homogeny.importing import import_files
    summary = import_files([Path("noveltybench/generations")], "homogeny.duckdb")

Submodules: sources (reading and checking files), noveltybench and jsonl (row formats),
manifest (model metadata, models.toml), load (into the store), distinct (NoveltyBench's
distinct_k on imported partitions), capabilities (what texts-only models can feed), stored
(imported models, size ladders and partitions read back for the claims).
"""

from __future__ import annotations

from typing import Any

from homogeny.importing.capabilities import can, is_imported, why_not
from homogeny.importing.sources import FORMATS, ImportInputError

__all__ = [
    "FORMATS",
    "ImportInputError",
    "ImportSummary",
    "can",
    "import_files",
    "is_imported",
    "read_items",
    "why_not",
]


def __getattr__(name: str) -> Any:
    if name in ("ImportSummary", "import_files", "read_items"):  # the store loads on first use
        from homogeny.importing import load

        return getattr(load, name)
    raise AttributeError(f"module 'homogeny.importing' has no attribute {name!r}")
