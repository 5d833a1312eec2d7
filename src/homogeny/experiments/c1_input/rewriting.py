"""C1 (c) rewriting: simulated users (one per phrasing) rewrite their request toward frequent
words, with a synonym table or a model asked for plain words. How much output diversity across
users is lost beyond the input diversity the rewrite itself removed?"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import numpy as np

from homogeny.experiments.base import Evidence, ExperimentContext
from homogeny.experiments.c1_input.measures import (
    balanced_families,
    clean_rewrite,
    cross_user_diversity,
    info,
)
from homogeny.experiments.c1_input.outputs import Outputs, all_outputs, generate
from homogeny.experiments.c1_input.plan import CLAIM, REWRITE_INSTRUCTION, Plan
from homogeny.suites.prompt import Prompt

REWRITERS = {"synonym table": "synonym_table", "model rewriter": "model_rewriter"}


def rewriter(ctx: ExperimentContext) -> str:
    """The rewriting model: the largest instruct model of ctx.models (the largest model when
    none is instruct); the smaller ones answer the request instead of rewriting it."""
    ranked = sorted(ctx.models, key=lambda m: (info(m).params, m))
    instruct = [m for m in ranked if info(m).kind != "base"] or ranked
    return instruct[-1]


def model_rewrites(ctx: ExperimentContext, plan: Plan, users: list[Prompt]) -> list[Prompt]:
    """Each user's request as the rewriting model rewrites it (one cleaned line)."""
    asks = [
        Prompt(f"{p.id}/ask-rewrite", f"{REWRITE_INSTRUCTION}\n\nRequest: {p.text}") for p in users
    ]
    replies = generate(ctx, rewriter(ctx), asks, plan.rewrite_max_tokens)
    return [
        Prompt(f"{p.id}/model", clean_rewrite(replies[a.id], p.text), meta=p.meta)
        for p, a in zip(users, asks)
    ]


def diversity_lost(ctx: ExperimentContext, before: list[str], after: list[str]) -> float:
    """Cross-user diversity (1 - mean cosine) of `before` minus that of `after`."""
    return cross_user_diversity(ctx.embed(before)) - cross_user_diversity(ctx.embed(after))


def family_losses(
    ctx: ExperimentContext,
    users: list[Prompt],
    new: list[Prompt],
    outputs: Outputs,
    after: Outputs,
    names: list[str],
) -> tuple[np.ndarray, np.ndarray]:
    """Per family: output diversity lost (mean over models) and input diversity removed."""
    out_lost, in_lost = [], []
    for n in names:
        idx = [i for i, p in enumerate(users) if p.meta["family"] == n]
        per_model = [
            diversity_lost(
                ctx, [outputs[s][users[i].id] for i in idx], [after[s][new[i].id] for i in idx]
            )
            for s in ctx.models
        ]
        out_lost.append(float(np.mean(per_model)))
        in_lost.append(
            diversity_lost(ctx, [users[i].text for i in idx], [new[i].text for i in idx])
        )
    return np.array(out_lost), np.array(in_lost)


def frequency_gain(users: list[Prompt], new: list[Prompt]) -> np.ndarray:
    """Per rewritten request: log-frequency gain; a rewrite without a content word ("7 + 5 =
    12") has no textual frequency and is left out."""
    from homogeny.suites.frequency import log_frequency

    gain = np.array([log_frequency(b.text) - log_frequency(a.text) for a, b in zip(users, new)])
    return gain[np.isfinite(gain)]


def rewriting_rows(
    ctx: ExperimentContext, plan: Plan, families: dict[str, list[Prompt]], outputs: Outputs
) -> Iterator[Evidence]:
    """Per rewriter: output diversity lost beyond the input diversity removed (per family);
    for the model rewriter also whether it moved requests toward frequent words."""
    from homogeny.suites.frequency import rewrite_to_frequent

    names = balanced_families(families, plan.rewrite_families)
    users = [p for n in names for p in families[n]]
    rewritten = {
        "synonym table": [
            Prompt(f"{p.id}/rule", rewrite_to_frequent(p.text), meta=p.meta) for p in users
        ],
        "model rewriter": model_rewrites(ctx, plan, users),
    }
    plot: dict[str, list[Any]] = {"labels": [], "values": [], "low": [], "high": []}
    models = [info(m).model_id for m in ctx.models]
    for name, new in rewritten.items():
        after = all_outputs(ctx, new, plan.max_tokens)
        out_lost, in_lost = family_losses(ctx, users, new, outputs, after, names)
        gain = frequency_gain(users, new)
        row = ctx.evidence(
            CLAIM, f"diversity_lost_beyond_input_{REWRITERS[name]}", out_lost - in_lost,
            question=f"Does rewriting users' requests toward frequent words ({name}) cut output "
            "diversity across users by more than it cut the requests' own diversity?",
            sign="positive = outputs lose more diversity across users (1 - mean MiniLM cosine) "
            "than the rewritten requests lost; 0 = outputs only follow the inputs",
            unit="cosine", role="secondary", models=models,
            plot={
                "output_diversity_lost": float(out_lost.mean()),
                "input_diversity_lost": float(in_lost.mean()),
                "mean_log_frequency_gain": float(gain.mean()) if gain.size else 0.0,
                "share_changed": float(np.mean([a.text != b.text for a, b in zip(users, new)])),
            },
        )  # fmt: skip
        for key, val in zip(plot, (name, row.effect, row.ci_low, row.ci_high)):
            plot[key].append(val)
        yield row
        if name == "model rewriter" and len(gain) >= 2:
            yield ctx.evidence(
                CLAIM, "frequency_gain_model_rewriter", gain,
                question="Does a model asked for plain common words move requests toward higher "
                "textual frequency?",
                sign="positive = rewritten requests score a higher mean log word frequency (Lu "
                "et al. 2026); rewrites without a content word left out",
                unit="log word frequency", role="sanity", subject=info(rewriter(ctx)).model_id,
                models=[info(rewriter(ctx)).model_id],
                plot={"left_out": len(users) - len(gain)},
            )  # fmt: skip
    ctx.artifact(CLAIM, "rewriting_diversity_lost", plot)
    ctx.artifact(CLAIM, "rewrites", [
        {"original": u.text, **{k: v[i].text for k, v in rewritten.items()}}
        for i, u in enumerate(users)
    ])  # fmt: skip
