"""The claims homogeny tests: the one place the list lives, read by CLI, audit and report.

Each entry names the experiment class that measures it (imported only when the claim runs)
and carries the words the report prints for it: its heading, the claim stated, what the source
paper found, the full citation, and the answer's sentence for each verdict.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class ClaimInfo:
    """A claim of the seed note.

    id, title (short), question (what the primary test asks), stage (where in the pipeline
    it sits), source (the paper, short) and target (the experiment class, "module:Class");
    then the report's words: heading (the claim as the seed note asks it), statement (what the
    claim asserts), summary (what the source found), citation (full reference), and the
    answer's sentence when the claim is supported or contradicted, with {m} standing for the
    headline measurement and its interval."""

    id: str
    title: str
    question: str
    stage: str
    source: str
    target: str
    heading: str = ""
    statement: str = ""
    summary: str = ""
    citation: str = ""
    if_supported: str = ""
    if_contradicted: str = ""

    def sentence(self, verdict: str) -> str | None:
        """The answer's sentence template for `verdict` ({m}: the measurement), if written."""
        text = {"supported": self.if_supported, "contradicted": self.if_contradicted}.get(verdict)
        return text or None


CLAIMS: dict[str, ClaimInfo] = {
    c.id: c
    for c in (
        ClaimInfo(
            id="c1",
            title="Input flattening",
            question=(
                "Are distinct prompts flattened toward high-frequency forms, inside the model and "
                "in its outputs?"
            ),
            stage="input",
            source="Lu et al. 2026, Adam's Law",
            target="homogeny.experiments.c1_input:InputFlattening",
            heading="Does high-frequency text homogenize user input before generation?",
            statement=(
                "Prompts drift toward high-frequency phrasings, and distinct prompts are "
                "flattened at comprehension time (“Adam's Law”)."
            ),
            summary=(
                "Models are most accurate on high-frequency phrasings; the same property flattens "
                "distinct prompts into their common form before generation starts."
            ),
            citation=(
                "Lu et al. 2026, “Adam's Law: Textual Frequency Law on Large Language Models”, "
                "arXiv 2604.02176"
            ),
            if_supported=(
                "The input side is the part the question names directly, and here it held: "
                "distinct prompts were flattened toward their high-frequency forms before "
                "generation ({m}). Distinctiveness is filtered out on the way in."
            ),
            if_contradicted=(
                "The input side is the part the question names directly, and here it did not "
                "hold: the models did not flatten distinct prompts toward high-frequency forms "
                "({m}). Whatever convergence there is does not start at comprehension time in "
                "these models."
            ),
        ),
        ClaimInfo(
            id="c2",
            title="RL format collapse",
            question=(
                "Does RL post-training collapse output formats to one within the first epoch?"
            ),
            stage="post-training",
            source="Zhao et al. 2025, Echo Chamber",
            target="homogeny.experiments.c2_training:RLFormatCollapse",
            heading="Does RL training collapse format diversity in pretrained models?",
            statement=(
                "RL post-training amplifies one format from pretraining within the first epoch "
                "and collapses the others; which format wins depends on scale."
            ),
            summary=(
                "In controlled runs RL amplifies one pretraining format within the first epoch "
                "and collapses the alternatives; the winner depends on model scale, not on which "
                "format is better."
            ),
            citation=(
                "Zhao et al. 2025, “Echo Chamber: RL Post-training Amplifies Behaviors Learned in "
                "Pretraining”, arXiv 2504.07912"
            ),
            if_supported=(
                "The training stage squeezes from the other end: RL post-training amplified one "
                "format from pretraining and collapsed the alternatives ({m})."
            ),
            if_contradicted=(
                "The training stage did not show the predicted squeeze: RL post-training did not "
                "amplify one format and collapse the others ({m})."
            ),
        ),
        ClaimInfo(
            id="c3",
            title="Size concentration",
            question="Do bigger models give fewer distinct samples per draw?",
            stage="sampling",
            source="Shypula et al. 2025",
            target="homogeny.experiments.c3_size:SizeConcentration",
            heading="Why aren't bigger models better for generating diverse outputs?",
            statement=(
                "Bigger models concentrate probability mass, so they give fewer distinct samples "
                "per draw."
            ),
            summary=(
                "Larger models put more probability on their preferred outputs, so within a fixed "
                "budget they yield fewer distinct samples (the seed states this more strongly "
                "than the paper)."
            ),
            citation="Shypula et al. 2025, arXiv 2504.12522",
            if_supported=(
                "At the sampling stage, the bigger model concentrated its probability mass and "
                "gave fewer distinct samples per draw ({m}), so diversity is recoverable by "
                "choosing a smaller model."
            ),
            if_contradicted=(
                "At the sampling stage the size effect did not appear as predicted: bigger models "
                "did not give fewer distinct samples per draw ({m})."
            ),
        ),
        ClaimInfo(
            id="c4",
            title="Artificial hivemind",
            question="Do independent models converge, and does personalised framing hide it?",
            stage="across models",
            source="Jiang et al. 2025, Artificial Hivemind",
            target="homogeny.experiments.c4_hivemind:Hivemind",
            heading="Does AI homogenize culture the way mass media did?",
            statement=(
                "Independent models converge on the same outputs, and personalised framing hides "
                "the sameness from each single user."
            ),
            summary=(
                "Independent, nominally competing LLMs produce strikingly similar open-ended "
                "outputs; per-user framing makes the sameness invisible to any single user."
            ),
            citation="Jiang et al. 2025, “Artificial Hivemind”, arXiv 2510.22954",
            if_supported=(
                "Across models, independent models landed on similar outputs ({m}): the "
                "cross-model sameness the question starts from is there to be measured."
            ),
            if_contradicted=(
                "Across models, the independent models did not converge as the claim predicts "
                "({m})."
            ),
        ),
        ClaimInfo(
            id="c5",
            title="Fractured internals",
            question="Can identical outputs hide different internals?",
            stage="internals",
            source="Kumar et al. 2025, FER hypothesis",
            target="homogeny.experiments.c5_internals:FracturedInternals",
            heading="Can identical outputs hide broken internal representations?",
            statement=(
                "Identical outputs can hide very different, fractured internal representations."
            ),
            summary=(
                "Networks trained by SGD can reproduce a target output exactly while their "
                "internal structure is fractured and entangled, unlike networks found by "
                "open-ended search."
            ),
            citation=(
                "Kumar, Clune, Lehman & Stanley 2025, “The Fractured Entangled Representation "
                "Hypothesis”, arXiv 2505.11581"
            ),
            if_supported=(
                "Convergence at the output need not mean convergence underneath: outputs that "
                "match came from measurably different internal representations ({m}), so “the "
                "answers look the same” is weak evidence that “the models are the same”."
            ),
            if_contradicted=(
                "Here matching outputs went with matching internals ({m}): the caveat that "
                "surface sameness hides different representations did not hold."
            ),
        ),
        ClaimInfo(
            id="c6",
            title="Consistency is not reliability",
            question="Is temperature 0 consistency rather than reliability?",
            stage="reliability",
            source="Schroeder & Wood-Doughty 2024",
            target="homogeny.experiments.c6_reliability:ConsistencyReliability",
            heading="Does setting temperature to zero actually make LLM outputs reliable?",
            statement=(
                "Temperature 0 and a fixed seed give consistency, not reliability: one draw, "
                "repeated."
            ),
            summary=(
                "Fixed seeds and zero temperature replicate one output, but that output is still "
                "one draw from the model's distribution; reliability across repetitions is a "
                "separate question."
            ),
            citation=(
                "Schroeder & Wood-Doughty 2024, “Can You Trust LLM Judgments?”, arXiv 2412.12509"
            ),
            if_supported=(
                "Repeating the exact same output is not converging on truth: temperature 0 with a "
                "fixed seed gave consistency without reliability ({m}). Sameness and correctness "
                "are not the same thing."
            ),
            if_contradicted=(
                "Consistency and reliability moved together here ({m}): deterministic decoding "
                "did not merely replay one draw."
            ),
        ),
        ClaimInfo(
            id="c7",
            title="External anchors",
            question="Does self-improvement without an external anchor collapse diversity?",
            stage="counter-pressure",
            source="Song et al. 2024; Shafayat et al. 2025",
            target="homogeny.experiments.c7_anchors:SelfImprovementAnchors",
            heading="Can models reliably improve themselves without external feedback?",
            statement=(
                "Self-improvement without an external anchor collapses diversity; past versions, "
                "judges, user corrections or tools rescue it."
            ),
            summary=(
                "Pure self-improvement stalls on the generation–verification gap and collapses "
                "diversity; the methods that work bring in an external anchor."
            ),
            citation=(
                "Song et al. 2024, “Mind the Gap”, arXiv 2412.02674; Shafayat et al. 2025, arXiv "
                "2505.21444"
            ),
            if_supported=(
                "Self-improvement without an external anchor collapsed diversity, and the "
                "anchored variants kept it ({m}): the systems that escape collapse bring "
                "something in from outside."
            ),
            if_contradicted=(
                "Self-improvement without an external anchor did not collapse diversity here "
                "({m}), so an anchor had nothing to rescue."
            ),
        ),
    )
}

