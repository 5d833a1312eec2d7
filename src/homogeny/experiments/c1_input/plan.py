"""C1's plan: how many families, pairs and tokens a quick or full run uses."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, ClassVar

from homogeny.experiments import base
from homogeny.experiments.presets import INPUT_MAX_TOKENS

CLAIM = "c1"
# Zero-shot: with a worked example the small models copy the example instead of rewriting.
REWRITE_INSTRUCTION = (
    "Rewrite the following request using plain, everyday words. "
    "Output only the rewritten request; do not answer it."
)


@dataclass(frozen=True)
class Plan(base.Plan):
    """How much C1 generates. Counts of 0 mean "all". Quick: the suite's quick families cut to
    4 (two checkable, two open), 2 of them rewritten in (c), hidden states of the smallest
    model only, 16-token greedy outputs, 12 near misses. Full: (c) regenerates every phrasing
    twice, so it keeps 10 families (22 took ~6.6 of the full audit's 90 min)."""

    QUICK: ClassVar[dict[str, Any]] = {
        "suite_quick": True,
        "families": 4,
        "hidden_smallest_only": True,
        "max_tokens": INPUT_MAX_TOKENS[True],
        "pairs_from_file": 24,
        "pairs_from_suite": 12,
        "near_misses": 12,
        "rewrite_families": 2,  # (c) at n = 2 or 4 families the exact test cannot conclude
    }

    suite_quick: bool = False  # the paraphrase suite's own quick subset
    families: int = 0  # paraphrase families kept, kinds in turn
    hidden_smallest_only: bool = False  # (a) on the smallest local model only
    max_tokens: int = INPUT_MAX_TOKENS[False]  # greedy output length
    rewrite_families: int = 10  # (c) families whose phrasings are rewritten
    rewrite_max_tokens: int = 32  # a rewritten request is one short line
    pairs: tuple[str, ...] = ()  # (d) LOW.txt, HIGH.txt aligned pair files (Lu et al. 2026)
    pairs_from_file: int = 0  # (d) pairs read from those files
    pairs_from_suite: int = 0  # (d) checkable families used as NLL pairs
    near_misses: int = 0  # near-miss prompts (what is asked changes, the wording barely)
