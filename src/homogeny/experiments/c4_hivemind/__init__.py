"""C4: the artificial hivemind (Jiang et al. 2025), as a package.

experiment.py (the Experiment and its Plan), similarity.py and disguise.py (measurements on
plain arrays), samples.py (what was sampled), rows.py (evidence), artifacts.py (figures),
srt.py (the published SRT protocol, `--protocol srt`: secondary rows beside the study's figures).
"""

from __future__ import annotations

from homogeny.experiments.c4_hivemind.disguise import (
    cross_group_baselines,
    disguise_gap,
    disguise_table,
)
from homogeny.experiments.c4_hivemind.experiment import Hivemind, Plan, persona_request_prompts
from homogeny.experiments.c4_hivemind.rows import PRIMARY_METRIC, PRIMARY_THRESHOLD
from homogeny.experiments.c4_hivemind.similarity import (
    hivemind_by_prompt,
    inter_similarity_by_prompt,
    intra_similarity,
    random_baseline_by_prompt,
    share_above,
    similarity_matrix,
)
from homogeny.experiments.presets import HIVEMIND_MIN_P, HIVEMIND_TOP_P
from homogeny.suites.catalog import interleave_categories

# Kept importable for the thesis (counter_pressures) until it takes these from presets.py
# (HIVEMIND_TOP_P, HIVEMIND_MAX_TOKENS) and suites.catalog (interleave_categories).
TOP_P = dict(HIVEMIND_TOP_P)
MIN_P = dict(HIVEMIND_MIN_P)
QUICK = Plan.quick()
FULL = Plan.full()

__all__ = [
    "FULL",
    "MIN_P",
    "PRIMARY_METRIC",
    "PRIMARY_THRESHOLD",
    "QUICK",
    "TOP_P",
    "Hivemind",
    "Plan",
    "cross_group_baselines",
    "disguise_gap",
    "disguise_table",
    "hivemind_by_prompt",
    "inter_similarity_by_prompt",
    "interleave_categories",
    "intra_similarity",
    "persona_request_prompts",
    "random_baseline_by_prompt",
    "share_above",
    "similarity_matrix",
]
