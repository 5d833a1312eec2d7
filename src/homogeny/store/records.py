"""Sample rows as Python objects, and small helpers for stored values."""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from typing import Any

from homogeny.store import db

SAMPLE_COLUMNS = db.expected_columns()["samples"]


@dataclass
class SampleRow:
    """One stored sample: what was asked (model, prompt, params, seed) and what came back."""

    key: str
    model_id: str
    model_sha256: str
    prompt_hash: str
    prompt_id: str
    sample_index: int
    seed: int
    temperature: float
    top_p: float
    min_p: float
    top_k: int
    max_tokens: int
    chat: bool
    params_json: str
    text: str
    token_ids: list[int] = field(default_factory=list)
    logprobs: list[float] = field(default_factory=list)
    top_logprobs_json: str = "[]"
    finish_reason: str = ""
    n_prompt_tokens: int = 0
    n_tokens: int = 0
    gen_seconds: float = 0.0
    run_id: str = ""
    created_at: float = 0.0

    def as_record(self) -> dict[str, Any]:
        """Column name -> value, for an insert by name."""
        return {c: getattr(self, c) for c in SAMPLE_COLUMNS}

    def values(self) -> tuple[Any, ...]:
        """The values in SAMPLE_COLUMNS order."""
        return tuple(getattr(self, c) for c in SAMPLE_COLUMNS)


def pid_alive(pid: int) -> bool:
    """True when a process with this id exists on this host (or cannot be probed)."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except (PermissionError, OverflowError, ValueError):
        return True
    return True


def json_default(obj: Any) -> Any:
    """Make numpy scalars and arrays JSON-serialisable."""
    if hasattr(obj, "tolist"):
        return obj.tolist()
    if hasattr(obj, "item"):
        return obj.item()
    return str(obj)
