"""C4's evidence rows: the Hivemind share (primary), convergence against a model's own
resamples, min-p against top-p and the persona disguise (secondary), and the same-prompt
against different-prompt similarity (sanity: true whenever answers share a topic)."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from homogeny.experiments.base import Evidence, ExperimentContext, not_testable
from homogeny.experiments.c4_hivemind.disguise import disguise_table
from homogeny.experiments.c4_hivemind.samples import Samples
from homogeny.experiments.c4_hivemind.similarity import (
    SAME_THRESHOLD,
    Embeddings,
    hivemind_by_prompt,
    inter_similarity_by_prompt,
    intra_similarity,
    random_baseline_by_prompt,
    share_above,
    similarity_matrix,
)

CLAIM = "c4"
PRIMARY_METRIC = "share_intra_above_0_8"
PRIMARY_THRESHOLD = 0.5  # a majority of prompts (the paper: 79% of cases)
PAPER_SHARE_TOP_P, PAPER_SHARE_MIN_P = 0.79, 0.612
HIVEMIND_THRESHOLD = 0.9
MIN_PERSONA_REQUESTS = 10  # persona rows resample requests: fewer is not a test
PRIMARY_QUESTION = (
    f"Do a model's answers to most open-ended prompts average above {SAME_THRESHOLD} pairwise "
    f"similarity at top-p 0.9 (the paper found {PAPER_SHARE_TOP_P:.0%} of cases)?"
)
MIN_P_QUESTION = (
    f"Does min-p sampling make a model's answers less alike than top-p (the paper: "
    f"{PAPER_SHARE_TOP_P:.0%} of cases above 0.8 at top-p, {PAPER_SHARE_MIN_P:.1%} under min-p)?"
)


def convergence_evidence(
    ctx: ExperimentContext,
    top: Embeddings,
    answering: Sequence[str],
    role: str = "primary",
    question: str = "",
    reference: dict[str, float] | None = None,
) -> list[Evidence]:
    """The share above 0.8 (primary unless `role` says otherwise), the hivemind index (inter-
    against intra-model) and the same-prompt-minus-different-prompt sanity row, over the
    answering models; `reference` adds plot-only bars (humans), never pooled."""
    groups = {m: top[m] for m in answering}
    extra = reference or {}
    models = list(groups)
    per_prompt = share_above(intra_similarity(groups))
    shares = (intra_similarity(top) > SAME_THRESHOLD).mean(axis=0)
    rows = [
        ctx.evidence(
            CLAIM,
            PRIMARY_METRIC,
            per_prompt,
            question=question or PRIMARY_QUESTION,
            sign="share of prompts whose samples average above 0.8 cosine (per prompt, the share "
            "of answering models above it); supported if a majority of prompts",
            predicted="above",
            threshold=PRIMARY_THRESHOLD,
            unit="share of prompts",
            role=role,
            subject=", ".join(models),
            models=models,
            plot={
                "labels": [*top, *extra, "paper (top-p 0.9)"],
                "values": [*shares.tolist(), *extra.values(), PAPER_SHARE_TOP_P],
            },
        )
    ]
    heat = {"labels": list(top), "matrix": similarity_matrix(top).tolist()}
    if len(models) < 2:
        reason = "needs at least two models that answer (instruct models)"
        rows.append(
            not_testable(
                CLAIM,
                HIVEMIND_QUESTION,
                "hivemind_index",
                reason,
                role="secondary",
                unit="ratio",
                threshold=HIVEMIND_THRESHOLD,
                models=tuple(models),
                quick=ctx.quick,
            )
        )
        rows.append(
            not_testable(
                CLAIM,
                RANDOM_QUESTION,
                "inter_model_minus_random",
                reason,
                role="sanity",
                unit="cosine",
                models=tuple(models),
                quick=ctx.quick,
            )
        )
        return rows
    rows.append(
        ctx.evidence(
            CLAIM,
            "hivemind_index",
            hivemind_by_prompt(groups),
            question=HIVEMIND_QUESTION,
            sign="per prompt, mean cosine between different models' answers over the mean cosine "
            "between one model's own resamples (1 = other models are as alike as resampling)",
            predicted="above",
            threshold=HIVEMIND_THRESHOLD,
            unit="ratio",
            role="secondary",
            subject=", ".join(models),
            models=models,
            plot=heat,
        )
    )
    diff = inter_similarity_by_prompt(groups) - random_baseline_by_prompt(groups)
    rows.append(
        ctx.evidence(
            CLAIM,
            "inter_model_minus_random",
            diff,
            question=RANDOM_QUESTION,
            sign="mean cosine between two models' answers to a prompt minus the same for answers "
            "to different prompts; positive whenever answers share the prompt's topic",
            predicted="above",
            threshold=0.0,
            unit="cosine",
            role="sanity",
            subject=", ".join(models),
            models=models,
            plot=heat,
        )
    )
    return rows


HIVEMIND_QUESTION = (
    f"Are different models' answers to a prompt nearly as alike as one model's own resamples "
    f"(hivemind index above {HIVEMIND_THRESHOLD:g})?"
)
RANDOM_QUESTION = (
    "Are different models' answers to the same prompt more alike than answers to different "
    "prompts (the paper's random pairs score 0.1-0.2)?"
)


def min_p_evidence(
    ctx: ExperimentContext, top: Embeddings, minp: Embeddings, answering: Sequence[str]
) -> Evidence:
    """Within-model similarity under min-p 0.1 minus under top-p 0.9 on the same prompts, per
    prompt averaged over the answering models."""
    n = len(next(iter(minp.values())))
    intra_min = intra_similarity({m: minp[m] for m in answering})
    intra_top = intra_similarity({m: top[m][:n] for m in answering})
    shares = [
        float((intra_top > SAME_THRESHOLD).mean()),
        float((intra_min > SAME_THRESHOLD).mean()),
    ]
    return ctx.evidence(
        CLAIM,
        "min_p_minus_top_p_intra_similarity",
        (intra_min - intra_top).mean(axis=1),
        question=MIN_P_QUESTION,
        sign="mean within-model cosine under min-p 0.1 minus under top-p 0.9 (T = 1 both); "
        "negative = min-p is more diverse",
        predicted="below",
        threshold=0.0,
        unit="cosine",
        role="secondary",
        subject=", ".join(answering),
        models=list(answering),
        plot={
            "labels": ["top-p 0.9", "min-p 0.1", "paper top-p 0.9", "paper min-p 0.1"],
            "values": [*shares, PAPER_SHARE_TOP_P, PAPER_SHARE_MIN_P],
        },
    )


GAP_QUESTION = (
    "Across personas, does the same request's answer vary more on the surface (words) than in "
    "substance (meaning), so that each user sees a personal answer?"
)
CONTROL_QUESTION = (
    "Does persona framing widen the surface-substance gap beyond what plain resampling of the "
    "same request gives?"
)


def disguise_evidence(
    ctx: ExperimentContext, data: Samples, vectors: dict[str, np.ndarray]
) -> list[Evidence]:
    """The disguise gap across personas, and the same gap against plain resampling; requests
    are the unit, so both need at least MIN_PERSONA_REQUESTS of them."""
    if len(data.requests) < MIN_PERSONA_REQUESTS:
        reason = (
            f"needs at least {MIN_PERSONA_REQUESTS} requests (the unit resampled); this plan has "
            f"{len(data.requests)} (the full plan has {MIN_PERSONA_REQUESTS})"
        )
        return [
            not_testable(
                CLAIM,
                q,
                metric,
                reason,
                role="secondary",
                unit="normalised diversity",
                quick=ctx.quick,
            )
            for metric, q in (
                ("persona_disguise_gap", GAP_QUESTION),
                ("persona_gap_minus_resampling_gap", CONTROL_QUESTION),
            )
        ]
    answering = data.answering
    table = disguise_table(
        {m: data.persona[m] for m in answering}, data.top_p, data.requests, data.framed, vectors
    )
    stacked = np.stack([table[m] for m in answering], axis=1)  # requests x models x 4
    common = dict(
        predicted="above",
        threshold=0.0,
        unit="normalised diversity",
        role="secondary",
        subject=", ".join(answering),
        models=list(answering),
    )
    gap = ctx.evidence(
        CLAIM,
        "persona_disguise_gap",
        stacked[:, :, 2].mean(axis=1),
        question=GAP_QUESTION,
        sign="normalised lexical diversity minus normalised semantic diversity across personas "
        "(each 1 - mean pairwise similarity, over the same for answers to different requests); "
        "positive = framing varies the surface more than the substance",
        plot={
            "labels": [f"{m}: {k}" for m in answering for k in ("surface", "substance")],
            "values": [float(table[m][:, i].mean()) for m in answering for i in (0, 1)],
        },
        **common,
    )
    control = ctx.evidence(
        CLAIM,
        "persona_gap_minus_resampling_gap",
        (stacked[:, :, 2] - stacked[:, :, 3]).mean(axis=1),
        question=CONTROL_QUESTION,
        sign="disguise gap across personas minus the same gap across plain top-p resamples of "
        "the request; positive = personas add surface variety more than substance",
        plot={
            "labels": [f"{m}: {k}" for m in answering for k in ("personas", "resampling")],
            "values": [float(table[m][:, i].mean()) for m in answering for i in (2, 3)],
        },
        **common,
    )
    return [gap, control]
