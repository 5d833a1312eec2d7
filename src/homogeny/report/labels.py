"""Plain words for every metric id the experiments emit, used by every part of the page that
names a measurement (answer, cards, plots, open questions). The words come from one table,
`label_table.TABLE`: each entry matches a metric id and gives a plain name, the unit, what 0
and the threshold mean, and a sentence a reader can quote with the numbers filled in. The
raw id is shown only in a card's details line.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from homogeny.report.label_table import TABLE
from homogeny.report.plots import fmt


@dataclass(frozen=True)
class Label:
    """How the page speaks about one metric. `name`, `template` may use {subject} (the model
    or variant named in the id); `template` also {effect}, {low}, {high} and {unit}."""

    pattern: str
    name: str
    unit: str
    zero: str
    template: str
    threshold: str = ""
    trained_here: bool = False

    def match(self, metric: str) -> re.Match[str] | None:
        """The match of this entry's pattern against the whole id, or None."""
        return re.fullmatch(self.pattern, metric)


LABELS: tuple[Label, ...] = tuple(Label(*args, **kw) for args, kw in TABLE)
FALLBACK = Label(r".*", "{subject}", "", "no effect", "{subject} measured {effect}")


def lookup(metric: Any) -> tuple[Label, dict[str, str]]:
    """The label entry for a metric id and the parts its pattern captured; unknown ids fall
    back to their own text with underscores as spaces (never silently dropped)."""
    text = str(metric or "")
    for label in LABELS:
        m = label.match(text)
        if m:
            return label, {k: _words(v) for k, v in m.groupdict().items() if v is not None}
    return FALLBACK, {"subject": _words(text)}


SUBJECT_WORDS = {
    "cka": "linear CKA",
    "knn": "mutual k-NN",
    "toy lm": "tiny models",
    "real": "real models",
    "pass at 1": "pass@1",
}


def _words(text: str) -> str:
    words = text.replace("_", " ").strip()
    return SUBJECT_WORDS.get(words, words)


def known(metric: str) -> bool:
    """True when a metric id has an entry of its own in the table."""
    return lookup(metric)[0] is not FALLBACK


def name(row: dict[str, Any]) -> str:
    """The plain name of an evidence row's metric (the row's own `subject` wins when given)."""
    label, parts = _parts(row)
    return _fill(label.name, parts)


def unit(row: dict[str, Any]) -> str:
    """The unit of an evidence row: the row's own `unit` field when the experiment set one."""
    own = row.get("unit")
    return str(own) if own else lookup(row.get("metric"))[0].unit


def zero(row: dict[str, Any]) -> str:
    """What an effect of 0 means for this row."""
    return lookup(row.get("metric"))[0].zero


def threshold_text(row: dict[str, Any]) -> str:
    """What the decision threshold means, when the metric's is not plain 0 (the table writes
    "0.05: why"; the card gives the number already, so only the why is returned)."""
    return re.sub(r"^-?[0-9.]+: ", "", lookup(row.get("metric"))[0].threshold)


def trained_here(row: dict[str, Any]) -> bool:
    """True when the row measures models trained inside homogeny (toy GPTs, CPPNs)."""
    models = str(row.get("models") or "")
    return lookup(row.get("metric"))[0].trained_here or models.startswith("toy")


def quote(row: dict[str, Any]) -> str:
    """One sentence a reader can quote, with the effect, its interval and n."""
    label, parts = _parts(row)
    text = _fill(label.template, {**parts, "effect": fmt(_f(row.get("effect")))}, "the model")
    return (
        f"{text[:1].upper()}{text[1:]} (95% CI {fmt(_f(row.get('ci_low')))} to "
        f"{fmt(_f(row.get('ci_high')))}, n = {row.get('n')})."
    )


def value_text(row: dict[str, Any]) -> str:
    """`0.31 nats per token` — the effect with its unit."""
    u = unit(row)
    return f"{fmt(_f(row.get('effect')))} {u}".strip() if u else fmt(_f(row.get("effect")))


def _parts(row: dict[str, Any]) -> tuple[Label, dict[str, str]]:
    label, parts = lookup(row.get("metric"))
    if row.get("subject"):  # the typed rows name their model or variant here
        subject = _words(str(row["subject"]))
        parts["subject"] = f"{parts['subject']} ({subject})" if label is FALLBACK else subject
    return label, parts


def _fill(template: str, parts: dict[str, str], missing: str = "") -> str:
    """`template` with {name} filled from `parts`; a part not known becomes `missing`, and a
    parenthesis left empty by that is dropped."""
    text = re.sub(r"\{(\w+)\}", lambda m: parts.get(m.group(1), missing), template)
    text = re.sub(r"\(\s+", "(", re.sub(r"\s+\)", ")", text))
    return re.sub(r"\s*\(\)", "", text).replace("  ", " ").strip()


def _f(v: Any) -> float | None:
    return float(v) if isinstance(v, (int, float)) and not isinstance(v, bool) else None
