"""C4: do independent models converge on the same outputs, with personalised framing hiding it?

After Jiang et al. 2025, "Artificial Hivemind: The Open-Ended Homogeneity of Language Models"
(arXiv 2510.22954): many samples per open-ended query at T=1, top-p 0.9; in 79% of cases a
model's responses average above 0.8 pairwise embedding similarity (61.2% under min-p); random
response pairs score 0.1-0.2. The primary row is that statistic, with the prompt as the unit.
Secondary: other models' answers against a model's own resamples (the hivemind index), min-p
against top-p, and the disguise test: the same request under many personas, whose surface
(lexical) diversity is set against its substance (semantic) diversity. Verdict rows use the
models that answer (instruct models); base models are drawn in the figures only.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import Any, ClassVar

import numpy as np

from homogeny.errors import HomogenyError
from homogeny.experiments import base
from homogeny.experiments.base import Evidence, Experiment, ExperimentContext, PrimaryRule
from homogeny.experiments.c4_hivemind.artifacts import write_artifacts
from homogeny.experiments.c4_hivemind.imported import (
    generation_rows,
    imported_artifact,
    imported_evidence,
    load_imported,
)
from homogeny.experiments.c4_hivemind.rows import (
    CLAIM,
    PRIMARY_METRIC,
    PRIMARY_THRESHOLD,
    MIN_PERSONA_REQUESTS,
    convergence_evidence,
    disguise_evidence,
    min_p_evidence,
)
from homogeny.experiments.c4_hivemind.samples import Samples, Table
from homogeny.experiments.c4_hivemind.similarity import Embeddings
from homogeny.experiments.c4_hivemind.srt import srt_rows
from homogeny.experiments.claims import CLAIMS
from homogeny.experiments.presets import (
    HIVEMIND_MAX_TOKENS,
    HIVEMIND_MIN_P,
    HIVEMIND_TOP_P,
    PROTOCOLS,
    require_complete,
)
from homogeny.importing.capabilities import is_imported
from homogeny.suites.catalog import (
    interleave_categories,
    open_ended_prompts,
    persona_prompts,
    personas,
)
from homogeny.suites.prompt import Prompt

PERSONA_CATEGORIES = ("advice", "recommendation", "opinion")


@dataclass(frozen=True)
class Plan(base.Plan):
    """How much C4 generates: prompts and samples per setting, persona grid, answer length.
    Measured on an idle 2-core machine (docs/benchmarks.md): quick 77 s; full with 100 prompts
    took 42 min, 35 of them the top-p samples, so full keeps 32 prompts, 8 samples each (16
    took 24 min of the 90-minute audit), and 8 of them again under min-p. The persona rows need
    at least 10 requests, which only the full plan has. `protocol` ("" or "srt") also runs a
    published measurement protocol on C4's prompts (srt.py; secondary rows only)."""

    QUICK: ClassVar[dict[str, Any]] = {
        "prompts": 6,
        "samples": 5,
        "min_p_prompts": 3,
        "persona_count": 3,
        "persona_requests": 2,
        "max_tokens": HIVEMIND_MAX_TOKENS[True],
    }

    prompts: int = 32
    samples: int = 8  # K = 8, as the SRT protocol; 16 cost ~7 of the full audit's minutes
    min_p_prompts: int = 8
    persona_count: int = 8
    persona_requests: int = 10
    max_tokens: int = HIVEMIND_MAX_TOKENS[False]
    protocol: str = ""

    def __post_init__(self) -> None:
        """One clear error for a protocol that is not published in presets.PROTOCOLS."""
        if self.protocol and self.protocol not in PROTOCOLS:
            raise HomogenyError(
                f"option protocol={self.protocol!r} is not a known protocol; use one of "
                f"{', '.join(PROTOCOLS)} (or leave it out)"
            )


