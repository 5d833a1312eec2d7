"""Read a user's prompt file (JSON Lines or plain text) and the aligned pair files of Adam's Law.

Every problem raises PromptFileError with one line naming the file, the line and the fix.
"""

from __future__ import annotations

import json
import os
import stat
from pathlib import Path
from typing import Any

from homogeny.errors import PromptFileError
from homogeny.suites.prompt import Prompt

MAX_LINE_BYTES = 1_000_000
CHAT_ROLES = ("system", "user", "assistant")
JSONL_SUFFIXES = (".jsonl", ".json")


def _not_regular(path: Path, mode: int) -> PromptFileError | None:
    """The error for a path that is not a regular file (directory, FIFO, device, socket)."""
    if stat.S_ISREG(mode):
        return None
    kind = "a directory" if stat.S_ISDIR(mode) else "not a regular file (a FIFO, device or socket)"
    return PromptFileError(f"{path}: is {kind}; pass a .jsonl or .txt file")


def _read_bytes(path: Path) -> bytes:
    """A regular file's bytes. A FIFO or device is refused before it is read (reading one
    would block), and opened non-blocking so a swap between the check and the open cannot
    block either."""
    try:
        error = _not_regular(path, os.stat(path).st_mode)
    except FileNotFoundError:
        raise PromptFileError(f"{path}: no such file; check the path") from None
    except OSError as exc:
        raise PromptFileError(f"{path}: cannot be read ({exc.strerror}); check the path") from None
    if error:
        raise error
    try:
        fd = os.open(path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0))
    except OSError as exc:
        raise PromptFileError(f"{path}: cannot be read ({exc.strerror}); check the path") from None
    with open(fd, "rb") as handle:
        error = _not_regular(path, os.fstat(fd).st_mode)
        if error:
            raise error
        return handle.read()


def _read_lines(path: Path) -> list[str]:
    """The file's lines as text, after checking it exists, is a regular file, is UTF-8 and has
    no line over 1 MB."""
    raw = _read_bytes(path)
    lines = raw.split(b"\n")
    for number, line in enumerate(lines, start=1):
        if len(line) > MAX_LINE_BYTES:
            raise PromptFileError(
                f"{path}: line {number} is longer than 1 MB ({len(line)} bytes); "
                "shorten it or split it"
            )
        if b"\x00" in line:
            raise PromptFileError(
                f"{path}: line {number} holds a NUL byte, so this is not a text file; "
                "pass a UTF-8 .jsonl or .txt file"
            )
        try:
            line.decode("utf-8")
        except UnicodeDecodeError as exc:
            raise PromptFileError(
                f"{path}: line {number} is not valid UTF-8 (at byte {exc.start + 1}); "
                "save the file as UTF-8 text"
            ) from None
    text = raw.decode("utf-8-sig")
    return [line.rstrip("\r") for line in text.split("\n")]


def _is_jsonl(path: Path, lines: list[str]) -> bool:
    if path.suffix.lower() in JSONL_SUFFIXES:
        return True
    first = next((line.strip() for line in lines if line.strip()), "")
    return first.startswith("{")


def _check_id(path: Path, number: int, row: dict[str, Any]) -> str:
    if "id" not in row:
        return f"line-{number}"
    value = row["id"]
    if isinstance(value, bool) or not isinstance(value, str | int) or str(value).strip() == "":
        raise PromptFileError(f"{path}: line {number}: 'id' must be a non-empty string or integer")
    return str(value)


def _check_messages(path: Path, number: int, value: Any) -> tuple[tuple[str, str], ...]:
    where = f"{path}: line {number}"
    if not isinstance(value, list) or not value:
        raise PromptFileError(
            f'{where}: \'messages\' must be a non-empty list of {{"role", "content"}} objects'
        )
    turns = []
    for index, message in enumerate(value):
        if (
            not isinstance(message, dict)
            or not isinstance(message.get("role"), str)
            or not isinstance(message.get("content"), str)
        ):
            raise PromptFileError(
                f"{where}: messages[{index}] must be an object with string 'role' and 'content'"
            )
        if message["role"] not in CHAT_ROLES:
            raise PromptFileError(
                f"{where}: messages[{index}] has role '{message['role']}'; "
                f"use one of {', '.join(CHAT_ROLES)}"
            )
        turns.append((message["role"], message["content"]))
    if not any(role == "user" and content.strip() for role, content in turns):
        raise PromptFileError(f"{where}: 'messages' has no non-empty user message; add one")
    return tuple(turns)


