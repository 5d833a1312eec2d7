"""C4's figures: similarity heatmaps, random-pair baselines, shares above 0.8, examples.
Every model is drawn here, base models included (they are kept out of the verdict rows)."""

from __future__ import annotations

from homogeny.experiments.base import ExperimentContext
from homogeny.experiments.c4_hivemind.rows import CLAIM, PAPER_SHARE_MIN_P, PAPER_SHARE_TOP_P
from homogeny.experiments.c4_hivemind.samples import Samples
from homogeny.experiments.c4_hivemind.similarity import (
    SAME_THRESHOLD,
    Embeddings,
    intra_similarity,
    random_baseline_by_prompt,
    similarity_matrix,
)


def write_artifacts(
    ctx: ExperimentContext, data: Samples, top: Embeddings, minp: Embeddings
) -> None:
    """Similarity heatmaps, baselines, shares above 0.8 and side-by-side examples."""
    for name, groups in (("similarity_matrix_top_p", top), ("similarity_matrix_min_p", minp)):
        ctx.artifact(
            CLAIM, name, {"labels": list(groups), "matrix": similarity_matrix(groups).tolist()}
        )
    labels = ["same model, other prompts"]
    values = [float(random_baseline_by_prompt(top, across_models=False).mean())]
    if len(top) >= 2:
        labels.append("other models, other prompts")
        values.append(float(random_baseline_by_prompt(top).mean()))
    ctx.artifact(
        CLAIM,
        "random_pair_baseline",
        {
            "labels": labels + ["paper, low", "paper, high"],
            "values": values + [0.1, 0.2],
        },
    )
    shares = [
        float((intra_similarity({m: g[m]}) > SAME_THRESHOLD).mean())
        for m in top
        for g in (top, minp)
    ]
    ctx.artifact(
        CLAIM,
        "share_above_0.8",
        {
            "labels": [f"{m} {s}" for m in top for s in ("top-p 0.9", "min-p 0.1")],
            "values": shares,
            "paper": {"top-p 0.9": PAPER_SHARE_TOP_P, "min-p 0.1": PAPER_SHARE_MIN_P},
            "min_p_prompts": len(data.min_p_prompts),
        },
    )
    ctx.artifact(CLAIM, "examples", examples(data))


def examples(data: Samples) -> list[dict[str, object]]:
    """Three prompts side by side, then the first request under several personas."""
    out: list[dict[str, object]] = [
        {"prompt": p.display, "outputs": {m: rows[p.id][:3] for m, rows in data.top_p.items()}}
        for p in data.prompts[:3]
    ]
    if data.requests:
        first = [f for f in data.framed if f.meta["request"] == data.requests[0].id][:4]
        out += [
            {"prompt": f.display, "outputs": {m: rows[f.id] for m, rows in data.persona.items()}}
            for f in first
        ]
    return out