class Hivemind(Experiment):
    """Claim C4 (across models): cross-model convergence, and personas disguising it."""

    info = CLAIMS["c4"]
    reads_imported: ClassVar[bool] = True  # imported:NAME models are read, never sampled
    Plan = Plan
    primary = PrimaryRule(
        metric=PRIMARY_METRIC,
        statistic="share of prompts whose samples (per answering model) average above 0.8 "
        "pairwise cosine at T = 1, top-p 0.9 (Jiang et al. 2025: 79%)",
        predicted="above",
        threshold=PRIMARY_THRESHOLD,
        unit="prompts",
        min_n=2,
    )

    def measure(self, ctx: ExperimentContext, plan: Plan) -> Iterator[Evidence]:
        """Sample, embed, and yield the primary share, the convergence, min-p and disguise
        rows. Imported models (`imported:NAME`, texts only) are read from the store, never
        sampled: their convergence rows follow (primary when no local model ran); min-p and
        the disguise, which need new samples, are not testable on them alone."""
        local = [m for m in ctx.models if not is_imported(m)]
        imported = load_imported(ctx, ctx.models)
        if imported is not None:
            ctx.artifact(CLAIM, "imported_similarity_matrix", imported_artifact(imported))
        if not local and imported is not None:
            yield from imported_evidence(ctx, imported, role="primary")
            yield from generation_rows(ctx, imported.models)
            yield from protocol_rows(ctx, plan)
            return
        data = generate(ctx, plan, local)
        vectors = embed_all(ctx, data)
        top = groups_of(data.top_p, data.prompts, vectors)
        minp = groups_of(data.min_p, data.min_p_prompts, vectors)
        yield from convergence_evidence(ctx, top, data.answering)
        yield min_p_evidence(ctx, top, minp, data.answering)
        yield from disguise_evidence(ctx, data, vectors)
        write_artifacts(ctx, data, top, minp)
        if imported is not None:
            yield from imported_evidence(ctx, imported, role="secondary")
        yield from protocol_rows(ctx, plan)


def protocol_rows(ctx: ExperimentContext, plan: Plan) -> list[Evidence]:
    """The published protocol's secondary rows on C4's prompts (none without `protocol`)."""
    if not plan.protocol:
        return []
    prompts = interleave_categories(open_ended_prompts())[: plan.prompts]
    return srt_rows(ctx, plan.protocol, ctx.models, prompts)


def persona_request_prompts(count: int) -> list[Prompt]:
    """The first `count` advice, recommendation and opinion prompts, categories in turn."""
    pool = [p for p in open_ended_prompts() if p.meta.get("category") in PERSONA_CATEGORIES]
    return interleave_categories(pool)[:count]


def generate(ctx: ExperimentContext, plan: Plan, specs: Sequence[str]) -> Samples:
    """Sample (or read from cache) every model of `specs` on the three prompt sets."""
    from homogeny.models import model_info

    prompts = interleave_categories(open_ended_prompts())[: plan.prompts]
    requests = persona_request_prompts(plan.persona_requests)
    # under MIN_PERSONA_REQUESTS the persona rows are not testable: nothing to sample for them
    testable = len(requests) >= MIN_PERSONA_REQUESTS
    framed = persona_prompts(requests, personas()[: plan.persona_count]) if testable else []
    data = Samples(prompts, prompts[: plan.min_p_prompts], requests, framed)
    shown = {p.id for p in prompts}
    extra = [r for r in requests if r.id not in shown] if testable else []
    for spec in specs:
        info = model_info(spec)
        label = info.model_id
        if info.kind == "base":
            data.base_models.append(label)
        ctx.log(
            f"c4: {label}: {len(prompts)} prompts x {plan.samples} at top-p 0.9, "
            f"{len(data.min_p_prompts)} at min-p 0.1, {len(framed)} persona-framed requests"
        )
        jobs = (
            (data.top_p, prompts, plan.samples, HIVEMIND_TOP_P),
            (data.top_p, extra, plan.samples, HIVEMIND_TOP_P),
            (data.min_p, data.min_p_prompts, plan.samples, HIVEMIND_MIN_P),
            (data.persona, framed, 1, HIVEMIND_TOP_P),
        )
        for target, group, k, params in jobs:
            if not group:
                continue
            rows = ctx.sample(spec, group, k, max_tokens=plan.max_tokens, **params)
            require_complete(label, rows, k)
            target.setdefault(label, {}).update(
                {pid: [r["text"] for r in rs] for pid, rs in rows.items()}
            )
    return data


def embed_all(ctx: ExperimentContext, data: Samples) -> dict[str, np.ndarray]:
    """One MiniLM vector per distinct sampled text (cached in the store)."""
    tables = (data.top_p, data.min_p, data.persona)
    texts = sorted(
        {t for table in tables for rows in table.values() for ts in rows.values() for t in ts}
    )
    return dict(zip(texts, np.asarray(ctx.embed(texts))))


def groups_of(
    table: Table, prompts: Sequence[Prompt], vectors: dict[str, np.ndarray]
) -> Embeddings:
    """model -> per prompt the (samples, d) embedding array."""
    return {
        m: [np.array([vectors[t] for t in rows[p.id]]) for p in prompts]
        for m, rows in table.items()
    }
