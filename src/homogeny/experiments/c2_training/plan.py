"""C2's plan: every number that fixes the toy experiment (field defaults = the full audit)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, ClassVar

from homogeny.errors import HomogenyError
from homogeny.experiments.base import Plan
from homogeny.toy.gpt import SIZES
from homogeny.toy.rl import RLConfig

# What determines a pretrained checkpoint (part of its key); the RL fields do not.
PRETRAIN_FIELDS = (
    "mix_code",
    "mix_tagged",
    "mix_nl",
    "max_operand",
    "corpus_docs",
    "pretrain_steps",
    "pretrain_batch",
    "pretrain_lr",
    "block_size",
)


@dataclass(frozen=True)
class C2Plan(Plan):
    """Sizes, pretraining seeds (the independent unit), RL seeds nested within each pretrained
    model, the corpus, GRPO settings and the real-model row's sizes."""

    sizes: tuple[str, ...] = ("tiny", "small", "medium")
    pretrain_seeds: int = 3  # independently pretrained models per size: the resampled unit
    rl_seeds: int = 1  # RL runs per pretrained model (nested; averaged within the model)
    # per-token k3 KL; 0.05 barely moved the toy models (the paper: 0.01 vs 0.001)
    kl_coef: float = 0.2
    mix_code: float = 0.2
    mix_tagged: float = 0.3
    mix_nl: float = 0.5
    max_operand: int = 9
    corpus_docs: int = 8000
    pretrain_steps: int = 600
    pretrain_batch: int = 32
    pretrain_lr: float = 3e-3
    block_size: int = 128
    rl_prompts: int = 48  # 6 steps of 8 prompts per epoch
    eval_prompts: int = 10
    epochs: float = 3.0
    prompts_per_step: int = 8
    group_size: int = 8
    rl_lr: float = 3e-4
    eval_k: int = 16
    max_new_tokens: int = 44
    evals_per_epoch: int = 1
    real_prompts: int = 12
    real_samples: int = 8
    real_max_tokens: int = 160
    toy_only: bool = False  # skip the real-model row
    checkpoints: bool = True  # False: checkpoints go to a temporary folder
    # The toy matrices are too small for a second thread to pay off; on a busy machine two
    # threads thrash (measured: a quick pretraining took 5 min with 2 threads, 32 s with 1).
    torch_threads: int = 1

    QUICK: ClassVar[dict[str, Any]] = {
        "sizes": ("tiny", "small"),
        "corpus_docs": 2000,
        "pretrain_steps": 150,
        "pretrain_batch": 16,  # three pretraining seeds per size in the time one took at 32
        "rl_prompts": 16,
        "eval_prompts": 8,
        "epochs": 2.0,
        "prompts_per_step": 4,
        "group_size": 4,
        "eval_k": 8,
        "max_new_tokens": 40,
        "real_prompts": 2,
        "real_samples": 3,
        "real_max_tokens": 64,
    }

    def __post_init__(self) -> None:
        unknown = [z for z in self.sizes if z not in SIZES]
        if unknown or not self.sizes:
            raise HomogenyError(
                f"c2: unknown model size {unknown[0] if unknown else ''!r}; "
                f"sizes are {', '.join(SIZES)}"
            )
        if self.pretrain_seeds < 1 or self.rl_seeds < 1:
            raise HomogenyError("c2: pretrain_seeds and rl_seeds must be at least 1")

    @property
    def mix(self) -> tuple[tuple[str, float], ...]:
        """The pretraining format mixture as (format, share) pairs."""
        return (("code", self.mix_code), ("tagged", self.mix_tagged), ("nl", self.mix_nl))

    @property
    def rl(self) -> RLConfig:
        """The GRPO settings of every RL run (kl_coef and seed are set per run)."""
        return RLConfig(
            epochs=self.epochs,
            prompts_per_step=self.prompts_per_step,
            group_size=self.group_size,
            lr=self.rl_lr,
            eval_k=self.eval_k,
            max_new_tokens=self.max_new_tokens,
            evals_per_epoch=self.evals_per_epoch,
        )

    def pretrain_settings(self) -> dict[str, Any]:
        """The fields that determine a pretrained checkpoint (hashed into its key)."""
        return {name: getattr(self, name) for name in PRETRAIN_FIELDS}
