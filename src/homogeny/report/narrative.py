"""The report's prose, written from the stored evidence: a sentence per claim chosen by its
verdict with the measured numbers filled in, the sources, and the questions left open.

Nothing here states a conclusion the store does not hold: a claim without evidence is said
to be not run, and every number printed comes with its interval.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from homogeny.report import labels
from homogeny.report.claim_text import CLAIMS, SENTENCES, ClaimInfo
from homogeny.report.plots import fmt

CLAIM_ORDER = ("c1", "c2", "c3", "c4", "c5", "c6", "c7", "T")
__all__ = ["CLAIMS", "SENTENCES", "ClaimInfo"]


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


def interval(row: dict[str, Any]) -> str:
    """`95% CI lo to hi, n = n` for one evidence row."""
    return f"95% CI {fmt(row.get('ci_low'))} to {fmt(row.get('ci_high'))}, n = {row.get('n')}"


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
    if verdict in SENTENCES.get(claim, {}):
        return SENTENCES[claim][verdict].format(m=m)
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
    if len(held) == 1:
        return (
            f"Of the {len(tested)} stage engines tested, only {held[0]} showed its pressure "
            f"unambiguously at this scale{also}."
        )
    return (
        f"None of the {len(tested)} stage engines tested showed its pressure unambiguously at "
        f"this scale{also}."
    )


def stage_sentence(data: Any) -> str:
    """Which stage the Shapley decomposition credits most, and what that says about the
    counter-view that convergence is rooted in pretraining (Chen, Fortier & West 2026)."""
    if not isinstance(data, dict) or not data.get("stages") or not data.get("shapley"):
        return ""
    stages, shap = list(data["stages"]), list(data["shapley"])
    if len(stages) != len(shap):
        return ""
    low, high = (
        list(data.get("low") or [None] * len(shap)),
        list(data.get("high") or [None] * len(shap)),
    )
    gap = data.get("gap")  # claim T: the largest stage is named only when this excludes 0
    if isinstance(gap, dict) and not (
        gap.get("verdict", "supported") == "supported"
        and (gap.get("low", 0) > 0 or gap.get("high", 0) < 0)
    ):
        return (
            f"No stage is clearly the largest: the test of {gap.get('top')} minus "
            f"{gap.get('second')} ({fmt(gap.get('low'))} to {fmt(gap.get('high'))}) does not "
            "exclude 0, so the decomposition neither agrees nor disagrees with Chen, Fortier & "
            "West (2026)."
        )
    order = sorted(range(len(shap)), key=lambda i: -(shap[i] or 0.0))
    if isinstance(gap, dict) and gap.get("top") in stages:
        order.insert(0, order.pop(order.index(stages.index(gap["top"]))))
    top = order[0]
    total = data.get("total") if isinstance(data.get("total"), (int, float)) else sum(shap)
    share = f"{shap[top] / total:.0%} of " if total else ""
    t_ci = (
        f", 95% CI {fmt(data['total_low'])} to {fmt(data['total_high'])}"
        if isinstance(data.get("total_low"), (int, float))
        and isinstance(data.get("total_high"), (int, float))
        else ""
    )
    text = (
        f"The stage decomposition credits {share}the measured convergence (total "
        f"{fmt(total)}{t_ci}) "
        f"to {stages[top]} (Shapley value {fmt(shap[top])}, 95% CI {fmt(_at(low, top))} to "
        f"{fmt(_at(high, top))})"
    )
    if len(order) > 1:
        text += f", then {stages[order[1]]} ({fmt(shap[order[1]])})"
    text += "."
    top_name = str(stages[top]).lower()
    if "pretrain" in top_name or "base" in top_name:
        text += (
            " That sides with the counter-view of Chen, Fortier & West (2026): convergence is "
            "already rooted in pretraining, and post-training moves it only a little."
        )
    elif "post" in top_name or "train" in top_name or "rl" in top_name.split():
        text += (
            " That goes against the counter-view of Chen, Fortier & West (2026), who trace "
            "convergence to pretraining: here post-training moved it more."
        )
    else:
        text += (
            " The counter-view of Chen, Fortier & West (2026) traces convergence to "
            f"pretraining; here {stages[top]} mattered more."
        )
    return text


TOY_PRETRAINING, TOY_RL = "toy stage share: pretraining", "toy stage share: post-training (RL)"


def toy_stage_sentence(rows: Sequence[dict[str, Any]]) -> str:
    """The decomposition on the tiny models trained here, where pretraining and RL are both
    under control: which of the two accounts for more of their cross-model convergence."""
    by_metric = {str(r.get("metric")): r for r in rows}
    by_metric.update(  # T's fixed id since issue 16: the stage is the row's subject
        {
            f"toy stage share: {r.get('subject')}": r
            for r in rows
            if r.get("metric") == "toy_stage_shapley_value"
        }
    )
    pre, rl = by_metric.get(TOY_PRETRAINING), by_metric.get(TOY_RL)
    if pre is None or rl is None:
        return ""
    text = (
        f"In the tiny models trained here on one corpus, pretraining accounts for "
        f"{fmt(pre.get('effect'))} ({interval(pre)}) of their cross-model convergence (Shapley "
        f"value) and RL for {fmt(rl.get('effect'))} ({interval(rl)})"
    )
    if float(rl["ci_high"]) < 0:
        text += "; RL pulled the models apart"
    if float(pre["ci_low"]) > float(rl["ci_high"]):
        text += ": there convergence is rooted in pretraining, as Chen, Fortier & West (2026) find."
    elif float(rl["ci_low"]) > float(pre["ci_high"]):
        text += (
            ": there RL added more convergence than pretraining, against Chen, Fortier & West "
            "(2026)."
        )
    else:
        text += ": the two intervals overlap, so the toy level does not separate them."
    return text


def _at(values: list[Any], i: int) -> Any:
    return values[i] if i < len(values) else None


def pressure_sentence(points: Any) -> str:
    """How many counter-pressures recovered diversity with an interval above zero, the one
    that recovered most, and what it cost."""
    if not isinstance(points, list):
        return ""
    pts = [
        p
        for p in points
        if isinstance(p, dict) and isinstance(p.get("diversity_gain"), (int, float))
    ]
    if not pts:
        return ""
    clear = [p for p in pts if isinstance(p.get("gain_low"), (int, float)) and p["gain_low"] > 0]
    best = max(pts, key=lambda p: p["diversity_gain"])
    head = (
        f"Of {len(pts)} counter-pressures tried, {len(clear)} recovered diversity with a 95% "
        "interval above zero"
    )
    return (
        f"{head}; the largest gain came from {best.get('name')} ({fmt(best['diversity_gain'])}, "
        f"95% CI {fmt(best.get('gain_low'))} to {fmt(best.get('gain_high'))}) at a quality cost "
        f"of {fmt(best.get('quality_cost'))} (95% CI {fmt(best.get('cost_low'))} to "
        f"{fmt(best.get('cost_high'))})."
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
                "title": info.title,
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
                f"{info.title} ({label} was not run here; `homogeny audit --claims {c}` measures "
                f"it.)"
            )
        elif verdict in ("inconclusive", "mixed") and row is not None:
            lines.append(
                f"{info.title} The interval for {labels.name(row)} ({labels.value_text(row)}, "
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
