"""The report's prose, written from the stored evidence: a sentence per claim chosen by its
verdict with the measured numbers filled in, the sources, and the questions left open.

Nothing here states a conclusion the store does not hold: a claim without evidence is said
to be not run, and every number printed comes with its interval.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from homogeny.experiments.claims import CLAIM_IDS, THESIS, ClaimInfo, claim_info
from homogeny.report import labels
from homogeny.report.plots import fmt
from homogeny.report.stage_text import (  # noqa: F401  (re-exported for build.py and tests)
    TOY_PRETRAINING,
    TOY_RL,
    interval,
    pressure_sentence,
    stage_sentence,
    toy_stage_sentence,
)

CLAIM_ORDER = (*CLAIM_IDS, THESIS.id)  # the one claim list: experiments/claims.py
CLAIMS: dict[str, ClaimInfo] = {c: claim_info(c) for c in CLAIM_ORDER}  # its words, c1..c7, T


def claim_verdict(rows: Sequence[dict[str, Any]]) -> str:
    """A claim's verdict from its rows. Rows that declare roles: the primary row's verdict
    ("not testable" when a precondition failed). Older rows: supported (or contradicted) when
    at least one row is and none points the other way; mixed when rows disagree. Not run
    without rows."""
    if not rows:
        return "not run"
    if any(r.get("role") == "precondition" and r.get("verdict") == "contradicted" for r in rows):
        return "not testable"
    primary = next((r for r in rows if r.get("role") == "primary"), None)
    if primary is not None:
        return str(primary.get("verdict") or "inconclusive")
    verdicts = {str(r.get("verdict")) for r in rows}
    if "supported" in verdicts and "contradicted" in verdicts:
        return "mixed"
    if "supported" in verdicts:
        return "supported"
    if "contradicted" in verdicts:
        return "contradicted"
    return "inconclusive"


VERDICT_RULE = (
    "A claim's verdict is its primary (pre-registered) row's, or not testable when a "
    "precondition failed; in stores whose rows name no roles, a claim is supported when at "
    "least one of its evidence rows is supported and none is contradicted, contradicted in "
    "the mirror case, mixed when rows disagree, and inconclusive otherwise."
)


def headline(rows: Sequence[dict[str, Any]]) -> dict[str, Any] | None:
    """The row that speaks for the claim: the first one whose verdict matches the claim's
    (for a mixed claim, the first supporting row), a primary row before any other."""
    if not rows:
        return None
    verdict = claim_verdict(rows)
    wanted = "supported" if verdict == "mixed" else verdict
    ranked = sorted(rows, key=lambda r: r.get("role", "primary") != "primary")
    return next((r for r in ranked if r.get("verdict") == wanted), ranked[0])


def measurement(row: dict[str, Any]) -> str:
    """`plain name: effect unit, 95% CI lo to hi, n = n` for one evidence row (never the
    raw metric id: see labels.py)."""
    return f"{labels.name(row)}: {labels.value_text(row)}, {interval(row)}"


def claim_sentence(claim: str, rows: Sequence[dict[str, Any]]) -> str:
    """The sentence the answer uses for `claim`, chosen by its verdict."""
    info, verdict = CLAIMS[claim], claim_verdict(rows)
    label = f"{claim.upper() if claim != 'T' else 'T'} ({info.stage})"
    if verdict == "not run":
        return (
            f"{label} was not run, so this report cannot say whether: {lower_first(info.statement)}"
        )
    row = headline(rows)
    assert row is not None
    if verdict == "not testable":
        reason = next(
            (
                str(r.get("sign"))
                for r in rows
                if r.get("verdict") in ("contradicted", "not testable")
                and r.get("role") in ("precondition", "primary")
            ),
            "a precondition failed",
        )
        return f"{label} could not be tested here: {reason}."
    m = measurement(row)
    written = info.sentence(verdict)
    if written:
        return written.format(m=m)
    if verdict == "mixed":
        counts = verdict_counts(rows)
        return (
            f"{label} gave mixed evidence ({counts['supported']} supported, "
            f"{counts['contradicted']} contradicted): {lower_first(info.statement)} The first "
            f"supporting measure was {m}."
        )
    return (
        f"{label} stayed open at this scale: the interval did not settle whether "
        f"{lower_first(info.statement).rstrip('.')} ({m})."
    )


def lower_first(text: str) -> str:
    """First letter lowered for use mid-sentence, unless it starts an acronym ("RL", "LLM")."""
    if not text or text[1:2].isupper():
        return text
    return text[:1].lower() + text[1:]


def verdict_counts(rows: Sequence[dict[str, Any]]) -> dict[str, int]:
    counts = {"supported": 0, "contradicted": 0, "inconclusive": 0}
    for r in rows:
        key = str(r.get("verdict"))
        counts[key] = counts.get(key, 0) + 1
    return counts


def answer_paragraphs(
    by_claim: dict[str, list[dict[str, Any]]],
    models: Sequence[str],
    stages: Any = None,
    pressures: Any = None,
    measured_on: str = "",
) -> list[str]:
    """The answer to the inquiring line, in the seed note's order: framing, the input side,
    the other engines, the caveats, and whether "inevitable" survives the evidence."""
    all_rows = [r for rows in by_claim.values() for r in rows]
    if not all_rows:
        return [
            (
                "No evidence is stored yet, so this report cannot answer the question. "
                "Run `homogeny audit --out DIR` (or `homogeny run c1` … `c7`) and rebuild it."
            )
        ]
    counts = verdict_counts(all_rows)
    run = [c for c in CLAIM_ORDER if by_claim.get(c)]
    model_text = measured_on or (", ".join(models) if models else "the stored models")
    opening = (
        "This reads the question as: if users keep rephrasing their prompts toward what models "
        "handle best, does that input-side flattening force every model's output to converge? "
        f"Measured on {model_text}, {len(run)} of {len(CLAIM_ORDER)} claims were tested "
        f"({len(all_rows)} evidence rows: {counts['supported']} supported, "
        f"{counts['contradicted']} contradicted, {counts['inconclusive']} inconclusive). "
        + engines_overview(by_claim)
    )
    paragraphs = [opening, claim_sentence("c1", by_claim.get("c1", []))]
    paragraphs.append(
        "Beyond the input channel, the other stages were tested separately. "
        + " ".join(claim_sentence(c, by_claim.get(c, [])) for c in ("c2", "c3", "c4"))
    )
    paragraphs.append(
        "Two caveats bear on what convergence means. "
        + " ".join(claim_sentence(c, by_claim.get(c, [])) for c in ("c5", "c6"))
    )
    last = [
        "The word doing the most work in the question is “inevitable”.",
        claim_sentence("c7", by_claim.get("c7", [])),
        claim_sentence("T", by_claim.get("T", [])),
    ]
    last += [
        s
        for s in (
            stage_sentence(stages),
            toy_stage_sentence(by_claim.get("T", [])),
            pressure_sentence(pressures),
        )
        if s
    ]
    paragraphs.append(" ".join(last))
    if any(r.get("quick") for r in all_rows):
        paragraphs.append(
            "Some of this evidence comes from --quick runs (fewer prompts and samples); "
            "their intervals are wider and an inconclusive verdict there is weak."
        )
    return paragraphs


def engines_overview(by_claim: dict[str, list[dict[str, Any]]]) -> str:
    """Which of the three stage engines (input, training, sampling) showed its pressure, and
    which gave mixed evidence (some measures for, some against)."""
    engines = {
        "c1": "input flattening",
        "c2": "training collapse",
        "c3": "probability concentration",
    }
    tested = [c for c in engines if by_claim.get(c)]
    verdicts = {c: claim_verdict(by_claim.get(c, [])) for c in tested}
    held = [engines[c] for c in tested if verdicts[c] == "supported"]
    mixed = [engines[c] for c in tested if verdicts[c] == "mixed"]
    if not tested:
        return "None of the three stage engines (input, training, sampling) was run."
    also = f"; {' and '.join(mixed)} gave mixed evidence" if mixed else ""
    if len(held) >= 2:
        return (
            f"Convergence is real here, driven by pressures at more than one stage stacking on top "
            f"of each other ({', '.join(held)}) rather than by one law{also}."
        )
    names = ", ".join(engines[c] for c in tested)
    if len(tested) == 1:
        shown = "showed" if held else "did not show"
        return (
            f"The one stage engine tested, {names}, {shown} its pressure unambiguously here{also}."
        )
    if len(held) == 1:
        return (
            f"Of the {len(tested)} stage engines tested ({names}), only {held[0]} showed its "
            f"pressure unambiguously at this scale{also}."
        )
    return (
        f"None of the {len(tested)} stage engines tested ({names}) showed its pressure "
        f"unambiguously at this scale{also}."
    )


def sources(by_claim: dict[str, list[dict[str, Any]]]) -> list[dict[str, Any]]:
    """One short entry per experiment: the note's question, its summary, what was measured,
    the verdict, and the paper."""
    out = []
    for c in CLAIM_ORDER:
        rows = by_claim.get(c, [])
        info = CLAIMS[c]
        measured = sorted({str(r.get("question")) for r in rows if r.get("question")})
        out.append(
            {
                "id": c,
                "anchor": anchor(c),
                "title": info.heading,
                "summary": info.summary,
                "citation": info.citation,
                "verdict": claim_verdict(rows),
                "measured": "; ".join(measured[:3]) + (" …" if len(measured) > 3 else ""),
            }
        )
    return out


def anchor(claim: str) -> str:
    return f"claim-{claim.lower()}"


def next_lines(
    by_claim: dict[str, list[dict[str, Any]]], models: Sequence[str], stages: Any = None
) -> list[str]:
    """Questions the evidence leaves open: one per inconclusive, mixed, contradicted or
    missing claim, then what small models and toy training cannot settle."""
    lines: list[str] = []
    for c in CLAIM_ORDER:
        rows, info = by_claim.get(c, []), CLAIMS[c]
        verdict, row = claim_verdict(rows), headline(rows)
        label = c.upper() if c != "T" else "T"
        if verdict == "not run":
            lines.append(
                f"{info.heading} ({label} was not run here; `homogeny audit --claims {c}` measures "
                f"it.)"
            )
        elif verdict in ("inconclusive", "mixed") and row is not None:
            lines.append(
                f"{info.heading} The interval for {labels.name(row)} ({labels.value_text(row)}, "
                f"95% CI {fmt(row.get('ci_low'))} to {fmt(row.get('ci_high'))}, n = "
                f"{row.get('n')}) "
                "did not settle it: would more prompts, more samples or larger models?"
            )
        elif verdict == "contradicted" and row is not None:
            lines.append(
                f"{label} was contradicted here ({labels.name(row)}: {labels.value_text(row)}): is "
                f"that a property of small models, or does the finding of "
                f"{info.citation.split(',')[0]} "
                "not carry over?"
            )
    if by_claim.get("c2") or by_claim.get("c7"):
        lines.append(
            "The training-stage evidence (C2, C7) comes from tiny models trained here: does RL "
            "format collapse and anchor-free self-training collapse look the same at "
            "production scale, with real reward models?"
        )
    if by_claim.get("c3") or by_claim.get("c4"):
        shown = ", ".join(models[:4]) if models else "the models measured"
        lines.append(
            f"The size and cross-model results rest on small models ({shown}): does the "
            "trend hold from 7B to frontier models, where training data overlap far more?"
        )
    if isinstance(stages, dict) and stages.get("stages"):
        lines.append(
            "The stage decomposition toggles one pressure at a time on small models: do the "
            "stages interact more at scale, and does the pretraining share grow with more "
            "shared web text, as Chen, Fortier & West (2026) would predict?"
        )
    return lines
