"""Reading files to import: JSONL lines checked one by one, each error one line naming the
file and line; the file's sha256 for provenance; the format told from the first row."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from homogeny.errors import HomogenyError

FORMATS = ("noveltybench", "jsonl")
SAMPLING_FIELDS = {  # optional sampling parameters of a row -> their type
    "temperature": float,
    "top_p": float,
    "min_p": float,
    "top_k": int,
    "max_tokens": int,
    "seed": int,
}


class ImportInputError(HomogenyError):
    """A file to import is missing, unreadable, binary, empty or has a bad row (exit 2)."""


@dataclass(frozen=True)
class Source:
    """One file being imported: its path (as given), sha256 and parsed rows by line number."""

    path: str
    sha256: str
    rows: list[tuple[int, dict[str, Any]]]


@dataclass
class Item:
    """One imported sample: whose (model, treatment arm), which prompt, which draw, the text,
    where it came from, the sampling parameters known, and named annotations."""

    model: str
    group: str
    prompt_id: str
    prompt: str
    sample_index: int
    text: str
    source: str
    source_sha256: str
    line: int
    fmt: str
    params: dict[str, Any] = field(default_factory=dict)
    annotations: dict[str, str] = field(default_factory=dict)
    indexed: bool = True  # False: the index is the row's order, so the text enters the key

    @property
    def model_name(self) -> str:
        """NAME of `imported:NAME`: the data's model, a treatment arm as `model[arm]`."""
        return f"{self.model}[{self.group}]" if self.group else self.model


def expand(paths: list[Path]) -> list[Path]:
    """Files named, folders searched for *.jsonl (sorted); a missing path is one error line."""
    files: list[Path] = []
    for p in paths:
        if p.is_dir():
            found = sorted(q for q in p.rglob("*.jsonl") if q.is_file())
            if not found:
                raise ImportInputError(f"folder {str(p)!r} holds no .jsonl file to import")
            files.extend(found)
        elif p.is_file():
            files.append(p)
        elif p.exists():
            raise ImportInputError(f"{str(p)!r} is not a regular file or folder")
        else:
            raise ImportInputError(f"file {str(p)!r} does not exist")
    return list(dict.fromkeys(files))


def read_source(path: Path) -> Source:
    """The file's sha256 and its rows (line number, JSON object); binary, non-UTF-8, empty
    files and lines that are not JSON objects are one error line naming file and line."""
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise ImportInputError(f"cannot read {str(path)!r}: {exc.strerror}") from None
    name = str(path)
    nul = data.find(b"\x00")
    if nul >= 0:
        line = data[:nul].count(b"\n") + 1
        raise ImportInputError(f"{name}:{line}: binary data (a NUL byte), not JSONL text")
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = data[: exc.start].count(b"\n") + 1
        raise ImportInputError(f"{name}:{line}: not UTF-8 text; give JSONL text") from None
    rows = list(_rows(name, text))
    if not rows:
        raise ImportInputError(f"{name}: empty file; nothing to import")
    return Source(name, hashlib.sha256(data).hexdigest(), rows)


def _rows(name: str, text: str) -> Iterator[tuple[int, dict[str, Any]]]:
    for number, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        try:
            row = json.loads(line)
        except json.JSONDecodeError as exc:
            raise ImportInputError(
                f"{name}:{number}: not valid JSON ({exc.msg}); one JSON object per line"
            ) from None
        if not isinstance(row, dict):
            raise ImportInputError(
                f"{name}:{number}: expected a JSON object, got {type(row).__name__}"
            )
        yield number, row


def detect_format(source: Source, fmt: str | None) -> str:
    """The format asked for (checked), or told from the first row: `generations` means
    NoveltyBench, `text` means generic JSONL."""
    if fmt is not None:
        if fmt not in FORMATS:
            raise ImportInputError(f"unknown format {fmt!r}; use noveltybench or jsonl")
        return fmt
    line, row = source.rows[0]
    if "generations" in row:
        return "noveltybench"
    if "text" in row:
        return "jsonl"
    raise ImportInputError(
        f"{source.path}:{line}: unknown format (no `generations` or `text` field; fields: "
        f"{', '.join(row) or 'none'}); use --format noveltybench or jsonl"
    )


def require(source: Source, line: int, row: dict[str, Any], fields: tuple[str, ...]) -> None:
    """Every field of `fields` is in the row (one line naming the missing ones)."""
    missing = [f for f in fields if f not in row]
    if missing:
        raise ImportInputError(
            f"{source.path}:{line}: missing field(s) {', '.join(missing)} "
            f"(fields: {', '.join(row) or 'none'})"
        )


def text_field(source: Source, line: int, row: dict[str, Any], name: str) -> str:
    """Field `name` as a non-empty string (an id may be a number)."""
    value = row[name]
    if isinstance(value, int) and not isinstance(value, bool) and name.endswith("id"):
        return str(value)
    if not isinstance(value, str) or (name != "text" and not value.strip()):
        raise ImportInputError(
            f"{source.path}:{line}: {name} must be a non-empty string, got {_kind(value)}"
        )
    return value


def sampling_params(source: Source, line: int, row: dict[str, Any]) -> dict[str, Any]:
    """The optional sampling parameters present in the row, type-checked."""
    params: dict[str, Any] = {}
    for name, kind in SAMPLING_FIELDS.items():
        value = row.get(name)
        if value is None:
            continue
        ok = isinstance(value, (int, float)) and not isinstance(value, bool)
        if not ok or (kind is int and float(value) != int(value)):
            raise ImportInputError(
                f"{source.path}:{line}: {name} must be a number"
                f"{' (whole)' if kind is int else ''}, got {_kind(value)}"
            )
        params[name] = kind(value)
    return params


def _kind(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, str):
        return "an empty string" if not value.strip() else "a string"
    return {bool: "a boolean", int: "a number", float: "a number", list: "a list",
            dict: "an object"}.get(type(value), type(value).__name__)  # fmt: skip