THESIS = ClaimInfo(
    id="T",
    title="Stages and counter-pressures",
    question="Is convergence the default, and how much do counter-pressures remove?",
    stage="all stages",
    source="thesis; Chen et al. 2026 as counter-view",
    target="homogeny.experiments.thesis:Thesis",
    heading="Is convergence inevitable, or a stack of design choices?",
    statement=(
        "Convergence is the default when every stage optimises for the high-frequency centre; it "
        "is not inevitable, because counter-pressure can be added on purpose."
    ),
    summary=(
        "The counter-view: output homogeneity is already present after SFT and is rooted in "
        "pretraining, with DPO and RL moving it only slightly — so the stages may not contribute "
        "equally."
    ),
    citation=(
        "Chen, Fortier & West 2026, “Is Convergence Inevitable? Tracing Output Homogeneity Back "
        "to Base Models”, arXiv 2608.11426 (counter-view)"
    ),
    if_supported=(
        "Taken together, convergence appeared by default and counter-pressure added on purpose "
        "removed part of it ({m}): it looks inevitable only because the push-back has to be added "
        "deliberately."
    ),
    if_contradicted=(
        "Taken together, the thesis did not hold ({m}): either convergence did not appear by "
        "default, or the counter-pressures tried did not remove it."
    ),
)

CLAIM_IDS: tuple[str, ...] = tuple(CLAIMS)


def claim_info(claim_id: str) -> ClaimInfo:
    """The ClaimInfo of `claim_id` (c1..c7 or T), case-insensitive."""
    key = claim_id.strip()
    if key.upper() == "T":
        return THESIS
    return CLAIMS[key.lower()]
