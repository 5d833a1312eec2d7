"""C6's evidence rows: the judge's omega at T = 1 against a random judge's (primary), the
T = 1 majority against the T ~ 0 verdict (secondary), two rows that cannot come out
contradicted (sanity) and the paper-table reproduction (check)."""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from homogeny.experiments.base import Evidence, ExperimentContext, make_evidence, not_testable
from homogeny.experiments.c6_reliability.judge import CLAIM, T_ZERO, Distributions
from homogeny.experiments.c6_reliability.paper import PAPER_TOLERANCE, paper_check
from homogeny.experiments.c6_reliability.protocol import share_and_rank

PRIMARY_METRIC = "omega_t1_above_random_floor"
PRIMARY_THRESHOLD = 0.5  # half way from a random judge's omega to perfect agreement
PRIMARY_UNIT = "omega scaled: 0 = random judge, 1 = perfect"
PRIMARY_QUESTION = (
    "At temperature 1 (the paper's procedure), is the judge's McDonald's omega closer to a "
    "random judge's than to the perfect agreement temperature ~0 shows?"
)
PRIMARY_SIGN = (
    "the judge's omega over 100 replications at T = 1, scaled so that a uniform random judge "
    "on the same questions is 0 and perfect agreement 1; per question its jackknife "
    "pseudo-value (n x all - (n - 1) x all but it), whose mean is the bias-corrected scaled "
    "omega; below 0.5 = nearer the random judge (the claim), above = the judge is reliable "
    "at T = 1"
)


def primary_row(
    ctx: ExperimentContext,
    judge_id: str,
    parts: np.ndarray,
    plot: dict[str, Any],
) -> Evidence:
    """The primary row from the scaled omega's per-question jackknife pseudo-values, or not
    testable when omega is undefined (under two varying questions) or too few questions got a
    verdict."""
    if parts.size == 0 or not np.all(np.isfinite(parts)):
        reason = "omega at T = 1 is undefined (a single question varies, or none has a verdict)"
        return not_testable(
            CLAIM, PRIMARY_QUESTION, PRIMARY_METRIC, reason, role="primary", unit=PRIMARY_UNIT,
            subject=judge_id, threshold=PRIMARY_THRESHOLD, predicted="below",
            models=(judge_id,), quick=ctx.quick,
        )  # fmt: skip
    return ctx.evidence(
        CLAIM, PRIMARY_METRIC, parts, question=PRIMARY_QUESTION, sign=PRIMARY_SIGN,
        predicted="below", threshold=PRIMARY_THRESHOLD, unit=PRIMARY_UNIT, role="primary",
        subject=judge_id, models=[judge_id], plot=plot,
    )  # fmt: skip


def majority_row(ctx: ExperimentContext, judge_id: str, rows: list[dict[str, Any]]) -> Evidence:
    """Per question: the majority of the 100 T = 1 draws right (1/0) minus the T ~ 0 verdict
    right (1/0)."""
    one, zero = rows[0]["modal_correct"], rows[-1]["modal_correct"]
    return ctx.evidence(
        CLAIM, "t1_majority_minus_t0_accuracy", one - zero,
        question="Is the majority of 100 temperature-1 verdicts right more often than the one "
        "verdict temperature ~0 repeats?",
        sign="per question: majority of the T = 1 draws right minus the T ~ 0 verdict right; "
        "positive = replications beat the repeated draw, negative = temperature 0 buys accuracy",
        predicted="above", threshold=0.0, unit="share of questions", role="secondary",
        subject=judge_id, models=[judge_id],
        plot={"labels": ["majority at T = 1", "verdict at T ~ 0"],
              "values": [float(one.mean()), float(zero.mean())]},
    )  # fmt: skip


def consistency_row(ctx: ExperimentContext, judge_id: str, zero: dict[str, Any]) -> Evidence:
    """Sanity: at T ~ 0 every question is fully consistent, so consistency minus accuracy is
    1 - accuracy and cannot come out below 0."""
    consistent, correct = zero["consistent"], zero["modal_correct"]
    share = float(consistent.mean())
    return ctx.evidence(
        CLAIM, "consistency_minus_accuracy_t0", consistent - correct,
        question="At temperature ~0, is the judge more consistent than correct?",
        sign="share of questions whose 100 verdicts agree minus share the judge gets right; "
        "at T ~ 0 consistency is 1 by construction, so this is 1 - accuracy (sanity)",
        predicted="above", threshold=0.0, unit="share of questions", role="sanity",
        subject=judge_id, models=[judge_id],
        plot={"labels": ["fully consistent", "modal pick correct"],
              "values": [share, float(correct.mean())], "omega": zero["omega"]},
    )  # fmt: skip


def hidden_mass_row(
    ctx: ExperimentContext, judge_id: str, dists: Distributions, ids: Sequence[str]
) -> Evidence:
    """Sanity: T = 1 probability on verdicts other than the T ~ 0 one (never below 0)."""
    placed = [share_and_rank(dists[i][T_ZERO], dists[i][1.0]) for i in ids]
    hidden = np.array([1.0 - share for share, _ in placed])
    ranks = [rank for _, rank in placed]
    ctx.artifact(CLAIM, "t0_verdict_in_t1_distribution", {
        "labels": list(ids), "values": [share for share, _ in placed], "ranks": ranks,
    })  # fmt: skip
    return ctx.evidence(
        CLAIM, "t1_mass_outside_t0_verdict", hidden,
        question="How much of the temperature-1 verdict distribution does the temperature-~0 "
        "verdict leave out?",
        sign="probability mass at temperature 1 on verdicts other than the one temperature ~0 "
        "repeats; a probability, so never below 0 (sanity)",
        predicted="above", threshold=0.0, unit="probability", role="sanity",
        subject=judge_id, models=[judge_id],
        plot={"share_ranked_first": float(np.mean(np.array(ranks) == 1))},
    )  # fmt: skip


def paper_rows(ctx: ExperimentContext, folder: Path | None, judges: int | None) -> list[Evidence]:
    """Check: homogeny's omega/alpha against the paper's printed tables (skipped when the
    released judgments are not here); cached in the store by the zip's hash."""
    if folder is None:
        ctx.log("c6: the paper's released judgments are not here; skipping the table check")
        return []
    digest = hashlib.sha256((folder / "full_judgments.zip").read_bytes()).hexdigest()
    cached = ctx.store.artifact(CLAIM, "paper_table_check") or {}
    if cached.get("zip_sha256") == digest and cached.get("judges") in (None, judges):
        rows = cached["rows"]
    else:
        rows = paper_check(folder, judges)
        ctx.artifact(CLAIM, "paper_table_check", {
            "zip_sha256": digest, "judges": judges, "rows": rows,
        })  # fmt: skip
    if not rows:
        return []
    worst = max(abs(r["paper"] - r["homogeny"]) for r in rows)
    judged = sorted({r["judge"] for r in rows})
    return [make_evidence(
        CLAIM,
        "Does homogeny's omega/alpha reproduce the paper's own tables from its released "
        "judgments?",
        "paper_table_max_abs_difference",
        "largest |homogeny - paper| over judges x temperatures x {omega, alpha}; smaller is "
        "better (a software check, not evidence about the claim)",
        worst, (worst, worst), len(rows), threshold=PAPER_TOLERANCE, predicted="below",
        min_n=1, quick=ctx.quick, role="check", unit="omega / alpha",
        subject=", ".join(judged), n_units=len(rows), method="exact comparison",
        source=f"{__name__}:paper_rows", plot={"judges": judged},
    )]  # fmt: skip
