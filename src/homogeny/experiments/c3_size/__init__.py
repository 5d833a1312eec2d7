"""C3: size and probability concentration (Shypula et al. 2025), as a package.

experiment.py (the Experiment and its Plan), measures.py (measurements on plain data), rows.py
(evidence: same-family size ladders), artifacts.py (figures), function_classes.py (the sandbox
that runs model-written functions).
"""

from __future__ import annotations

from homogeny.experiments.c3_size.experiment import (
    Plan,
    SizeConcentration,
    describe_model,
    ladder_partners,
)
from homogeny.experiments.c3_size.measures import (
    ModelRun,
    PromptMeasures,
    effective_unique,
    expected_distinct_curve,
    measure_prompt,
    size_slope,
    text_is_valid,
    vendi_within_budgets,
)
from homogeny.experiments.c3_size.rows import build_evidence, ladder_steps, ladders

# Kept importable for the thesis modules until they take it from presets (stage_games).
from homogeny.experiments.presets import require_complete

__all__ = [
    "ModelRun",
    "Plan",
    "PromptMeasures",
    "SizeConcentration",
    "build_evidence",
    "describe_model",
    "effective_unique",
    "expected_distinct_curve",
    "ladder_partners",
    "ladder_steps",
    "ladders",
    "measure_prompt",
    "require_complete",
    "size_slope",
    "text_is_valid",
    "vendi_within_budgets",
]
