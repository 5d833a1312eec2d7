"""C7: self-improvement without an external anchor collapses diversity; anchors rescue it.

After Song et al. 2024, "Mind the Gap: Examining the Self-Improvement Capabilities of Large
Language Models" (arXiv 2412.02674) and Shafayat et al. 2025, "Can Large Reasoning Models
Self-Train?" (arXiv 2505.21444).

Toy level (always, `toy_study`): tiny GPTs, each pretrained here from its own seed on 2-digit
addition written in four solution styles, self-train for several rounds under six filters
(toy/selftrain.py): three use only the model itself (none, majority vote, its own log-prob
verifier) and three add an external anchor (ground-truth data, a frozen round-0 checkpoint,
an exact checker). The primary row: per pretraining seed, the coverage of the known correct
solutions that the majority-vote loop loses per round minus what the anchored loops lose.

Real-model level (only when models are named and not under --quick, `real_study`): whether
each model's own verifier picks better answers than it generates (Song et al.'s
generation-verification gap; a gap that self-improvement could climb argues against the
claim), and a self-refinement loop ("improve your answer") against the same loop in which an
external lexical novelty judge picks the candidate least like earlier answers; the outcome is
scored with sentence embeddings, which the judge never sees.
"""

from homogeny.experiments.c7_anchors.experiment import SelfImprovementAnchors
from homogeny.experiments.c7_anchors.plan import AnchorsPlan

__all__ = ["AnchorsPlan", "SelfImprovementAnchors"]
