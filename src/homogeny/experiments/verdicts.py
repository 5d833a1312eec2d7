"""Claim verdicts from primary rows: one pre-registered test per claim, Holm-corrected.

A claim's verdict is its primary row's, with the family-wise error held across the claims
of the run by Holm's step-down (Holm 1979) on the primary rows' one-sided p-values. Secondary
rows are Holm-corrected within their claim and shown, never counted into the claim's
verdict. A failed precondition makes the claim "not testable here" with its reason.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from homogeny.metrics.inference import ALPHA, holm

ONE_SIDED = ALPHA / 2


def _get(row: Any, key: str, default: Any = None) -> Any:
    if isinstance(row, Mapping):
        return row.get(key, default)
    return getattr(row, key, default)


def _adjusted(rows: Sequence[Any]) -> list[str]:
    """Each row's verdict after Holm across `rows` (rows without a p-value keep theirs)."""
    tested = [
        i
        for i, r in enumerate(rows)
        if _get(r, "p_value") is not None
        and _get(r, "verdict") in ("supported", "contradicted", "inconclusive")
    ]
    out = [str(_get(r, "verdict", "inconclusive")) for r in rows]
    if not tested:
        return out
    rejected = holm([float(_get(rows[i], "p_value")) for i in tested], alpha=ONE_SIDED)
    for i, ok in zip(tested, rejected):
        if out[i] == "supported" and not ok:
            out[i] = "inconclusive"
    return out


def claim_verdicts(rows: Iterable[Any]) -> list[dict[str, Any]]:
    """One entry per claim: its primary row's verdict after Holm across the run's claims,
    with effect, interval, unit, n in independent units, null rate and the reason when the
    claim is not testable here."""
    rows = list(rows)
    claims = sorted({str(_get(r, "claim")) for r in rows}, key=_claim_order)
    primaries: list[Any] = []
    table: list[dict[str, Any]] = []
    for claim in claims:
        mine = [r for r in rows if _get(r, "claim") == claim]
        primary = next((r for r in mine if _get(r, "role") == "primary"), None)
        failed = [
            r
            for r in mine
            if _get(r, "role") == "precondition" and _get(r, "verdict") == "contradicted"
        ]
        entry = {"claim": claim, "metric": None, "verdict": "no primary row", "reason": ""}
        if primary is not None:
            entry.update(
                {
                    k: _get(primary, k)
                    for k in (
                        "metric",
                        "question",
                        "effect",
                        "ci_low",
                        "ci_high",
                        "unit",
                        "n_units",
                        "null_rate",
                        "p_value",
                        "method",
                        "threshold",
                        "predicted",
                        "subject",
                    )
                }
            )
            entry["verdict"] = _get(primary, "verdict")
            primaries.append(primary)
        if failed:
            entry["verdict"] = "not testable here"
            entry["reason"] = "precondition failed: " + "; ".join(
                str(_get(r, "question")) for r in failed
            )
        elif entry["verdict"] == "not testable":
            entry["verdict"] = "not testable here"
            entry["reason"] = str(_get(primary, "sign", ""))
        table.append(entry)
    adjusted = dict(zip([_get(p, "claim") for p in primaries], _adjusted(primaries)))
    for entry in table:
        if entry["claim"] in adjusted and entry["verdict"] in (
            "supported",
            "contradicted",
            "inconclusive",
        ):
            entry["verdict_unadjusted"] = entry["verdict"]
            entry["verdict"] = adjusted[entry["claim"]]
    return table


def holm_adjusted(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Rows with each primary row's verdict Holm-corrected across the claims present; the
    verdict as measured is kept in `verdict_unadjusted`."""
    table = {str(e["claim"]): e for e in claim_verdicts(rows)}
    out = []
    for row in rows:
        entry = table.get(str(row.get("claim")))
        if row.get("role") == "primary" and entry and "verdict_unadjusted" in entry:
            row = {**row, "verdict": entry["verdict"], "verdict_unadjusted": row.get("verdict")}
        out.append(row)
    return out


def secondary_verdicts(rows: Iterable[Any], claim: str) -> dict[str, str]:
    """evidence_id -> the verdict of each secondary row of `claim` after Holm within it."""
    mine = [r for r in rows if _get(r, "claim") == claim and _get(r, "role") == "secondary"]
    ids = [str(_get(r, "evidence_id") or _get(r, "metric")) for r in mine]
    return dict(zip(ids, _adjusted(mine)))


def _claim_order(claim: str) -> tuple[int, str]:
    return (1, claim) if claim.upper() == "T" else (0, claim)
