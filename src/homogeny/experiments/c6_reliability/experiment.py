"""C6: temperature 0 gives consistency, not reliability (after Schroeder & Wood-Doughty 2024,
"Can You Trust LLM Judgments? Reliability of LLM-as-a-Judge", arXiv 2412.12509).

Their protocol: a judge picks the best of five candidate answers ("Best Response: [[X]]"),
100 replications per question at temperatures 1, 0.75, 0.5, 0.25 and ~0, and McDonald's
omega and Cronbach's alpha over the replications x questions matrix (a question whose 100
verdicts agree counts as fully reliable). Here the judge is the largest installed model; its
verdict-letter distribution is read once per question (the prompt ends with "Best Response:
[[", so the next token is the letter) and the 100 replications are drawn from that
distribution tempered at each temperature with a seeded numpy RNG. tests/test_c6.py checks
that this gives the same verdict distribution as sampling through the engine.

Primary row: the judge's omega at T = 1 placed between a uniform random judge's omega on the
same questions (0) and perfect agreement (1), as the questions' jackknife pseudo-values (so the
question is the resampled unit, and one omega is never counted as n measurements); the claim
predicts it below 0.5 (nearer the random judge than the perfect agreement T ~ 0 shows).
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import Any, ClassVar

import numpy as np

from homogeny.experiments import base
from homogeny.experiments.base import Evidence, Experiment, ExperimentContext, PrimaryRule
from homogeny.experiments.c6_reliability.judge import (
    CLAIM,
    LETTERS,
    T_ZERO,
    Distributions,
    judge_distributions,
    pick_judge,
)
from homogeny.experiments.c6_reliability.paper import paper_data_dir
from homogeny.experiments.c6_reliability.protocol import (
    REPLICATIONS,
    one_blas_thread,
    random_judge_floor,
    reliability_by_temperature,
    jackknife_scaled_omega,
    random_judge_verdicts,
)
from homogeny.experiments.c6_reliability.rows import (
    PRIMARY_METRIC,
    PRIMARY_THRESHOLD,
    consistency_row,
    hidden_mass_row,
    majority_row,
    paper_rows,
    primary_row,
)
from homogeny.experiments.claims import CLAIMS
from homogeny.suites.prompt import Prompt


@dataclass(frozen=True)
class Plan(base.Plan):
    """How much C6 measures: judging items (0 = the whole suite, 35), replications per
    question and temperature, judges of the paper-table check (0 = all three) and where the
    paper's released judgments are ("" = ../shared/data/llm-reliability beside a checkout).
    Quick takes 9 questions, so its rows use the exact sign-flip test (null rate 0.023; the
    bootstrap at 10 questions says "supported" on null data 5.4% of the time)."""

    QUICK: ClassVar[dict[str, Any]] = {"items": 9, "paper_judges": 1}

    items: int = 0
    replications: int = REPLICATIONS
    paper_judges: int = 0
    reliability_data: str = ""


class ConsistencyReliability(Experiment):
    """C6: is a judge that repeats itself at temperature ~0 also right? (see module doc)."""

    info = CLAIMS["c6"]
    Plan = Plan
    primary = PrimaryRule(
        metric=PRIMARY_METRIC,
        statistic="the judge's McDonald's omega at T = 1 (100 replications, the paper's "
        "procedure) scaled between a uniform random judge's on the same questions (0) and "
        "perfect agreement (1); the test is on the mean of the questions' jackknife "
        "pseudo-values (Tukey), the bias-corrected scaled omega",
        predicted="below",
        threshold=PRIMARY_THRESHOLD,
        unit="judging items (questions)",
        min_n=2,
    )

    def measure(self, ctx: ExperimentContext, plan: Plan) -> Iterator[Evidence]:
        """Read the judge's verdict distributions, run the protocol and yield the primary,
        secondary, sanity and check rows."""
        from homogeny.models import model_info
        from homogeny.suites.catalog import judging_items

        judge = pick_judge(ctx.models)
        info = model_info(judge)
        items = judging_items()[: plan.items or None]
        chat = info.kind != "base"
        ctx.log(
            f"c6: judge {info.model_id} ({'chat' if chat else 'raw text'}), {len(items)} "
            f"questions x {plan.replications} replications x 5 temperatures"
        )
        dists, computed = judge_distributions(ctx, judge, items, chat)
        ids = [it.id for it in items]
        correct = np.array([LETTERS.index(it.meta["correct"]) + 1 for it in items])
        ctx.artifact(CLAIM, "judge", {
            "model": info.model_id, "chat": chat, "questions": len(items),
            "computed_now": computed,
        })  # fmt: skip
        with one_blas_thread():  # every factor analysis below: small matrices
            rows = reliability_by_temperature(dists, ids, correct, ctx.seed, plan.replications)
            floor = random_judge_floor(len(ids), ctx.seed, plan.replications)
            checks = paper_rows(
                ctx, paper_data_dir(plan.reliability_data), plan.paper_judges or None
            )
            noise = random_judge_verdicts(len(ids), ctx.seed, plan.replications)
            parts = jackknife_scaled_omega(rows[0]["verdicts"], noise)
        plot = {
            "labels": ["judge at T = 1", "uniform random judge", "judge at T ~ 0"],
            "values": [rows[0]["omega"], floor["omega"], rows[-1]["omega"]],
        }
        yield primary_row(ctx, info.model_id, parts, plot)
        yield majority_row(ctx, info.model_id, rows)
        yield consistency_row(ctx, info.model_id, rows[-1])
        yield hidden_mass_row(ctx, info.model_id, dists, ids)
        yield from checks
        store_curves(ctx, rows, floor)
        store_examples(ctx, info.model_id, items, dists)


def store_curves(
    ctx: ExperimentContext, rows: list[dict[str, Any]], floor: dict[str, float | None]
) -> None:
    """The reliability curves over temperature and the modal accuracy bars."""
    from homogeny.metrics import bootstrap_ci

    temps = [r["temperature"] for r in rows]
    ctx.artifact(CLAIM, "reliability_by_temperature", {
        "x": temps, "x_label": "temperature (last = machine epsilon)",
        "series": {
            "McDonald's omega": [r["omega"] for r in rows],
            "Cronbach's alpha": [r["alpha"] for r in rows],
            "omega of a uniform random judge": [floor["omega"]] * len(rows),
            "share fully consistent": [float(r["consistent"].mean()) for r in rows],
            "modal pick correct": [float(r["modal_correct"].mean()) for r in rows],
            "single draws correct": [r["draw_accuracy"] for r in rows],
        },
    })  # fmt: skip
    cis = [bootstrap_ci(np.mean, r["modal_correct"], seed=ctx.seed) for r in rows]
    ctx.artifact(CLAIM, "modal_accuracy_by_temperature", {
        "labels": [f"T={t:g}" for t in temps], "values": [c.point for c in cis],
        "low": [c.low for c in cis], "high": [c.high for c in cis],
    })  # fmt: skip


def store_examples(
    ctx: ExperimentContext, judge_id: str, items: Sequence[Prompt], dists: Distributions
) -> None:
    """Three questions with the T ~ 0 verdict and the T = 1 verdict shares."""
    examples = []
    names = [*LETTERS, "none"]
    for it in items[:3]:
        zero, one = dists[it.id][T_ZERO], dists[it.id][1.0]
        examples.append({"prompt": it.display, "outputs": {judge_id: [
            f"T~0 verdict: [[{names[int(np.argmax(zero))]}]] (correct: [[{it.meta['correct']}]])",
            "T=1 verdict shares: " + ", ".join(f"{n} {p:.0%}" for n, p in zip(names, one)),
        ]}})  # fmt: skip
    ctx.artifact(CLAIM, "examples", examples)