def _prompt_from_row(path: Path, number: int, row: Any) -> Prompt:
    where = f"{path}: line {number}"
    if not isinstance(row, dict):
        raise PromptFileError(
            f"{where} is a JSON {type(row).__name__}, not an object; "
            'write {"id": ..., "prompt": ...}'
        )
    has_prompt, has_messages = "prompt" in row, "messages" in row
    if has_prompt == has_messages:
        which = "both 'prompt' and 'messages'" if has_prompt else "neither 'prompt' nor 'messages'"
        raise PromptFileError(f"{where} has {which}; give exactly one of them")
    prompt_id = _check_id(path, number, row)
    meta = {k: v for k, v in row.items() if k not in ("id", "prompt", "messages")}
    if has_messages:
        return Prompt(
            id=prompt_id, messages=_check_messages(path, number, row["messages"]), meta=meta
        )
    text = row["prompt"]
    if not isinstance(text, str):
        raise PromptFileError(f"{where}: 'prompt' must be a string, not {type(text).__name__}")
    if not text.strip():
        raise PromptFileError(
            f"{where}: 'prompt' is empty; write the prompt text or delete the line"
        )
    return Prompt(id=prompt_id, text=text, meta=meta)


def _check_encodable(path: Path, number: int, row: Any) -> None:
    """Refuse a JSON line whose strings cannot be written as UTF-8: a lone surrogate escape
    such as "\\ud800" decodes to a str that no tokenizer, store or report can encode."""
    try:
        json.dumps(row, ensure_ascii=False).encode("utf-8")
    except UnicodeEncodeError as exc:
        bad = exc.object[exc.start : exc.end].encode("unicode_escape").decode("ascii")
        raise PromptFileError(
            f"{path}: line {number} holds a lone surrogate ({bad}), which is not text; "
            "escape whole characters only (a pair such as \\ud83d\\ude00) or delete it"
        ) from None


def _parse_jsonl(path: Path, lines: list[str]) -> list[tuple[int, Prompt]]:
    parsed = []
    for number, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        try:
            row = json.loads(line)
        except json.JSONDecodeError as error:
            hint = (
                " (a whole-file JSON array is not accepted: write one object per line)"
                if line.strip() == "["
                else ""
            )
            raise PromptFileError(
                f"{path}: line {number} is not valid JSON "
                f"({error.msg}, column {error.colno}){hint}; "
                "write one JSON object per line"
            ) from None
        _check_encodable(path, number, row)
        parsed.append((number, _prompt_from_row(path, number, row)))
    return parsed


def read_prompt_file(path: str | Path) -> list[Prompt]:
    """Read prompts from a JSON Lines file ({"id", "prompt"} or {"id", "messages"} per line; id
    optional, default "line-N") or a text file (one prompt per non-empty line, id "line-N").

    JSON Lines is chosen by a .jsonl/.json suffix or a first non-empty line starting with "{".
    Other fields of a JSON line are kept in Prompt.meta."""
    path = Path(path)
    lines = _read_lines(path)
    if _is_jsonl(path, lines):
        numbered = _parse_jsonl(path, lines)
    else:
        numbered = [
            (number, Prompt(id=f"line-{number}", text=line.strip()))
            for number, line in enumerate(lines, start=1)
            if line.strip()
        ]
    if not numbered:
        raise PromptFileError(
            f"{path}: holds no prompts; write one prompt (or one JSON object) per line"
        )
    first_line: dict[str, int] = {}
    for number, prompt in numbered:
        if prompt.id in first_line:
            raise PromptFileError(
                f"{path}: line {number} repeats id '{prompt.id}' "
                f"first used on line {first_line[prompt.id]}; "
                "give every prompt its own id"
            )
        first_line[prompt.id] = number
    return [prompt for _, prompt in numbered]


def _question_lines(path: Path) -> list[str]:
    lines = _read_lines(path)
    if lines and lines[-1] == "":
        lines = lines[:-1]  # the newline that ends the last line
    return [line.strip() for line in lines]


def read_pairs(low_path: str | Path, high_path: str | Path) -> list[tuple[str, str]]:
    """Read Adam's Law aligned pairs (Lu et al. 2026): line i of the low-frequency file and line
    i of the high-frequency file are the same question in rare and in common wording."""
    low_path, high_path = Path(low_path), Path(high_path)
    low, high = _question_lines(low_path), _question_lines(high_path)
    if len(low) != len(high):
        raise PromptFileError(
            f"{low_path} has {len(low)} lines but {high_path} has {len(high)}; "
            "the two files must be aligned line by line (one question per line in each)"
        )
    pairs = []
    for number, (rare, common) in enumerate(zip(low, high), start=1):
        if bool(rare) != bool(common):
            empty = low_path if not rare else high_path
            raise PromptFileError(
                f"{empty}: line {number} is empty but its partner is not; keep the files aligned"
            )
        if rare:
            pairs.append((rare, common))
    if not pairs:
        raise PromptFileError(f"{low_path}: holds no questions; write one question per line")
    return pairs
