"""C1's primary test: are meaning-bearing distinctions lost toward the common request?

Each near miss is the everyday phrasing of a checkable request with one meaning-bearing word
changed ("What is 7 minus 5?" beside "What is 7 plus 5?"): close in wording, different in what
it asks. If inputs are flattened toward their high-frequency form, a near miss is answered as
its common anchor ("12"); if the distinction survives, with its own answer ("2"). Per pair and
model: +1 lost, -1 kept, 0 neither or both; the unit is the pair (mean over models).
"""

from __future__ import annotations

from collections.abc import Iterator

import numpy as np

from homogeny.experiments.base import Evidence, ExperimentContext, PrimaryRule, not_testable
from homogeny.experiments.c1_input.measures import distinction_lost, info, short, sign_test
from homogeny.experiments.c1_input.outputs import all_outputs
from homogeny.experiments.c1_input.plan import CLAIM, Plan
from homogeny.suites.prompt import Prompt

METRIC = "near_miss_distinction_lost"
PRIMARY = PrimaryRule(
    metric=METRIC,
    statistic="per near-miss pair, averaged over models: +1 when the greedy output to the near "
    "miss gives the common anchor's answer and not its own, -1 when it gives its own and not the "
    "anchor's, 0 otherwise",
    predicted="above",
    threshold=0.0,
    unit="prompt pairs",
    min_n=10,
)
QUESTION = (
    "Are prompts that differ in what they ask but barely in wording answered as their common "
    "anchor (the meaning-bearing distinction lost)?"
)
SIGN = (
    "positive = near misses get the common anchor's answer more often than their own (flattened "
    "toward the high-frequency request); negative = the distinction is kept"
)


def near_miss_pairs(plan: Plan) -> list[tuple[Prompt, Prompt]]:
    """(near miss, anchor) pairs: the anchor is its family's everyday phrasing (the last)."""
    from homogeny.suites.catalog import near_miss_prompts, paraphrase_families

    families = paraphrase_families(quick=False)
    near = near_miss_prompts()
    near = near[: plan.near_misses] if plan.near_misses else near
    return [(p, families[p.meta["family"]][-1]) for p in near]


def pair_values(
    outputs: dict[str, dict[str, str]], pairs: list[tuple[Prompt, Prompt]]
) -> dict[str, np.ndarray]:
    """Per model: +1 (lost), -1 (kept) or 0 per (near miss, anchor) pair."""
    return {
        spec: np.array([distinction_lost(out[n.id], n, a) for n, a in pairs], dtype=np.float64)
        for spec, out in outputs.items()
    }


def distinction_rows(ctx: ExperimentContext, plan: Plan) -> Iterator[Evidence]:
    """The primary row (pooled over models, unit = pair) and one secondary row per model."""
    pairs = near_miss_pairs(plan)
    if len(pairs) < PRIMARY.min_n:
        reason = f"{len(pairs)} near-miss pairs; the rule needs {PRIMARY.min_n}"
        yield not_testable(CLAIM, QUESTION, METRIC, reason, role="primary", unit=PRIMARY.unit)
        return
    ctx.log(f"c1: {len(pairs)} near-miss prompts")
    outputs = all_outputs(ctx, [n for n, _ in pairs], plan.max_tokens)
    lost = pair_values(outputs, pairs)
    models = [info(s).model_id for s in outputs]
    pooled = np.mean(list(lost.values()), axis=0)
    plot = {
        "labels": [short(s) for s in lost],
        "values": [float(v.mean()) for v in lost.values()],
        "sign_test": sign_test(pooled),  # exact, on the pairs that are not 0 (discrete values)
    }
    yield ctx.evidence(
        CLAIM, METRIC, pooled, question=QUESTION, sign=SIGN,
        predicted=PRIMARY.predicted, threshold=PRIMARY.threshold, unit="answer share (lost - kept)",
        role="primary", subject="all models", models=models, plot=plot, min_n=PRIMARY.min_n,
    )  # fmt: skip
    for spec, values in lost.items():
        yield ctx.evidence(
            CLAIM, METRIC, values, question=QUESTION, sign=SIGN, unit="answer share (lost - kept)",
            role="secondary", subject=info(spec).model_id, models=[info(spec).model_id],
            plot={"lost": int((values > 0).sum()), "kept": int((values < 0).sum())},
        )  # fmt: skip
    ctx.artifact(CLAIM, "near_misses", [
        {"near_miss": n.text, "anchor": a.text, "answer": n.meta["answer"],
         "anchor_answer": a.meta["answer"],
         "outputs": {info(s).model_id: outputs[s][n.id] for s in outputs}}
        for n, a in pairs
    ])  # fmt: skip
