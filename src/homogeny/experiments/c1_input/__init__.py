"""C1: input flattening (after Lu et al. 2026, "Adam's Law: Textual Frequency Law on Large
Language Models", arXiv 2604.02176).

The primary test (distinctions.py): near misses, prompts that differ from a common request in
what they ask but barely in wording, answered as that common request? Secondary measurements
on the paraphrase families (6 phrasings of one request, rare to common):
(a) comprehension.py: are paraphrases closer in the model's hidden states than on the surface?
(b) outputs.py: are outputs across the paraphrases of one request closer than the paraphrases
    themselves are (and, as a sanity row, than outputs across distinct requests)?
(c) rewriting.py: when simulated users rewrite their own phrasing toward frequent words (a
    synonym table, or a model asked for plain common words), does output diversity drop by
    more than the rewrite removed from the requests?
(d) frequency_law.py: the paper's test: is the high-frequency variant of an aligned pair easier
    (lower token NLL; higher accuracy on checkable questions)?
Outputs are greedy (temperature 0), so every difference between them comes from the input.
"""

from homogeny.experiments.c1_input.experiment import InputFlattening
from homogeny.experiments.c1_input.plan import Plan
from homogeny.experiments.presets import INPUT_MAX_TOKENS

# Kept until the stage game reads presets.INPUT_MAX_TOKENS itself.
MAX_TOKENS = INPUT_MAX_TOKENS

__all__ = ["MAX_TOKENS", "InputFlattening", "Plan"]
