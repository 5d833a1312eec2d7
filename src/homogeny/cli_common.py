"""What the `homogeny` commands share: option types and the checks of a user's input that run
before any store is opened, so a mistake leaves no `interrupted` run row behind."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

EXECUTORS = ("local", "ray")

StoreOpt = Annotated[str, typer.Option("--store", help="DuckDB run store file.")]
ModelsOpt = Annotated[
    str | None,
    typer.Option("--models", help="Comma-separated model specs (default: the embedded models)."),
]
SeedOpt = Annotated[
    int, typer.Option("--seed", help="Run seed; each sample's seed derives from it.")
]
ExecutorOpt = Annotated[str, typer.Option("--executor", help="local or ray")]
RayAddressOpt = Annotated[str | None, typer.Option("--ray-address")]
ReportOutOpt = Annotated[
    Path, typer.Option("--out", help="Folder for report.html and evidence.json.")
]


def split_models(models: str | None) -> list[str]:
    """The comma-separated model specs, or the installed default zoo models when none given."""
    if not models:
        from homogeny.models.zoo import DEFAULT_GENERATORS, is_installed

        return [f"zoo:{m}" for m in DEFAULT_GENERATORS if is_installed(m)]
    return [m.strip() for m in models.split(",") if m.strip()]


def check_environment() -> None:
    """Every HOMOGENY_* environment variable is valid (one line naming the bad one)."""
    from homogeny.config import check_all

    check_all()


def check_executor(executor: str) -> None:
    """`--executor` names a known executor whose library is installed."""
    from homogeny.errors import HomogenyError, ParameterError, did_you_mean

    if executor not in EXECUTORS:
        hint = did_you_mean(executor, list(EXECUTORS))
        raise ParameterError(f"--executor {executor!r} is unknown{hint}; use local or ray")
    if executor == "ray":
        import importlib.util

        if importlib.util.find_spec("ray") is None:
            raise HomogenyError("--executor ray needs Ray: pip install 'homogeny[ray]'")


def check_models(specs: list[str]) -> None:
    """Every model spec parses and names an existing zoo id, file or URL (no weights loaded)."""
    from homogeny.models import parse_spec

    for spec in specs:
        parse_spec(spec)


def check_work(executor: str, models: list[str] | None = None) -> None:
    """The checks every command that does work runs before it opens a store."""
    check_environment()
    check_executor(executor)
    check_models(models or [])
