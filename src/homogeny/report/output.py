"""Where the report goes and how it is written: atomically (a temp file in the same folder,
then os.replace, so a failed write never leaves a half or empty report.html), and never over
a file that is not an earlier homogeny report."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

from homogeny.errors import StoreError

HTML_MARK = '<meta name="generator" content="homogeny'
JSON_MARK = '"homogeny_version"'


def targets(out: Path) -> tuple[Path, Path]:
    """(html, evidence.json) for `out`: a folder gets report.html and evidence.json; a path
    ending in .html is the page itself, with evidence.json beside it."""
    out = Path(out)
    if out.suffix.lower() in (".html", ".htm"):
        return out, out.with_name("evidence.json")
    return out / "report.html", out / "evidence.json"


def ours(path: Path, mark: str) -> bool:
    """True when `path` is absent, empty, or an earlier homogeny output (its first bytes
    carry `mark`); anything else is the user's file and is not overwritten."""
    try:
        with open(path, "rb") as fh:
            head = fh.read(8192)
    except FileNotFoundError:
        return True
    except OSError:
        return False
    return (
        not head.strip()
        or mark.encode() in head
        or (mark == HTML_MARK and b"homogeny report" in head)
    )


def check_targets(html: Path, evidence: Path) -> None:
    """Refuse, with one clear line, before any work, to overwrite a file homogeny did not write."""
    for path, mark in ((html, HTML_MARK), (evidence, JSON_MARK)):
        if path.is_dir():
            raise StoreError(f"cannot write the report to {str(path)!r}: it is a folder")
        if not ours(path, mark):
            raise StoreError(
                f"{str(path)!r} exists and is not a homogeny report; "
                "choose another --out (it was left untouched)"
            )
    folder = html.parent
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise StoreError(f"cannot create report folder {str(folder)!r}: {exc.strerror}") from None


def write_atomic(path: Path, text: str) -> None:
    """Write `text` to a temp file in `path`'s folder, flush it to disk, then rename it over
    `path`: readers see the old file or the whole new one, never a partial one."""
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        mask = os.umask(0)
        os.umask(mask)
        os.chmod(tmp, 0o666 & ~mask)
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            fh.write(text)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    except BaseException as exc:
        try:
            os.unlink(tmp)
        except OSError:
            pass
        if isinstance(exc, OSError):
            raise StoreError(
                f"cannot write the report to {str(path)!r}: {exc.strerror or exc}"
            ) from None
        raise
