"""C5's experiment class and plan: CPPN sweeps (the primary), tiny GPTs, real models."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any, ClassVar

from homogeny.experiments.base import (
    Evidence,
    Experiment,
    ExperimentContext,
    Plan,
    PrimaryRule,
)
from homogeny.experiments.claims import CLAIMS


@dataclass(frozen=True)
class InternalsPlan(Plan):
    """C5's sizes (defaults = the full plan). --quick keeps the CPPN level near 20 s of CPU.

    `seeds` is the number of independent units of the primary row: each seed draws its own
    target face and fits one SGD and one searched network to it."""

    seeds: int = 8
    image_size: int = 32
    sgd_steps: int = 3000
    restarts: int = 4
    restart_steps: int = 300
    search_generations: int = 2000
    search_population: int = 16
    search_sigma: float = 0.3
    deltas: tuple[float, ...] = (-1.5, -1.0, -0.5, -0.25, 0.25, 0.5, 1.0, 1.5)
    lm_size: str = "small"
    lm_steps: int = 1500
    lm_batch: int = 64
    lm_lr: float = 6e-3
    lm_train: int = 4000
    lm_test: int = 300
    noise_scales: tuple[float, ...] = (0.02, 0.05, 0.1, 0.2, 0.4, 0.8)
    real_models: bool = True
    real_prompts: int = 32
    real_noise_scales: tuple[float, ...] = (0.002, 0.005, 0.01, 0.02, 0.05)  # LMs break ~0.05
    checkpoints: bool = True
    torch_threads: int = 1

    # --quick: 2 seeds, so the primary row (exact sign-flip over seeds, n >= 6 required) is
    # always inconclusive there; the full plan's 8 seeds can reach p <= 0.025.
    QUICK: ClassVar[dict[str, Any]] = {
        "seeds": 2,
        "image_size": 24,
        "sgd_steps": 1200,
        "restarts": 3,
        "restart_steps": 150,
        "search_generations": 1000,
        "deltas": (-1.5, -0.5, 0.5, 1.5),
        "lm_steps": 700,
        "lm_train": 2000,
        "lm_test": 200,
        "noise_scales": (0.05, 0.2, 0.8),
        "real_models": False,
        "real_prompts": 16,
        "real_noise_scales": (0.005,),
    }


class FracturedInternals(Experiment):
    """C5 experiment: same outputs, different insides (CPPN sweeps, toy GPTs, real models)."""

    info = CLAIMS["c5"]
    Plan = InternalsPlan
    primary = PrimaryRule(
        metric="sweep_asymmetry_sgd_minus_search",
        statistic="per seed: mean over the weights of a face CPPN of the left-right asymmetry "
        "of the image change a single-weight sweep causes, SGD-trained network minus a network "
        "of the same architecture found by evolution (separable CMA-ES) for the same picture; "
        "> 0 = the SGD network's responses are more fractured",
        predicted="above",
        threshold=0.0,
        unit="seed",
        min_n=6,
    )

    def measure(self, ctx: ExperimentContext, plan: InternalsPlan) -> Iterator[Evidence]:
        """CPPN rows (precondition, primary, secondary, check), then the toy GPT rows, then
        (plan.real_models, two models named) the real-model rows."""
        from homogeny import toy
        from homogeny.experiments.c5_internals import cppn_study, lm_level

        with toy.torch_threads(plan.torch_threads):
            fits = cppn_study.fit_seeds(ctx, plan)
            cppn_study.store_artifacts(ctx, plan, fits)
            yield from cppn_study.cppn_rows(ctx, plan, fits, self.primary)
            yield from lm_level.toy_lm_rows(ctx, plan)
        if not plan.real_models:
            ctx.log(
                "c5: --quick measures the trained-here levels; the real-model level runs "
                "without --quick"
            )
            return
        yield from lm_level.real_model_rows(ctx, plan)
