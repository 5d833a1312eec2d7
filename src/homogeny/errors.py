"""User-facing errors: one clear line naming the bad input and the fix; the CLI exits 2."""

from __future__ import annotations


class HomogenyError(Exception):
    """An error caused by the user's input or environment, shown as one line without traceback."""


class UnknownModelError(HomogenyError):
    """A model spec names a scheme or zoo id that does not exist."""


class ModelFileError(HomogenyError):
    """A model file is missing, not installed, or fails its sha256 check."""


class PromptFileError(HomogenyError):
    """A prompt file is missing, unreadable or has a malformed line."""


class ParameterError(HomogenyError):
    """A parameter is out of its allowed range."""


class ServerError(HomogenyError):
    """An OpenAI-compatible server is unreachable or keeps failing."""


class StoreError(HomogenyError):
    """The run store cannot be opened or written (locked, read-only, full, corrupt)."""


def did_you_mean(name: str, choices: list[str]) -> str:
    """Return ' (did you mean X?)' for the closest choice, or '' when none is close."""
    import difflib

    close = difflib.get_close_matches(name, choices, n=1, cutoff=0.5)
    return f" (did you mean '{close[0]}'?)" if close else ""
