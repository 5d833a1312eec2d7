"""Where the models homogeny trains itself are saved: one rule for every claim (C2, C5, C7).

A file store `runs.duckdb` keeps them in `runs_checkpoints/<claim>/` beside it; an in-memory
store, or options["checkpoints"] = False, keeps none (C2, which reloads its checkpoints between
runs, then uses a temporary folder removed at the end).
"""

from __future__ import annotations

import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any


def checkpoint_folder(ctx: Any, claim: str) -> Path | None:
    """The checkpoint folder of `claim` beside ctx's file store, created; None for an in-memory
    store or when ctx.options["checkpoints"] is False."""
    path = str(getattr(ctx.store, "path", ":memory:"))
    if path == ":memory:" or ctx.options.get("checkpoints") is False:
        return None
    folder = Path(path).resolve().parent / f"{Path(path).stem}_checkpoints" / claim
    folder.mkdir(parents=True, exist_ok=True)
    return folder


@contextmanager
def checkpoint_dir(ctx: Any, claim: str) -> Iterator[Path]:
    """`checkpoint_folder(ctx, claim)`, or a temporary folder (removed on exit) where that is
    None: for experiments that must write checkpoints to reload them."""
    folder = checkpoint_folder(ctx, claim)
    if folder is not None:
        yield folder
        return
    with tempfile.TemporaryDirectory(prefix=f"homogeny-{claim}-") as tmp:
        yield Path(tmp)
