"""Claim T's evidence rows: the counter-pressure row (primary), the stage shares of the model
and toy games, the gap between the two largest stages, the pretraining level and the weights
player (identified only by a declared same-checkpoint pair)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import numpy as np

from homogeny.experiments.evidence import Evidence, make_evidence, not_testable
from homogeny.experiments.thesis.counter_pressures import Frontier
from homogeny.experiments.thesis.games import EXAMPLE_PAIR, ModelGame
from homogeny.experiments.thesis.plan import ThesisPlan
from homogeny.experiments.thesis.quality import paired_values
from homogeny.experiments.thesis.stages import leading_gap, unit_shapley

PRIMARY_METRIC = "counter_pressure_diversity_gain"
COSINE = "cosine (MiniLM)"


def primary_row(ctx: Any, f: Frontier, plan: ThesisPlan) -> Evidence:
    """The thesis's "not inevitable" row: diversity the pre-registered counter-pressure
    (plan.primary_pressure) recovers over the default, per prompt, when its quality cost is
    bounded; not testable when that pressure was not run or its cost is not bounded."""
    q = (
        "Is convergence not inevitable: does the pre-registered counter-pressure recover "
        "diversity over the default at a bounded quality cost?"
    )
    names = {s.name: s for s in f.pressures}
    if plan.primary_pressure not in names:
        return not_testable(
            "T",
            q,
            PRIMARY_METRIC,
            f"{plan.primary_pressure} was not run",
            role="primary",
            unit="prompt",
        )
    point = next(p for p in f.points if p["name"] == plan.primary_pressure)
    cost_high = max(point.get("accuracy_cost_high", 0.0), point.get("judge_cost_high", 0.0))
    if cost_high > plan.quality_bound:
        reason = (
            f"its quality cost is not bounded: the interval on the accuracy or judge cost "
            f"reaches above {plan.quality_bound:g} of samples"
        )
        return not_testable(
            "T",
            q,
            PRIMARY_METRIC,
            reason,
            role="primary",
            unit="prompt",
            subject=plan.primary_pressure,
        )
    gains = paired_values(f.scores["default"].diversity, f.scores[plan.primary_pressure].diversity)
    return ctx.evidence(
        "T",
        PRIMARY_METRIC,
        gains,
        question=q,
        sign="positive = more diverse outputs (1 - mean pairwise MiniLM cosine) than the default "
        "(T=1, top-p 0.9), with the quality cost's interval under the bound",
        unit="prompt",
        role="primary",
        subject=plan.primary_pressure,
        models=[point["model"]],
    )


def counter_pressure_rows(ctx: Any, f: Frontier, plan: ThesisPlan) -> Iterator[Evidence]:
    """Per counter-pressure: its accuracy cost on closed prompts (secondary), predicted below
    the quality bound."""
    for s in f.pressures:
        cost = paired_values(f.scores[s.name].accuracy, f.scores["default"].accuracy)
        if len(cost):
            yield ctx.evidence(
                "T",
                "counter_pressure_accuracy_cost",
                cost,
                question="How much accuracy against the known answer (per sample) does the "
                "counter-pressure cost on closed tasks?",
                sign="positive = fewer right answers than the default; supported = below the bound",
                predicted="below",
                threshold=plan.quality_bound,
                unit="share of samples",
                role="secondary",
                subject=s.name,
            )


def model_game_rows(ctx: Any, game: ModelGame) -> Iterator[Evidence]:
    """Sanity: convergence by default; secondary: each player's Shapley value, the gap
    between the two largest, the pretraining level, the role-marker level; the weights
    player's row when no pair identifies it."""
    models = game.game_models
    common = [r for r in game.cross_same if r in game.cross_other]
    excess = [game.cross_same[r] - game.cross_other[r] for r in common]
    if excess:
        yield ctx.evidence(
            "T",
            "convergence_above_random_pairs",
            excess,
            question="Are answers to the same request more alike than answers to different "
            "requests (users' own phrasings, temperature 1)?",
            sign="positive = same-request answers are closer than the random-pair floor",
            unit=COSINE,
            role="sanity",
            subject=f"cross-{game.cross_by}",
            models=models,
        )
    per_unit = unit_shapley(game.players, game.values)
    for i, stage in enumerate(game.players):
        yield ctx.evidence(
            "T",
            "stage_shapley_value",
            per_unit[:, i],
            question="How much cross-user convergence does switching this stage's pressure on "
            "add on the same weights (Shapley value over the toggled stages)?",
            sign="positive = the stage raises cross-user similarity",
            unit=COSINE,
            role="secondary",
            subject=stage,
            models=models,
            plot=game.decomposition.artifact() if i == 0 else None,
        )
    yield from gap_row(ctx, game.players, game.values, models, "stage_gap_largest_minus_next")
    yield from pretraining_rows(ctx, game)
    if game.role_markers:
        yield ctx.evidence(
            "T",
            "format_role_markers_effect",
            list(game.role_markers.values()),
            question="Do role markers alone (a bare User:/Assistant: frame on the raw prompt) "
            "raise cross-user convergence?",
            sign="positive = the frame raises cross-user similarity",
            unit=COSINE,
            role="secondary",
            subject=", ".join(models),
            models=models,
        )
    if game.weights_pair is None:
        yield not_testable(
            "T",
            "Does post-training the weights (same checkpoint, base vs tuned) add convergence?",
            "stage_shapley_value",
            "not identified on these models: no same-checkpoint base/instruct pair is named; "
            f"declare one with pair=BASE_SPEC,TUNED_SPEC (e.g. Qwen2.5-7B and "
            f"Qwen2.5-7B-Instruct behind vLLM: {EXAMPLE_PAIR})",
            role="secondary",
            unit=COSINE,
            subject="weights",
            quick=ctx.quick,
        )


