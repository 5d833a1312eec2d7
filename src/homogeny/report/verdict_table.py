"""The claim-verdict table at the top of the report: one line per claim, from its primary row."""

from __future__ import annotations

from typing import Any

from homogeny.experiments.verdicts import claim_verdicts
from homogeny.report import labels, narrative
from homogeny.report.plots import fmt


def rows(evidence: list[dict[str, Any]]) -> list[dict[str, str]]:
    """Per claim: its primary row in plain words, the verdict (Holm-corrected across claims),
    effect with interval, independent units and the rule's null rate."""
    out = []
    for e in claim_verdicts(evidence):
        if e.get("metric") is None:
            continue
        out.append(
            {
                "claim": str(e["claim"]).upper(),
                "anchor": narrative.anchor(str(e["claim"])),
                "verdict": str(e["verdict"]),
                "row": labels.name(e),
                "effect": _effect(e),
                "units": str(e.get("n_units") or ""),
                "null_rate": "" if e.get("null_rate") is None else fmt(e["null_rate"]),
                "reason": str(e.get("reason") or ""),
            }
        )
    return out


def _effect(e: dict[str, Any]) -> str:
    if e.get("effect") is None:
        return ""
    return f"{fmt(e['effect'])} [{fmt(e.get('ci_low'))}, {fmt(e.get('ci_high'))}]"
