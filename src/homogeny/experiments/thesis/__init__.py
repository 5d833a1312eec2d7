"""Claim T: convergence is the default but not inevitable.

Primary row (issue 16): the "not inevitable" half, the diversity a pre-registered
counter-pressure (min-p) recovers over the default at a bounded quality cost, per prompt.
Secondary: the stage decomposition on the same weights (input, format, sampling; post-
training weights only from a declared same-checkpoint pair), the pretraining level against
the random different-prompt floor, the toy game (pretraining against a shuffled-corpus
pretraining, RL on either) and the gap between the two largest stages.
"""

from __future__ import annotations

from collections.abc import Iterator

from homogeny.experiments.base import Evidence, Experiment, ExperimentContext, PrimaryRule
from homogeny.experiments.claims import THESIS
from homogeny.experiments.thesis.counter_pressures import measure_frontier
from homogeny.experiments.thesis.games import model_game
from homogeny.experiments.thesis.plan import ThesisPlan
from homogeny.experiments.thesis.rows import (
    PRIMARY_METRIC,
    best_pressure_row,
    counter_pressure_rows,
    gap_summary,
    model_game_rows,
    primary_row,
    toy_rows,
)
from homogeny.experiments.thesis.toy import PLAYERS, toy_game

__all__ = ["Thesis", "ThesisPlan"]


class Thesis(Experiment):
    """Claim T: stage decomposition by interventions on the same weights, and counter-
    pressures with a measured quality cost (see module doc)."""

    info = THESIS
    primary = PrimaryRule(
        metric=PRIMARY_METRIC,
        statistic="diversity (1 - mean pairwise MiniLM cosine) under the pre-registered "
        "counter-pressure (min-p 0.1 at T=1.5) minus under the default (T=1, top-p 0.9), "
        "per prompt, mean over prompts; not testable when the counter-pressure's accuracy or "
        "judge cost is not bounded (interval above plan.quality_bound)",
        predicted="above",
        threshold=0.0,
        unit="prompt",
        min_n=2,
    )
    Plan = ThesisPlan

    def measure(self, ctx: ExperimentContext, plan: ThesisPlan) -> Iterator[Evidence]:
        """Model game, toy game (unless plan.skip_toy), then the counter-pressures."""
        from homogeny.toy import torch_threads

        game = model_game(ctx, plan)
        rows = list(model_game_rows(ctx, game))
        artifact = game.decomposition.artifact()
        artifact.update(
            measure="mean cross-user MiniLM cosine of answers to the same request, averaged "
            "over the game's models",
            base_models=game.base_models,
            players=game.players,
            base_level=game.base_level,
            role_markers=game.role_markers,
            gap=gap_summary(rows, "stage_gap_largest_minus_next"),
        )
        ctx.artifact("T", "stage_decomposition", artifact)
        ctx.artifact("T", "examples", game.examples)
        yield from rows
        if not plan.skip_toy:
            with torch_threads(plan.torch_threads):
                toy, values, formats = toy_game(ctx, plan)
            toy_evidence = list(toy_rows(ctx, PLAYERS, values))
            ctx.artifact(
                "T",
                "toy_stage_decomposition",
                {
                    **toy.artifact(),
                    "measure": "character-level similarity",
                    "format_shares": formats,
                    "gap": gap_summary(toy_evidence, "toy_stage_gap_largest_minus_next"),
                },
            )
            yield from toy_evidence
        frontier = measure_frontier(ctx, plan)
        yield primary_row(ctx, frontier, plan)
        yield from counter_pressure_rows(ctx, frontier, plan)
        yield from best_pressure_row(frontier, ctx.seed, ctx.quick)