def gap_row(
    ctx: Any, players: list[str], values: np.ndarray, models: list[str], metric: str
) -> Iterator[Evidence]:
    """The largest stage's Shapley value minus the runner-up's, per unit: the report names a
    largest stage only when this row is supported (its interval excludes 0)."""
    if len(players) < 2:
        return
    top, second, gap = leading_gap(players, values)
    yield ctx.evidence(
        "T",
        metric,
        gap,
        question="Is the stage with the largest Shapley value larger than the next one? Only "
        "when supported is it named the largest, and only then compared with Chen, Fortier & "
        "West 2026 (who place convergence in pretraining).",
        sign="positive = the first named stage adds more convergence than the second",
        unit=COSINE,
        role="secondary",
        subject=f"{top} - {second}",
        models=list(models),
    )


def pretraining_rows(ctx: Any, game: ModelGame) -> Iterator[Evidence]:
    """The level convergence starts from in the base models: above the random different-
    prompt floor, and against the model's own resampling of one phrasing."""
    level = game.base_level
    if not level:
        return
    subject = ", ".join(game.base_models)
    yield ctx.evidence(
        "T",
        "pretraining_level_above_floor",
        [v["same"] - v["floor"] for v in level.values()],
        question="Where does convergence start: how far above the random different-prompt "
        "floor are base-model answers of different users to the same request (Chen, Fortier & "
        "West 2026)?",
        sign="positive = base-model answers to one request are closer than random pairs",
        unit=COSINE,
        role="secondary",
        subject=subject,
        models=game.base_models,
    )
    resample = [v["same"] - v["resample"] for v in level.values() if "resample" in v]
    if resample:
        yield ctx.evidence(
            "T",
            "pretraining_level_vs_resampling",
            resample,
            question="Are base-model answers of different users to one request as alike as the "
            "model's own resamples of one phrasing?",
            sign="negative = different users' answers are less alike than one user's resamples",
            unit=COSINE,
            role="secondary",
            subject=subject,
            models=game.base_models,
        )


def toy_rows(ctx: Any, players: list[str], values: np.ndarray) -> Iterator[Evidence]:
    """The toy game's Shapley values of pretraining and RL per problem, and their gap."""
    per_unit = unit_shapley(players, values)
    for stage in ("pretraining", "post-training (RL)"):
        yield ctx.evidence(
            "T",
            "toy_stage_shapley_value",
            per_unit[:, players.index(stage)],
            question="In toy models trained here, how much cross-model convergence does this "
            "stage add (pretraining against a shuffled-corpus pretraining; RL on either)?",
            sign="positive = the stage makes two models' answers to one problem more alike",
            unit="character similarity",
            role="secondary",
            subject=stage,
            models=["toy-gpt"],
        )
    yield from gap_row(ctx, players, values, ["toy-gpt"], "toy_stage_gap_largest_minus_next")


def best_pressure_row(f: Frontier, seed: int, quick: bool = False) -> Iterator[Evidence]:
    """The best counter-pressure's diversity gain, Bonferroni-adjusted over all tried."""
    from homogeny.metrics import bootstrap_ci

    if not f.points:
        return
    best = max(f.points, key=lambda p: p.get("diversity_gain", 0.0))
    gains = paired_values(f.scores["default"].diversity, f.scores[best["name"]].diversity)
    if len(gains) < 2:
        return
    confidence = 1 - 0.05 / len(f.points)
    b = bootstrap_ci(np.mean, gains, seed=seed, confidence=confidence)
    yield make_evidence(
        "T",
        "Does the best counter-pressure tried recover diversity (interval Bonferroni-"
        "adjusted over all tried)?",
        "best_counter_pressure_diversity_gain",
        "positive = more diverse than the default",
        b.point,
        (b.low, b.high),
        len(gains),
        role="check",
        unit="prompt",
        subject=best["name"],
        method="bootstrap (Bonferroni)",
        quick=quick,
        min_n=10,  # a percentile bootstrap gives no verdict under 10 prompts
        n_units=len(gains),
        plot={
            "labels": [p["name"] for p in f.points],
            "values": [p.get("diversity_gain", 0.0) for p in f.points],
            "low": [p.get("gain_low", 0.0) for p in f.points],
            "high": [p.get("gain_high", 0.0) for p in f.points],
        },
    )


def gap_summary(rows: list[Evidence], metric: str) -> dict[str, object] | None:
    """The gap row as the stage artifact carries it (the report names a largest stage only
    when `low` > 0): {top, second, effect, low, high, verdict}; None without one."""
    for r in rows:
        if r.metric == metric:
            top, _, second = r.subject.partition(" - ")
            return {
                "top": top,
                "second": second,
                "effect": r.effect,
                "low": r.ci_low,
                "high": r.ci_high,
                "verdict": r.verdict,
            }
    return None
