"""C2: RL post-training amplifies one format from pretraining and collapses the others.

After Zhao et al. 2025, "Echo Chamber: RL Post-training Amplifies Behaviors Learned in
Pretraining" (arXiv 2504.07912). The paper pretrained 150M and 1B transformers on math text
whose worked solutions came in three detectable formats (TinyGSM code, OpenMathInstruct-1
tagged code, OpenMathInstruct-2 natural language), then ran RL with a 0/1 correctness
reward: one format took over within the first epoch, majority@64 rose while pass@64 fell,
KL 0.01 (vs 0.001) kept minority formats alive, and the winner depended on model size.

Toy reproduction: character GPTs of three sizes (homogeny.toy.gpt), each pretrained with
several seeds on synthetic word problems in the same three formats (homogeny.toy.arithmetic),
then GRPO (homogeny.toy.rl) per RL seed, with and without a KL penalty. The independent unit
is a pretrained model; RL seeds are nested within it. Primary row: epochs until one format
makes up 90% of the samples, below 1 (collapse within the first epoch). Real models (when a
base and an instruct model of one family are given): their answers' format diversity.
"""

from __future__ import annotations

from collections.abc import Iterator

from homogeny.experiments.base import Evidence, Experiment, ExperimentContext, PrimaryRule
from homogeny.experiments.c2_training.plan import C2Plan
from homogeny.experiments.c2_training.real import (
    classify_real_format,
    format_entropy,
    real_rows,
)
from homogeny.experiments.c2_training.rows import (
    size_shuffle_null,
    toy_rows,
    winner_agreement,
)
from homogeny.experiments.c2_training.training import (
    pretrained,
    rl_checkpoint,
    summarize_run,
    toy_runs,
)
from homogeny.experiments.claims import CLAIMS
from homogeny.toy import torch_threads

__all__ = [
    "C2Plan",
    "RLFormatCollapse",
    "classify_real_format",
    "format_entropy",
    "pretrained",
    "rl_checkpoint",
    "size_shuffle_null",
    "summarize_run",
    "toy_runs",
    "winner_agreement",
]


class RLFormatCollapse(Experiment):
    """C2: does RL with a correctness reward collapse solution formats? (see module doc)."""

    info = CLAIMS["c2"]
    primary = PrimaryRule(
        metric="epochs_until_90pct_format",
        statistic="epochs of GRPO (no KL) until one format makes up 90% of a training step's "
        "samples, per pretrained model (its RL seeds averaged; a run that never gets there "
        "counts as its full length), mean over pretrained models",
        predicted="below",
        threshold=1.0,
        unit="pretrained model (size x pretraining seed)",
        min_n=6,
    )
    Plan = C2Plan

    def measure(self, ctx: ExperimentContext, plan: C2Plan) -> Iterator[Evidence]:
        """Toy runs and their rows, then the real-model row unless plan.toy_only."""
        with torch_threads(plan.torch_threads):
            runs = toy_runs(ctx, plan)
        yield from toy_rows(ctx, runs, plan)
        if ctx.models and not plan.toy_only:
            yield from real_rows(ctx, plan)
