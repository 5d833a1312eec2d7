"""Checkable answers: does a model's reply state the expected answer?

One definition for every study that scores answers against a key (C1's comprehension probes,
C7's factual and arithmetic questions, the quality judge), so a reply counts as correct by
the same rule everywhere.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

_NUMBER = re.compile(r"-?\d[\d,]*(?:\.\d+)?")


def mentions_answer(text: str, answer: object, aliases: Sequence[object] = ()) -> bool:
    """True when `answer` or one of `aliases` appears in `text` as a whole word, any case.

    A match may not sit inside a longer word or number: "11" is not found in "111", "0.11"
    or "11.5", and "Paris" is not found in "Parisian"."""
    low = text.lower()
    for option in (answer, *aliases):
        word = str(option).strip().lower() if option is not None else ""
        if word and re.search(rf"(?<![\w.]){re.escape(word)}(?![\w]|\.\d)", low):
            return True
    return False


def last_number(text: str) -> str | None:
    """The last number written in `text`, thousands separators removed ("1,200" -> "1200"),
    or None when there is none; a trailing full stop is not a decimal point."""
    found = _NUMBER.findall(text)
    return found[-1].replace(",", "") if found else None


def states_number(text: str, answer: object) -> bool:
    """True when the last number in `text` equals `answer` (an int, or a number as text)."""
    last = last_number(text)
    if last is None:
        return False
    try:
        return float(last) == float(str(answer).replace(",", ""))
    except ValueError:
        return False
