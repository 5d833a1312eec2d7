"""C1 (b) outputs: greedy outputs per phrasing, and how close they are within a request."""

from __future__ import annotations

from collections.abc import Iterator

import numpy as np

from homogeny.experiments.base import Evidence, ExperimentContext
from homogeny.experiments.c1_input.measures import (
    closeness,
    cosine_matrix,
    info,
    rouge_l_matrix,
    short,
    within_minus_between,
)
from homogeny.experiments.c1_input.plan import CLAIM
from homogeny.experiments.presets import GREEDY
from homogeny.suites.prompt import Prompt

Outputs = dict[str, dict[str, str]]  # model spec -> prompt id -> greedy output


def generate(
    ctx: ExperimentContext, spec: str, prompts: list[Prompt], max_tokens: int
) -> dict[str, str]:
    """Greedy outputs of `spec` for `prompts` (cached by the engine), by prompt id."""
    rows = ctx.sample(spec, prompts, 1, temperature=GREEDY["temperature"], max_tokens=max_tokens)
    return {pid: (r[0]["text"] if r else "") for pid, r in rows.items()}


def by_recent_use(specs: list[str]) -> list[str]:
    """`specs` with the models still loaded first, most recently used first: with three models
    and two kept loaded, a round in this order reloads one model instead of three (the order
    changes no output)."""
    from homogeny import models

    recent = [name for name, _ in reversed(models.loaded())]
    rank = {spec: recent.index(str(models.parse_spec(spec))) for spec in specs
            if str(models.parse_spec(spec)) in recent}  # fmt: skip
    return sorted(specs, key=lambda s: rank.get(s, len(recent)))


def all_outputs(ctx: ExperimentContext, prompts: list[Prompt], max_tokens: int) -> Outputs:
    """Greedy outputs of every model of the run, keyed in ctx.models order."""
    done = {spec: generate(ctx, spec, prompts, max_tokens) for spec in by_recent_use(ctx.models)}
    return {spec: done[spec] for spec in ctx.models}


def output_rows(
    ctx: ExperimentContext, prompts: list[Prompt], labels: list[str], outputs: Outputs
) -> Iterator[Evidence]:
    """Outputs within a request vs across requests (a sanity row: answers to one request share
    its topic), and output vs prompt closeness; one value per family, averaged over models."""
    prompt_close = closeness(rouge_l_matrix([p.text for p in prompts]), labels)
    gaps, flat, per_model = [], [], {}
    for spec, out in outputs.items():
        texts = [out[p.id] for p in prompts]
        gap = within_minus_between(cosine_matrix(ctx.embed(texts)), labels)
        out_close = closeness(rouge_l_matrix(texts), labels)
        gaps.append(gap)
        flat.append(out_close - prompt_close)
        per_model[short(spec)] = {
            "within_minus_between": float(gap.mean()),
            "output_closeness": float(out_close.mean()),
        }
    models = [info(m).model_id for m in outputs]
    ctx.artifact(
        CLAIM, "output_closeness",
        {"per_model": per_model, "prompt_closeness": float(prompt_close.mean())},
    )  # fmt: skip
    plot = {
        "labels": list(per_model),
        "values": [v["within_minus_between"] for v in per_model.values()],
    }
    yield ctx.evidence(
        CLAIM, "outputs_within_minus_between", np.mean(gaps, axis=0),
        question="Are outputs across paraphrases of one request more alike than outputs across "
        "distinct requests (MiniLM cosine, greedy)?",
        sign="positive = the request, not its wording, decides the output (expected whenever "
        "answers share their request's topic: a sanity check, not a test of flattening)",
        unit="cosine", role="sanity", models=models, plot=plot,
    )  # fmt: skip
    yield ctx.evidence(
        CLAIM, "output_minus_prompt_closeness", np.mean(flat, axis=0),
        question="Are outputs across paraphrases closer than the paraphrases themselves "
        "(chance-corrected ROUGE-L)?",
        sign="positive = outputs flatten the users' distinct wording (output closeness above "
        "prompt closeness)",
        unit="chance-corrected closeness", role="secondary", models=models,
    )  # fmt: skip
