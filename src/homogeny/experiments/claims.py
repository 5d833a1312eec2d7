"""The claims homogeny tests: the one place the list lives (read by CLI, audit and report).

Each entry names the experiment class that measures it, imported only when the claim runs.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class ClaimInfo:
    """A claim of the seed note: id, short title, the question it asks, the stage it is about,
    the paper it comes from and the experiment class ("module:Class") that measures it."""

    id: str
    title: str
    question: str
    stage: str
    source: str
    target: str


CLAIMS: dict[str, ClaimInfo] = {
    c.id: c
    for c in (
        ClaimInfo(
            "c1",
            "Input flattening",
            "Are distinct prompts flattened toward high-frequency forms, inside the model and "
            "in its outputs?",
            "input",
            "Lu et al. 2026, Adam's Law",
            "homogeny.experiments.c1_input:InputFlattening",
        ),
        ClaimInfo(
            "c2",
            "RL format collapse",
            "Does RL post-training collapse output formats to one within the first epoch?",
            "training",
            "Zhao et al. 2025, Echo Chamber",
            "homogeny.experiments.c2_training:RLFormatCollapse",
        ),
        ClaimInfo(
            "c3",
            "Size concentration",
            "Do bigger models give fewer distinct samples per draw?",
            "sampling",
            "Shypula et al. 2025",
            "homogeny.experiments.c3_size:SizeConcentration",
        ),
        ClaimInfo(
            "c4",
            "Artificial hivemind",
            "Do independent models converge, and does personalised framing hide it?",
            "cross-model",
            "Jiang et al. 2025, Artificial Hivemind",
            "homogeny.experiments.c4_hivemind:Hivemind",
        ),
        ClaimInfo(
            "c5",
            "Fractured internals",
            "Can identical outputs hide different internals?",
            "caveat",
            "Kumar et al. 2025, FER hypothesis",
            "homogeny.experiments.c5_internals:FracturedInternals",
        ),
        ClaimInfo(
            "c6",
            "Consistency is not reliability",
            "Is temperature 0 consistency rather than reliability?",
            "caveat",
            "Schroeder & Wood-Doughty 2024",
            "homogeny.experiments.c6_reliability:ConsistencyReliability",
        ),
        ClaimInfo(
            "c7",
            "External anchors",
            "Does self-improvement without an external anchor collapse diversity?",
            "caveat",
            "Song et al. 2024; Shafayat et al. 2025",
            "homogeny.experiments.c7_anchors:SelfImprovementAnchors",
        ),
    )
}

THESIS = ClaimInfo(
    "T",
    "Stages and counter-pressures",
    "Is convergence the default, and how much do counter-pressures remove?",
    "thesis",
    "thesis; Chen et al. 2026 as counter-view",
    "homogeny.experiments.thesis:Thesis",
)

CLAIM_IDS: tuple[str, ...] = tuple(CLAIMS)


def claim_info(claim_id: str) -> ClaimInfo:
    """The ClaimInfo of `claim_id` (c1..c7 or T), case-insensitive."""
    key = claim_id.strip()
    if key.upper() == "T":
        return THESIS
    return CLAIMS[key.lower()]
