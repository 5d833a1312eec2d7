"""Claim verdicts: the primary row's, Holm-corrected across the run's claims."""

from __future__ import annotations

from homogeny.experiments.verdicts import claim_verdicts, holm_adjusted, secondary_verdicts


def _row(claim: str, p: float, verdict: str = "supported", role: str = "primary", **kw: object):
    return {
        "claim": claim,
        "metric": f"{claim}_m",
        "role": role,
        "verdict": verdict,
        "p_value": p,
        "effect": 1.0,
        "ci_low": 0.5,
        "ci_high": 1.5,
        "question": "q",
        **kw,
    }


def test_holm_across_claims_demotes_the_weakest_support() -> None:
    rows = [
        _row("c1", 0.001),
        _row("c2", 0.02),
        _row("c3", 0.02),
        _row("c1", 0.0001, role="secondary"),
    ]
    table = {e["claim"]: e for e in claim_verdicts(rows)}
    assert table["c1"]["verdict"] == "supported"  # 0.001 <= 0.025 / 3
    # 0.02 > 0.025 / 2: supported alone, not once three claims are tested
    assert table["c2"]["verdict"] == "inconclusive"
    assert table["c2"]["verdict_unadjusted"] == "supported"
    adjusted = holm_adjusted(rows)
    assert [r["verdict"] for r in adjusted] == [
        "supported",
        "inconclusive",
        "inconclusive",
        "supported",
    ]


def test_failed_precondition_makes_a_claim_not_testable() -> None:
    rows = [
        _row("c4", 0.001),
        _row("c4", 0.001, verdict="contradicted", role="precondition", question="two models"),
    ]
    (entry,) = claim_verdicts(rows)
    assert entry["verdict"] == "not testable here" and "two models" in entry["reason"]


def test_a_not_testable_primary_says_why() -> None:
    rows = [
        {
            "claim": "c3",
            "metric": "m",
            "role": "primary",
            "verdict": "not testable",
            "sign": "one model per family",
        }
    ]
    (entry,) = claim_verdicts(rows)
    assert entry["verdict"] == "not testable here" and entry["reason"] == "one model per family"


def test_secondary_rows_are_corrected_within_their_claim() -> None:
    rows = [
        _row("c5", 0.01, role="secondary", evidence_id="a"),
        _row("c5", 0.03, role="secondary", evidence_id="b"),
    ]
    assert secondary_verdicts(rows, "c5") == {"a": "supported", "b": "inconclusive"}
