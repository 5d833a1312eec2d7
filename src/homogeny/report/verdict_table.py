"""The claim-verdict table near the top of the page: one line per claim that ran, from its
one pre-registered primary row (experiments/verdicts.py decides; this module only words it).

`entries` is what evidence.json exports as `claim_verdicts`: claim_verdicts' entries plus the
Holm-adjusted p-value of each primary row in the family Holm corrects. `rows` turns them into
the table's cells (plain text; the template escapes every cell).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

from homogeny.experiments.claims import CLAIMS, THESIS
from homogeny.experiments.verdicts import ONE_SIDED, claim_verdicts
from homogeny.report import labels
from homogeny.report.plots import fmt

TESTED = ("supported", "contradicted", "inconclusive")
CAPTION = (
    "Each claim's verdict is its one pre-registered primary row's, Holm-corrected across the "
    "claims of this run (Holm p: the adjusted one-sided p-value; a claim is supported when its "
    f"row's own rule says so and Holm p ≤ {ONE_SIDED:g}). n units: the independent units the "
    "row resampled. Null rate: how often this rule says “supported” on data with no effect at "
    "this n."
)


def entries(evidence: Sequence[dict[str, Any]]) -> list[dict[str, Any]]:
    """claim_verdicts(evidence), each entry with `p_holm`: its primary row's Holm-adjusted
    one-sided p-value (None when the row was not in the Holm family). Rows that already went
    through Holm (build.collect's) are read with the verdict they were measured with, so
    `verdict_unadjusted` is the row's own and Holm is applied once."""
    measured = [
        {**r, "verdict": r["verdict_unadjusted"]} if r.get("verdict_unadjusted") else r
        for r in evidence
    ]
    table = claim_verdicts(measured)
    adjusted = holm_p(measured)
    for entry in table:
        entry["p_holm"] = adjusted.get(str(entry["claim"]))
    return table


def holm_p(evidence: Sequence[dict[str, Any]]) -> dict[str, float]:
    """claim -> Holm-adjusted p of its primary row, over the family claim_verdicts corrects
    (each claim's first primary row with a p-value and a tested verdict): the k-th smallest
    p times (m - k + 1), made monotone, capped at 1. A verdict of supported survives Holm
    exactly when this is at most the one-sided alpha."""
    family: dict[str, float] = {}
    for row in evidence:
        claim = str(row.get("claim"))
        if row.get("role") != "primary" or claim in family:
            continue
        p = row.get("p_value")
        if isinstance(p, (int, float)) and math.isfinite(p) and row.get("verdict") in TESTED:
            family[claim] = float(p)
    ranked = sorted(family, key=family.__getitem__)
    out: dict[str, float] = {}
    running = 0.0
    for k, claim in enumerate(ranked):
        running = max(running, min(1.0, (len(ranked) - k) * family[claim]))
        out[claim] = running
    return out


def rows(table: Sequence[dict[str, Any]]) -> list[dict[str, str]]:
    """The table's cells, one dict per claim, in claim order; empty when no claim declared a
    primary row (an older store: its cards carry the verdicts)."""
    if not any(e.get("metric") for e in table):
        return []
    return [_cells(e) for e in table]


def _cells(e: dict[str, Any]) -> dict[str, str]:
    claim = str(e["claim"])
    info = THESIS if claim.upper() == THESIS.id else CLAIMS.get(claim.lower())
    has_metric = bool(e.get("metric"))
    # a not-testable row's 0 [0, 0] is no value
    measured = not str(e.get("verdict") or "").startswith("not testable")
    return {
        "claim": info.id.upper() if info else claim.upper(),
        "anchor": f"claim-{claim.lower()}" if info else "",
        "question": info.question if info else str(e.get("question") or ""),
        "metric": labels.name(e) if has_metric else "—",
        "effect": _fmt_or_dash(e.get("effect")) if measured else "—",
        "interval": _interval(e) if measured else "",
        "unit": labels.unit(e) if measured and has_metric and e.get("effect") is not None else "",
        "n_units": str(e["n_units"]) if measured and e.get("n_units") is not None else "—",
        "null_rate": _percent(e.get("null_rate")),
        "p_holm": _p(e.get("p_holm")),
        "verdict": str(e.get("verdict") or "—"),
        "reason": str(e.get("reason") or ""),
    }


def _fmt_or_dash(x: Any) -> str:
    return fmt(x) if isinstance(x, (int, float)) else "—"


def _interval(e: dict[str, Any]) -> str:
    if not isinstance(e.get("effect"), (int, float)):
        return ""
    return f"[{fmt(e.get('ci_low'))}, {fmt(e.get('ci_high'))}]"


def _percent(x: Any) -> str:
    if not isinstance(x, (int, float)) or not math.isfinite(x):
        return "—"
    return f"{fmt(100 * x)}%"


def _p(x: Any) -> str:
    if not isinstance(x, (int, float)) or not math.isfinite(x):
        return "—"
    return "< 0.001" if x < 0.001 else fmt(x)
