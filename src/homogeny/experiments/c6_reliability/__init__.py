"""C6: temperature 0 gives consistency, not reliability (Schroeder & Wood-Doughty 2024), as a
package.

experiment.py (the Experiment and its Plan), judge.py (reading the judge's verdict
distribution), protocol.py (the paper's procedure on it, the random-judge floor and the
per-question parts of the omega), paper.py (the paper's own tables), rows.py (evidence).
"""

from __future__ import annotations

from homogeny.experiments.c6_reliability.experiment import ConsistencyReliability, Plan
from homogeny.experiments.c6_reliability.judge import (
    LETTERS,
    NO_VERDICT_CODE,
    T_ZERO,
    TEMPERATURES,
    judge_logprobs,
    letter_token_ids,
    pick_judge,
    raw_judge_prompt,
    tempered_class_probs,
)
from homogeny.experiments.c6_reliability.paper import paper_check
from homogeny.experiments.c6_reliability.protocol import (
    REPLICATIONS,
    draw_verdicts,
    fully_consistent,
    modal_correct,
    random_judge_floor,
    random_judge_verdicts,
    reliability_by_temperature,
    jackknife_scaled_omega,
    share_and_rank,
)
from homogeny.experiments.c6_reliability.rows import PRIMARY_METRIC, PRIMARY_THRESHOLD

__all__ = [
    "LETTERS",
    "NO_VERDICT_CODE",
    "PRIMARY_METRIC",
    "PRIMARY_THRESHOLD",
    "REPLICATIONS",
    "TEMPERATURES",
    "T_ZERO",
    "ConsistencyReliability",
    "Plan",
    "draw_verdicts",
    "fully_consistent",
    "judge_logprobs",
    "letter_token_ids",
    "modal_correct",
    "paper_check",
    "pick_judge",
    "random_judge_floor",
    "random_judge_verdicts",
    "raw_judge_prompt",
    "reliability_by_temperature",
    "jackknife_scaled_omega",
    "share_and_rank",
    "tempered_class_probs",
]
