"""C7's plan: the toy self-training sizes plus the seeds and the real-model level."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import Any, ClassVar

from homogeny.experiments.base import Plan
from homogeny.toy.selftrain import SelfTrainConfig


@dataclass(frozen=True)
class AnchorsPlan(Plan, SelfTrainConfig):
    """C7's sizes: the toy self-training fields (SelfTrainConfig's, at their full values) plus
    the seeds and the real-model level. --quick keeps the toy study near a minute on 2 cores.

    Every seed pretrains its own model (`shared_pretraining=False`), so seeds are independent
    units; with `shared_pretraining` they are not, and the toy rows count one unit."""

    seeds: int = 8
    shared_pretraining: bool = False
    torch_threads: int = 1
    checkpoints: bool = True
    # The real-model level (first 3 named models; never under --quick).
    gap_questions: int = 12
    gap_samples: int = 2
    refine_prompts: int = 6
    refine_rounds: int = 3
    refine_candidates: int = 3

    # --quick: 3 self-training seeds on one pretrained model (pretraining is ~30% of the
    # quick run; three would make it ~55% slower), so its toy rows count one unit and stay
    # inconclusive; the full plan's 8 independent seeds are the fewest near which the exact
    # sign-flip test has power (under 6 it can never reach p <= 0.025).
    QUICK: ClassVar[dict[str, Any]] = {
        "seeds": 3,
        "shared_pretraining": True,
        "pretrain_texts": 2000,
        "pretrain_steps": 500,
        "pretrain_batch": 32,
        "problems_per_round": 12,
        "samples_per_problem": 4,
        "finetune_steps": 10,
        "batch_size": 16,
        "eval_problems": 12,
        "eval_samples": 4,
    }

    def toy_config(self) -> SelfTrainConfig:
        """The self-training settings alone, as toy/selftrain.py takes them."""
        names = [f.name for f in dataclasses.fields(SelfTrainConfig)]
        return SelfTrainConfig(**{name: getattr(self, name) for name in names})
