"""Environment variables: typed, validated, one clear line for a bad value; and importing
homogeny changes nothing in the process (no environment variable, no atexit hook)."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

from homogeny import config
from homogeny.config import ConfigError

BAD = [
    ("HOMOGENY_TIMEOUT", "abc", config.timeout),
    ("HOMOGENY_TIMEOUT", "0", config.timeout),
    ("HOMOGENY_TIMEOUT", "-5", config.timeout),
    ("HOMOGENY_TIMEOUT", "nan", config.timeout),
    ("HOMOGENY_TIMEOUT", "1e9", config.timeout),
    ("HOMOGENY_CONCURRENCY", "0", config.concurrency),
    ("HOMOGENY_CONCURRENCY", "x", config.concurrency),
    ("HOMOGENY_CONCURRENCY", "100000", config.concurrency),
    ("HOMOGENY_MAX_RETRIES", "abc", config.max_retries),
    ("HOMOGENY_MAX_RETRIES", "-1", config.max_retries),
    ("HOMOGENY_THREADS", "abc", config.threads),
    ("HOMOGENY_THREADS", "100000", config.threads),
    ("HOMOGENY_THREADS", "-2", config.threads),
    ("HOMOGENY_RAY_WORKERS", "many", config.ray_workers),
]


@pytest.mark.parametrize("name, value, getter", BAD)
def test_a_bad_value_is_one_line_naming_variable_value_and_range(monkeypatch, name, value, getter):
    monkeypatch.setenv(name, value)
    with pytest.raises(ConfigError) as err:
        getter()
    message = str(err.value)
    assert name in message and repr(value) in message and "must be" in message
    assert "\n" not in message
    with pytest.raises(ConfigError):
        config.check_all()


def test_defaults_and_good_values(monkeypatch):
    for name in (
        "HOMOGENY_TIMEOUT",
        "HOMOGENY_CONCURRENCY",
        "HOMOGENY_MAX_RETRIES",
        "HOMOGENY_THREADS",
        "HOMOGENY_RAY_WORKERS",
        "HOMOGENY_CACHE",
    ):
        monkeypatch.delenv(name, raising=False)
    assert (config.timeout(), config.concurrency(), config.max_retries()) == (120.0, 8, 4)
    assert config.threads() == (os.cpu_count() or 1) and config.ray_workers() is None
    monkeypatch.setenv("HOMOGENY_TIMEOUT", "2.5")
    monkeypatch.setenv("HOMOGENY_THREADS", "1")
    monkeypatch.setenv("HOMOGENY_MAX_RETRIES", "0")
    assert (config.timeout(), config.threads(), config.max_retries()) == (2.5, 1, 0)
    config.check_all()


def test_a_file_as_cache_folder_is_refused(monkeypatch, tmp_path):
    path = tmp_path / "file"
    path.write_text("x")
    monkeypatch.setenv("HOMOGENY_CACHE", str(path))
    with pytest.raises(ConfigError, match="HOMOGENY_CACHE"):
        config.cache_root()


@pytest.mark.parametrize(
    "name, value",
    [("HOMOGENY_TIMEOUT", "0"), ("HOMOGENY_CONCURRENCY", "x"), ("HOMOGENY_MAX_RETRIES", "abc")],
)
def test_the_cli_reports_a_bad_http_variable_as_a_user_error(cli, tmp_path, name, value):
    prompts = tmp_path / "p.txt"
    prompts.write_text("Name a colour.\n")
    proc = cli(
        "generate",
        "--model",
        "openai:http://127.0.0.1:9/v1#m",
        "--prompts",
        str(prompts),
        "--store",
        str(tmp_path / "s.duckdb"),
        "--quiet",
        env={name: value},
    )
    assert proc.returncode == 2, proc.stderr
    assert name in proc.stderr and "Traceback" not in proc.stderr
    assert "unreachable" not in proc.stderr


def test_absurd_threads_are_refused_not_a_segfault(cli, tmp_path, smollm):
    prompts = tmp_path / "p.txt"
    prompts.write_text("Name a colour.\n")
    proc = cli(
        "generate",
        "--model",
        smollm,
        "--prompts",
        str(prompts),
        "--max-tokens",
        "2",
        "--store",
        str(tmp_path / "s.duckdb"),
        "--quiet",
        env={"HOMOGENY_THREADS": "100000"},
    )
    assert proc.returncode == 2, proc.stderr
    assert "HOMOGENY_THREADS" in proc.stderr and "Traceback" not in proc.stderr


IMPORT_PROBE = """
import atexit, os, sys
hooks = []
register = atexit.register
def spy(f, *a, **k):
    hooks.append(getattr(f, "__module__", ""))
    return register(f, *a, **k)
atexit.register = spy
import homogeny, homogeny.models, homogeny.generate.engine, homogeny.config
print(os.environ.get("OMP_WAIT_POLICY"), [m for m in hooks if m and m.startswith("homogeny")])
print(sorted(m for m in ("llama_cpp", "torch", "httpx", "numpy") if m in sys.modules))
"""


def test_importing_homogeny_has_no_side_effects():
    env = {k: v for k, v in os.environ.items() if k != "OMP_WAIT_POLICY"}
    out = subprocess.run(
        [sys.executable, "-c", IMPORT_PROBE],
        capture_output=True,
        text=True,
        env=env,
        check=True,
        timeout=120,
    )
    first, modules = out.stdout.splitlines()
    assert first == "None []", out.stdout
    assert "llama_cpp" not in modules and "torch" not in modules
