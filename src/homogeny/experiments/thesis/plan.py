"""The thesis's plan: every size of claim T's studies (field defaults = the full audit)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, ClassVar

from homogeny.errors import HomogenyError
from homogeny.experiments import base


@dataclass(frozen=True)
class ThesisPlan(base.Plan):
    """Requests and samples of the model game, the toy game's training, the counter-pressure
    prompts, and an optional same-checkpoint pair ("BASE_SPEC,TUNED_SPEC") that identifies
    the post-training weights player."""

    requests: int = 8  # open paraphrase families of the model game
    sampled: int = 2  # samples per phrasing at temperature 1 (3 took ~7 min of the game's 8)
    raw_format: bool = True  # the format player (chat template vs raw prompt)
    role_markers: bool = True  # the third format level ("User:/Assistant:" frame)
    game_models: int = 0  # instruct models in the model game, smallest first (0 = all named)
    pair: str = ""  # "BASE_SPEC,TUNED_SPEC": a same-checkpoint pair for the weights player
    skip_toy: bool = False
    toy_size: str = "tiny"
    toy_models: int = 2  # independently initialised toy models (pairs compared)
    toy_corpus_docs: int = 3000
    toy_pretrain_steps: int = 300
    toy_pretrain_batch: int = 16
    toy_rl_prompts: int = 24
    toy_rl_epochs: float = 2.0
    toy_problems: int = 32  # held-out problems measured
    toy_samples: int = 8  # answers per problem and model at temperature 1
    open_prompts: int = 12  # percentile-bootstrap null rate at 12 prompts 4.6% (10: 5.4%)
    closed_prompts: int = 8
    samples: int = 4  # outputs per prompt and counter-pressure
    primary_pressure: str = "min-p"  # the counter-pressure the primary row is about
    # the instruct model the counter-pressures push: "largest" named, or "smallest" (quick:
    # the 135M model samples ~3x faster than the 0.5B one; no "smaller model" pressure then)
    pressure_model: str = "largest"
    quality_bound: float = 0.1  # largest acceptable quality cost (share of samples)
    checkpoints: bool = True  # False: toy checkpoints go to a temporary folder
    torch_threads: int = 1

    QUICK: ClassVar[dict[str, Any]] = {
        "requests": 3,
        "sampled": 1,
        "role_markers": False,
        "game_models": 1,  # the format player doubles the game; quick keeps one model
        "toy_corpus_docs": 1000,
        "toy_pretrain_steps": 80,
        "toy_rl_prompts": 8,
        "toy_rl_epochs": 1.0,
        "toy_problems": 12,
        "toy_samples": 4,
        "open_prompts": 3,
        "closed_prompts": 2,
        "samples": 3,
        "pressure_model": "smallest",
    }

    def __post_init__(self) -> None:
        if self.pair and len([s for s in self.pair.split(",") if s.strip()]) != 2:
            raise HomogenyError(
                f"T: pair={self.pair!r} needs two model specs, BASE_SPEC,TUNED_SPEC"
            )
        if self.pressure_model not in ("largest", "smallest"):
            raise HomogenyError(
                f"T: pressure_model={self.pressure_model!r} must be 'largest' or 'smallest'"
            )
        if self.toy_models < 2:
            raise HomogenyError("T: toy_models must be at least 2 (pairs of models are compared)")

    @property
    def pair_specs(self) -> tuple[str, str] | None:
        """(base spec, tuned spec) of the declared same-checkpoint pair, or None."""
        if not self.pair:
            return None
        a, b = (s.strip() for s in self.pair.split(","))
        return a, b
