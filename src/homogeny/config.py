"""Environment variables: every HOMOGENY_* setting read through one typed, validated getter.

A bad value is a user error: one line naming the variable, the value and the valid range
(`HOMOGENY_THREADS=100000` once segfaulted llama.cpp; `HOMOGENY_TIMEOUT=0` was reported as an
unreachable server). Nothing is read at import: each getter reads the environment when called.
"""

from __future__ import annotations

import math
import os
from pathlib import Path

from homogeny.errors import HomogenyError


class ConfigError(HomogenyError):
    """An environment variable holds a value homogeny cannot use."""


def _raw(name: str) -> str | None:
    value = os.environ.get(name)
    if value is None or not value.strip():
        return None
    return value.strip()


def _bad(name: str, value: str, valid: str) -> ConfigError:
    return ConfigError(f"environment variable {name}={value!r} is invalid; it must be {valid}")


def env_int(name: str, default: int, low: int, high: int) -> int:
    """An integer variable in [low, high]; `default` when unset or empty."""
    value = _raw(name)
    if value is None:
        return default
    valid = f"an integer from {low} to {high}"
    try:
        number = int(value)
    except ValueError:
        raise _bad(name, value, valid) from None
    if not low <= number <= high:
        raise _bad(name, value, valid)
    return number


def env_float(name: str, default: float, low: float, high: float) -> float:
    """A number variable in (low, high]; `default` when unset or empty."""
    value = _raw(name)
    if value is None:
        return default
    valid = f"a number of seconds above {low:g} and at most {high:g}"
    try:
        number = float(value)
    except ValueError:
        raise _bad(name, value, valid) from None
    if not math.isfinite(number) or not low < number <= high:
        raise _bad(name, value, valid)
    return number


def max_threads() -> int:
    """The most threads HOMOGENY_THREADS may ask for: 4 per CPU core."""
    return 4 * max(1, os.cpu_count() or 1)


def timeout() -> float:
    """HOMOGENY_TIMEOUT: total seconds one HTTP request may take (connect, headers, body)."""
    return env_float("HOMOGENY_TIMEOUT", 120.0, 0.0, 86_400.0)


def concurrency() -> int:
    """HOMOGENY_CONCURRENCY: HTTP requests in flight at once."""
    return env_int("HOMOGENY_CONCURRENCY", 8, 1, 1024)


def max_retries() -> int:
    """HOMOGENY_MAX_RETRIES: retries of a failed HTTP request (0 = try once)."""
    return env_int("HOMOGENY_MAX_RETRIES", 4, 0, 100)


def threads() -> int:
    """HOMOGENY_THREADS: CPU threads for llama.cpp and torch (default: every core)."""
    return env_int("HOMOGENY_THREADS", 0, 0, max_threads()) or max(1, os.cpu_count() or 1)


def ray_workers() -> int | None:
    """HOMOGENY_RAY_WORKERS: Ray actors to start (None: one per cluster CPU)."""
    value = env_int("HOMOGENY_RAY_WORKERS", 0, 0, 4096)
    return value or None


def cache_root() -> Path | None:
    """HOMOGENY_CACHE: folder for assembled model files and conversions (None: the default)."""
    value = _raw("HOMOGENY_CACHE")
    if value is None:
        return None
    path = Path(value).expanduser()
    if path.exists() and not path.is_dir():
        raise _bad("HOMOGENY_CACHE", value, "a folder (it names a file)")
    return path


def api_key() -> str | None:
    """The API key for OpenAI-compatible servers: HOMOGENY_API_KEY, else OPENAI_API_KEY."""
    return _raw("HOMOGENY_API_KEY") or _raw("OPENAI_API_KEY")


def check_all() -> None:
    """Validate every HOMOGENY_* variable at once (the CLI calls this before any work)."""
    timeout()
    concurrency()
    max_retries()
    threads()
    ray_workers()
    cache_root()
