"""C5: identical outputs can hide very different, fractured internals.

After Kumar, Clune, Lehman & Stanley 2025, "Questioning Representational Optimism in Deep
Learning: The Fractured Entangled Representation Hypothesis" (arXiv 2505.11581).

Three levels, each asking "do two systems that give the same outputs have the same insides?":
1. CPPNs (the paper's own setting, `cppn_study`; the primary row): per seed, a face picture,
   one network trained by Adam and one found by evolution (a separable CMA-ES) for it, same
   architecture, same random starts. Sweeping single weights shows whether each network's
   picture changes symmetrically (as the picture is) or fracturedly; the seed is the unit.
2. Tiny GPTs trained here (`lm_level`) on the same addition data with different seeds: on the
   prompts where their greedy answers are identical, how alike are their hidden states
   (debiased linear CKA, mutual k-NN), against a weight-noised copy of one model whose answers
   agree with the original's as often (`representation`)?
3. Real models (two named, not under --quick): the same comparison with hidden states from
   homogeny.models and the backend's weight noise.
"""

from homogeny.experiments.c5_internals.experiment import FracturedInternals, InternalsPlan
from homogeny.experiments.c5_internals.lm_level import counting_prompts, prompt_sum
from homogeny.experiments.c5_internals.representation import (
    grouped_jackknife_ci,
    matched_agreement_comparison,
)

__all__ = [
    "FracturedInternals",
    "InternalsPlan",
    "counting_prompts",
    "grouped_jackknife_ci",
    "matched_agreement_comparison",
    "prompt_sum",
]
