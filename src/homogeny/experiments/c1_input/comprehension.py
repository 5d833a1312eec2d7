"""C1 (a) comprehension: are paraphrases closer in a model's hidden states than in wording?"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import numpy as np

from homogeny.experiments.base import Evidence, ExperimentContext
from homogeny.experiments.c1_input.measures import (
    closeness,
    cosine_matrix,
    info,
    rouge_l_matrix,
    short,
)
from homogeny.experiments.c1_input.plan import CLAIM, Plan
from homogeny.suites.prompt import Prompt


def hidden_models(ctx: ExperimentContext, plan: Plan) -> list[str]:
    """The local models whose hidden states are read (the smallest only, when the plan says)."""
    specs = [m for m in ctx.models if info(m).backend in ("llamacpp", "hf")]
    if plan.hidden_smallest_only and specs:
        specs = [min(specs, key=lambda m: info(m).params or 1e18)]
    return specs


def pooled_states(states: list[np.ndarray], layer: int) -> np.ndarray:
    """One vector per text at `layer`: the mean over tokens after position 0 (an attention sink
    with outsized norm), or position 0 when it is the only token."""
    return np.stack([h[layer][1:].mean(axis=0) if h.shape[1] > 1 else h[layer][0] for h in states])


def comprehension_rows(
    ctx: ExperimentContext, plan: Plan, prompts: list[Prompt], labels: list[str]
) -> Iterator[Evidence]:
    """Per model and layer (middle, last): hidden-state closeness of paraphrases minus their
    surface (ROUGE-L) closeness, one value per family."""
    from homogeny import models

    texts = [p.text for p in prompts]
    surface = closeness(rouge_l_matrix(texts), labels)
    plot: dict[str, list[Any]] = {"labels": [], "values": [], "low": [], "high": []}
    for spec in hidden_models(ctx, plan):
        ctx.log(f"c1(a): hidden states of {short(spec)}")
        with models.open(spec, need="hidden_states") as backend:
            states = backend.hidden_states(texts)
        n_layers = states[0].shape[0]
        for name, layer in (("middle", n_layers // 2), ("last", n_layers - 1)):
            per_family = closeness(cosine_matrix(pooled_states(states, layer)), labels) - surface
            row = ctx.evidence(
                CLAIM, f"hidden_minus_surface_closeness_{name}", per_family,
                question="Are paraphrases closer inside the model (mean-pooled hidden states, "
                f"{name} layer) than on the surface (ROUGE-L)?",
                sign="positive = paraphrases are closer (chance-corrected, vs distinct requests) "
                "in hidden states than in wording",
                unit="chance-corrected closeness", role="secondary",
                subject=info(spec).model_id, models=[info(spec).model_id],
                plot={"layer": layer, "layers": n_layers - 1},
            )  # fmt: skip
            for key, val in zip(
                plot, (f"{short(spec)} {name}", row.effect, row.ci_low, row.ci_high)
            ):
                plot[key].append(val)
            yield row
    if plot["labels"]:
        ctx.artifact(CLAIM, "comprehension_flattening", plot)
