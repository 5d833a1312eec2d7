"""`homogeny import`: generations made elsewhere become samples of `imported:NAME`.

A plain function; homogeny.cli registers it on the app. It imports what it needs only when it
runs, and reads and checks every file before the store is opened (a bad line leaves the store
untouched, exit 2).
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from homogeny.cli_common import StoreOpt

FormatOpt = Annotated[
    str | None,
    typer.Option(
        "--format", help="noveltybench or jsonl (default: told from each file's first row)."
    ),
]
MetaOpt = Annotated[
    Path | None,
    typer.Option(
        "--meta",
        help='TOML of model metadata, one table models."NAME" per model with family, params, '
        "kind, vendor (over the shipped entries).",
    ),
]


def import_generations(
    paths: Annotated[
        list[Path], typer.Argument(help="JSONL files, or folders searched for *.jsonl.")
    ],
    fmt: FormatOpt = None,
    meta: MetaOpt = None,
    store: StoreOpt = "homogeny.duckdb",
) -> None:
    """Import generations (NoveltyBench rows or generic JSONL) as samples of imported:NAME,
    with provenance and NoveltyBench's partitions; importing twice adds nothing."""
    from homogeny.cli_common import check_environment
    from homogeny.importing.load import import_files

    check_environment()
    summary = import_files(paths, store, fmt=fmt, meta=meta)
    stored = summary.samples - summary.repeated - summary.new
    twice = f", {summary.repeated} given twice (stored once)" if summary.repeated else ""
    print(
        f"imported {summary.samples} samples of {len(summary.models)} models from "
        f"{summary.files} files: {summary.new} new, {stored} already stored{twice} "
        f"({summary.seconds:.1f} s)"
    )
