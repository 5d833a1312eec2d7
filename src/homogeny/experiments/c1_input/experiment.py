"""C1: the experiment: paraphrase families in, evidence rows out (see the package doc)."""

from __future__ import annotations

from collections.abc import Iterator

from homogeny.experiments.base import Evidence, Experiment, ExperimentContext
from homogeny.experiments.c1_input.comprehension import comprehension_rows
from homogeny.experiments.c1_input.distinctions import PRIMARY, distinction_rows
from homogeny.experiments.c1_input.frequency_law import frequency_law_rows
from homogeny.experiments.c1_input.measures import balanced_families, info, short
from homogeny.experiments.c1_input.outputs import Outputs, all_outputs, output_rows
from homogeny.experiments.c1_input.plan import CLAIM, Plan
from homogeny.experiments.c1_input.rewriting import rewriting_rows
from homogeny.experiments.claims import CLAIMS
from homogeny.suites.prompt import Prompt


def plan_families(plan: Plan) -> dict[str, list[Prompt]]:
    """The paraphrase families of this plan, each ordered rare phrasing first."""
    from homogeny.suites.catalog import paraphrase_families

    families = paraphrase_families(quick=plan.suite_quick)
    if plan.families:
        families = {n: families[n] for n in balanced_families(families, plan.families)}
    return families


class InputFlattening(Experiment):
    """C1: are distinct prompts flattened toward high-frequency forms on the way in?"""

    info = CLAIMS["c1"]
    Plan = Plan
    primary = PRIMARY

    def measure(self, ctx: ExperimentContext, plan: Plan) -> Iterator[Evidence]:
        """Hidden states, greedy outputs, near misses, rewrites and the paper's pair test."""
        families = plan_families(plan)
        prompts = [p for group in families.values() for p in group]
        labels = [p.meta["family"] for p in prompts]
        ctx.log(
            f"c1: {len(families)} paraphrase families x 6 phrasings, "
            f"models {', '.join(map(short, ctx.models))}"
        )
        yield from comprehension_rows(ctx, plan, prompts, labels)
        outputs = all_outputs(ctx, prompts, plan.max_tokens)
        yield from output_rows(ctx, prompts, labels, outputs)
        yield from distinction_rows(ctx, plan)
        yield from rewriting_rows(ctx, plan, families, outputs)
        yield from frequency_law_rows(ctx, plan, families, outputs)
        write_examples(ctx, families, outputs)


def write_examples(ctx: ExperimentContext, families: dict[str, list[Prompt]], out: Outputs) -> None:
    """Two families' rarest and commonest phrasings with every model's output."""
    examples = [
        {"prompt": p.text, "outputs": {info(s).model_id: [out[s][p.id]] for s in out}}
        for group in list(families.values())[:2]
        for p in (group[0], group[-1])
    ]
    ctx.artifact(CLAIM, "examples", examples)
