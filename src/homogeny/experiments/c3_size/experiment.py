"""C3: do bigger models concentrate probability mass and give fewer distinct samples per draw?

After Shypula et al. 2025, "Evaluating the Diversity and Quality of LLM Generated Content"
(arXiv 2504.12522). The seed states the claim strongly (bigger models give fewer distinct
samples per draw; ~500M is best); the paper's finding is weaker (smaller models are more
parameter-efficient at unique content within a fixed budget; larger ones may have more
effective semantic diversity).

The size trend compares models of one family only (a "ladder": Qwen2.5-Coder 0.5B and 1.5B
here), since models of different families differ in data and recipe as much as in size. The
independent unit of a size trend is a model, not a prompt: n counts ladder steps, so with one
ladder step the exact test can only say "inconclusive". Every model is measured and drawn,
base models (which continue the prompt instead of answering it) included.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import Any, ClassVar

import numpy as np

from homogeny.experiments import base
from homogeny.experiments.base import Evidence, Experiment, ExperimentContext, PrimaryRule
from homogeny.experiments.c3_size.artifacts import CLAIM, write_artifacts
from homogeny.experiments.c3_size.function_classes import classify_texts
from homogeny.experiments.c3_size.imported import load_imported
from homogeny.experiments.c3_size.imported_rows import imported_artifact, imported_rows
from homogeny.experiments.c3_size.measures import ModelRun, PromptMeasures, measure_prompt
from homogeny.experiments.c3_size.rows import (
    PRIMARY_METRIC,
    build_evidence,
    ladders,
    no_ladder_reason,
)
from homogeny.experiments.claims import CLAIMS
from homogeny.experiments.presets import FULL_DISTRIBUTION, require_complete
from homogeny.importing.capabilities import is_imported
from homogeny.suites.catalog import synthetic_task_prompts
from homogeny.suites.prompt import Prompt


@dataclass(frozen=True)
class Plan(base.Plan):
    """How much C3 generates. Full: 12 of the 16 synthetic tasks (kinds in turn; all 16 took
    18.4 min of a full audit) x 32 samples, with the installed zoo members of every model
    family named completing its size ladder. Quick: 4 tasks x 6 samples, the named models."""

    QUICK: ClassVar[dict[str, Any]] = {"samples": 6, "tasks": 4, "ladder_partners": False}

    samples: int = 32
    tasks: int = 12
    text_max_tokens: int = 64
    function_max_tokens: int = 80
    ladder_partners: bool = True
    # Local models that form no same-family ladder cannot test a size trend (sizes differ
    # together with family): they are not sampled unless this asks for their descriptives.
    unladdered: bool = False


class SizeConcentration(Experiment):
    """Claim C3 (sampling stage): size, probability concentration and distinct samples per draw."""

    info = CLAIMS["c3"]
    reads_imported: ClassVar[bool] = True  # imported:NAME models are read, never sampled
    Plan = Plan
    primary = PrimaryRule(
        metric=PRIMARY_METRIC,
        statistic="slope of distinct@K / K against log10(parameters) between models of one "
        "family, per ladder step (prompts nested within each step)",
        predicted="below",
        threshold=0.0,
        unit="same-family ladder steps (model pairs)",
        min_n=2,
    )

    def measure(self, ctx: ExperimentContext, plan: Plan) -> Iterator[Evidence]:
        """Sample every model (and its ladder partners in the full plan), measure, and yield
        the ladder trend rows, the per-step rows and the per-parameter sanity row. Imported
        models (`imported:NAME`, texts only) are read from the store, never sampled: their
        ladders join the text-only trends and get NoveltyBench-partition rows beside them."""
        prompts = synthetic_task_prompts(count=plan.tasks)
        local = [m for m in ctx.models if not is_imported(m)]
        specs = local + (ladder_partners(local) if plan.ladder_partners else [])
        described = [describe_model(spec) for spec in specs]
        if specs and not ladders(described) and not plan.unladdered:
            ctx.log(f"c3: not sampled: {no_ladder_reason(described)}")
            specs = []
        runs = [generate(ctx, plan, spec, prompts) for spec in specs]
        measures = {run.label: measure_run(ctx, run, prompts) for run in runs}
        imported = load_imported(ctx, ctx.models)
        if runs:
            write_artifacts(ctx, runs, prompts, measures)
        if imported is not None:
            ctx.artifact(CLAIM, "imported_ladders", imported_artifact(imported))
        yield from build_evidence(ctx, runs, prompts, measures, imported, described)
        if imported is not None:
            yield from imported_rows(ctx, imported)


def generate(ctx: ExperimentContext, plan: Plan, spec: str, prompts: list[Prompt]) -> ModelRun:
    """plan.samples samples of every task prompt from one model (cached by the engine)."""
    run = describe_model(spec)
    k = plan.samples
    ctx.log(
        f"c3: {k} samples x {len(prompts)} tasks from {run.label} "
        f"({run.kind}, {run.params / 1e6:.0f}M params)"
    )
    functions = [p for p in prompts if p.meta.get("kind") == "function"]
    texts = [p for p in prompts if p.meta.get("kind") != "function"]
    for group, max_tokens in ((texts, plan.text_max_tokens), (functions, plan.function_max_tokens)):
        if group:
            run.rows.update(ctx.sample(spec, group, k, max_tokens=max_tokens, **FULL_DISTRIBUTION))
    require_complete(run.label, run.rows, k)
    return run


def measure_run(
    ctx: ExperimentContext, run: ModelRun, prompts: list[Prompt]
) -> dict[str, PromptMeasures]:
    """Every prompt's measures for one model (functions run in the sandbox)."""
    out = {}
    for p in prompts:
        texts = [r["text"] for r in run.rows[p.id]]
        emb = np.asarray(ctx.embed(texts))
        is_function = p.meta.get("kind") == "function"
        results = classify_texts(texts, p.meta["inputs"]) if is_function else None
        out[p.id] = measure_prompt(run.rows[p.id], emb, results)
    return out


def describe_model(spec: str) -> ModelRun:
    """Label, parameter count, kind and family of a model spec, without loading it."""
    from homogeny.models import model_info

    info = model_info(spec)
    params = info.params or params_from_name(info.model_id)
    return ModelRun(spec, info.model_id, params, info.kind, info.family)


def params_from_name(name: str) -> int:
    """A parameter count read from a model name such as "...-1.5B-..." (0 when absent)."""
    m = re.search(r"(\d+(?:\.\d+)?)\s*([MB])\b", name, re.IGNORECASE)
    if not m:
        return 0
    return int(float(m.group(1)) * (1e9 if m.group(2).upper() == "B" else 1e6))


def ladder_partners(specs: Sequence[str]) -> list[str]:
    """Installed zoo models that complete a size ladder: instruct models of the family of an
    instruct zoo model named in `specs`, at a size not named (e.g. qwen2.5-coder-1.5b when
    only qwen2.5-coder-0.5b is named)."""
    from homogeny.models import parse_spec, zoo

    named = {s.target for s in map(parse_spec, specs) if s.scheme == "zoo"}
    families = {zoo.ZOO[i].family for i in named if zoo.ZOO[i].kind == "instruct"}
    return [
        f"zoo:{e.id}"
        for e in zoo.ZOO.values()
        if e.family in families
        and e.kind == "instruct"
        and e.id not in named
        and zoo.is_installed(e.id)
    ]
