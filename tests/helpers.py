"""Helpers several test modules share: a sample row, the CLI in a subprocess, the one-line
user-error check. (Fixtures live in conftest.py; plain functions here, imported by name.)"""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from homogeny.experiments.base import ExperimentContext
from homogeny.store import SampleRow, Store


def sample_row(key: str, text: str = "hello", **fields: Any) -> SampleRow:
    """A stored sample with fixed identity fields; `fields` override any of them."""
    row: dict[str, Any] = dict(
        key=key,
        model_id="m",
        model_sha256="sha",
        prompt_hash="ph",
        prompt_id="p1",
        sample_index=0,
        seed=1,
        temperature=1.0,
        top_p=1.0,
        min_p=0.0,
        top_k=0,
        max_tokens=8,
        chat=True,
        params_json="{}",
        text=text,
        token_ids=[1, 2],
        logprobs=[-0.1, -0.2],
    )
    row.update(fields)
    return SampleRow(**row)


def run_cli(
    *args: str, env: dict[str, str] | None = None, timeout: float = 600, cwd: Path | None = None
) -> subprocess.CompletedProcess[str]:
    """Run `homogeny ARGS` in a subprocess (python -m homogeny.cli), as a user would."""
    return subprocess.run(
        [sys.executable, "-m", "homogeny.cli", *args],
        capture_output=True,
        text=True,
        check=False,
        timeout=timeout,
        env={**os.environ, **(env or {})},
        cwd=cwd,
        stdin=subprocess.DEVNULL,
    )


def one_error_line(proc: subprocess.CompletedProcess[str], code: int, *needles: str) -> str:
    """Assert exit `code`, no traceback, and exactly one non-empty stderr line holding every
    needle; return that line."""
    assert proc.returncode == code, (proc.returncode, proc.stdout, proc.stderr)
    assert "Traceback" not in proc.stderr, proc.stderr
    lines = [line for line in proc.stderr.splitlines() if line.strip()]
    assert len(lines) == 1, proc.stderr
    for needle in needles:
        assert needle in lines[0], lines[0]
    return lines[0]


def quiet_context(store: Store, models: Sequence[str] = (), **fields: Any) -> ExperimentContext:
    """An experiment context on `store` that prints nothing (no log lines, no progress bars);
    `fields` set any other field (quick, seed, options)."""
    return ExperimentContext(
        store=store, models=list(models), log=lambda m: None, progress=False, **fields
    )
