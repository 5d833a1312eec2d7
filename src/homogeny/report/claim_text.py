"""What each claim says, in words: its title, stage, statement, summary and source, and one
answer sentence per verdict with {m} for the headline measurement."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class ClaimInfo:
    """What a claim says, where it sits in the pipeline, and the paper it comes from."""

    id: str
    title: str
    stage: str
    statement: str
    summary: str
    citation: str


CLAIMS: dict[str, ClaimInfo] = {
    c.id: c
    for c in (
        ClaimInfo(
            "c1",
            "Does high-frequency text homogenize user input before generation?",
            "input",
            "Prompts drift toward high-frequency phrasings, and distinct prompts are flattened at "
            "comprehension time (“Adam's Law”).",
            "Models are most accurate on high-frequency phrasings; the same property flattens "
            "distinct prompts into their common form before generation starts.",
            "Lu et al. 2026, “Adam's Law: Textual Frequency Law on Large Language Models”, arXiv "
            "2604.02176",
        ),
        ClaimInfo(
            "c2",
            "Does RL training collapse format diversity in pretrained models?",
            "post-training",
            "RL post-training amplifies one format from pretraining within the first epoch and "
            "collapses the others; which format wins depends on scale.",
            "In controlled runs RL amplifies one pretraining format within the first epoch and "
            "collapses the alternatives; the winner depends on model scale, not on which format is"
            " better.",
            "Zhao et al. 2025, “Echo Chamber: RL Post-training Amplifies Behaviors Learned in "
            "Pretraining”, arXiv 2504.07912",
        ),
        ClaimInfo(
            "c3",
            "Why aren't bigger models better for generating diverse outputs?",
            "sampling",
            "Bigger models concentrate probability mass, so they give fewer distinct samples per "
            "draw.",
            "Larger models put more probability on their preferred outputs, so within a fixed "
            "budget they yield fewer distinct samples (the seed states this more strongly than the"
            " paper).",
            "Shypula et al. 2025, arXiv 2504.12522",
        ),
        ClaimInfo(
            "c4",
            "Does AI homogenize culture the way mass media did?",
            "across models",
            "Independent models converge on the same outputs, and personalised framing hides the "
            "sameness from each single user.",
            "Independent, nominally competing LLMs produce strikingly similar open-ended outputs; "
            "per-user framing makes the sameness invisible to any single user.",
            "Jiang et al. 2025, “Artificial Hivemind”, arXiv 2510.22954",
        ),
        ClaimInfo(
            "c5",
            "Can identical outputs hide broken internal representations?",
            "internals",
            "Identical outputs can hide very different, fractured internal representations.",
            "Networks trained by SGD can reproduce a target output exactly while their internal "
            "structure is fractured and entangled, unlike networks found by open-ended search.",
            "Kumar, Clune, Lehman & Stanley 2025, “The Fractured Entangled Representation "
            "Hypothesis”, arXiv 2505.11581",
        ),
        ClaimInfo(
            "c6",
            "Does setting temperature to zero actually make LLM outputs reliable?",
            "reliability",
            "Temperature 0 and a fixed seed give consistency, not reliability: one draw, repeated.",
            "Fixed seeds and zero temperature replicate one output, but that output is still one "
            "draw from the model's distribution; reliability across repetitions is a separate "
            "question.",
            "Schroeder & Wood-Doughty 2024, “Can You Trust LLM Judgments?”, arXiv 2412.12509",
        ),
        ClaimInfo(
            "c7",
            "Can models reliably improve themselves without external feedback?",
            "counter-pressure",
            "Self-improvement without an external anchor collapses diversity; past versions, "
            "judges, user corrections or tools rescue it.",
            "Pure self-improvement stalls on the generation–verification gap and collapses "
            "diversity; the methods that work bring in an external anchor.",
            "Song et al. 2024, “Mind the Gap”, arXiv 2412.02674; Shafayat et al. 2025, arXiv "
            "2505.21444",
        ),
        ClaimInfo(
            "T",
            "Is convergence inevitable, or a stack of design choices?",
            "all stages",
            "Convergence is the default when every stage optimises for the high-frequency centre; "
            "it is not inevitable, because counter-pressure can be added on purpose.",
            "The counter-view: output homogeneity is already present after SFT and is rooted in "
            "pretraining, with DPO and RL moving it only slightly — so the stages may not "
            "contribute equally.",
            "Chen, Fortier & West 2026, “Is Convergence Inevitable? Tracing Output Homogeneity "
            "Back to Base Models”, arXiv 2608.11426 (counter-view)",
        ),
    )
}

# One sentence per (claim, verdict); {m} is the headline measurement with its interval.
SENTENCES: dict[str, dict[str, str]] = {
    "c1": {
        "supported": (
            "The input side is the part the question names directly, and here it held: distinct "
            "prompts were flattened toward their high-frequency forms before generation ({m}). "
            "Distinctiveness is filtered out on the way in."
        ),
        "contradicted": (
            "The input side is the part the question names directly, and here it did not hold: the"
            " models did not flatten distinct prompts toward high-frequency forms ({m}). Whatever "
            "convergence there is does not start at comprehension time in these models."
        ),
    },
    "c2": {
        "supported": (
            "The training stage squeezes from the other end: RL post-training amplified one format"
            " from pretraining and collapsed the alternatives ({m})."
        ),
        "contradicted": (
            "The training stage did not show the predicted squeeze: RL post-training did not "
            "amplify one format and collapse the others ({m})."
        ),
    },
    "c3": {
        "supported": (
            "At the sampling stage, the bigger model concentrated its probability mass and gave "
            "fewer distinct samples per draw ({m}), so diversity is recoverable by choosing a "
            "smaller model."
        ),
        "contradicted": (
            "At the sampling stage the size effect did not appear as predicted: bigger models did "
            "not give fewer distinct samples per draw ({m})."
        ),
    },
    "c4": {
        "supported": (
            "Across models, independent models landed on similar outputs ({m}): the cross-model "
            "sameness the question starts from is there to be measured."
        ),
        "contradicted": (
            "Across models, the independent models did not converge as the claim predicts ({m})."
        ),
    },
    "c5": {
        "supported": (
            "Convergence at the output need not mean convergence underneath: outputs that match "
            "came from measurably different internal representations ({m}), so “the answers look "
            "the same” is weak evidence that “the models are the same”."
        ),
        "contradicted": (
            "Here matching outputs went with matching internals ({m}): the caveat that surface "
            "sameness hides different representations did not hold."
        ),
    },
    "c6": {
        "supported": (
            "Repeating the exact same output is not converging on truth: temperature 0 with a "
            "fixed seed gave consistency without reliability ({m}). Sameness and correctness are "
            "not the same thing."
        ),
        "contradicted": (
            "Consistency and reliability moved together here ({m}): deterministic decoding did not"
            " merely replay one draw."
        ),
    },
    "c7": {
        "supported": (
            "Self-improvement without an external anchor collapsed diversity, and the anchored "
            "variants kept it ({m}): the systems that escape collapse bring something in from "
            "outside."
        ),
        "contradicted": (
            "Self-improvement without an external anchor did not collapse diversity here ({m}), so"
            " an anchor had nothing to rescue."
        ),
    },
    "T": {
        "supported": (
            "Taken together, convergence appeared by default and counter-pressure added on purpose"
            " removed part of it ({m}): it looks inevitable only because the push-back has to be "
            "added deliberately."
        ),
        "contradicted": (
            "Taken together, the thesis did not hold ({m}): either convergence did not appear by "
            "default, or the counter-pressures tried did not remove it."
        ),
    },
}
