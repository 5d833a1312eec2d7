"""C4 on imported texts (`homogeny import`): convergence within and across models someone else
sampled (NoveltyBench: 20 production models of many vendors on the same 100 prompts).

Texts are all the Hivemind statistics need: the share of prompts whose samples average above
0.8 pairwise cosine, the hivemind index (other models' answers against a model's own
resamples) and the random-pair sanity row. Min-p against top-p and the persona disguise need
new samples on demand: "not testable on imported texts". Treatment arms (`NAME[ARM]`) are
left out of the vendors; humans (`imported:human`) are a reference, never pooled.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from homogeny.experiments.base import Evidence, ExperimentContext, not_testable
from homogeny.experiments.c4_hivemind.rows import (
    CLAIM,
    CONTROL_QUESTION,
    GAP_QUESTION,
    MIN_P_QUESTION,
    convergence_evidence,
)
from homogeny.experiments.c4_hivemind.similarity import (
    SAME_THRESHOLD,
    Embeddings,
    similarity_matrix,
)
from homogeny.importing import stored
from homogeny.importing.capabilities import why_not
from homogeny.metrics import mean_pairwise_similarity

IMPORTED_QUESTION = (
    f"On imported samples (the data's own sampling settings): do a model's answers to most "
    f"prompts average above {SAME_THRESHOLD} pairwise similarity?"
)
HUMAN_QUESTION = (
    "Are the models' answers to a prompt more alike than different people's answers to it "
    "(humans as the diversity floor)?"
)


@dataclass
class ImportedTexts:
    """The answering imported models' embedded draws on the prompts they all answered, and the
    humans' draws where the data has them."""

    groups: Embeddings  # model id -> per prompt an (S, d) array
    prompt_ids: list[str]
    human: dict[str, np.ndarray]  # prompt id -> humans' (S, d) array

    @property
    def models(self) -> list[str]:
        """The answering imported models (vendors' plain sampling, no arms, no humans)."""
        return list(self.groups)


def load_imported(ctx: ExperimentContext, specs: Sequence[str]) -> ImportedTexts | None:
    """The imported models among `specs` (None when there is none that answers), read from
    the store and embedded (cached in the store by text hash)."""
    scope = stored.in_scope(ctx.store, list(specs))
    answering = [m.model_id for m in scope if m.kind not in ("human", "base") and not m.group]
    humans = [m.model_id for m in scope if m.kind == "human"]
    if not answering:
        return None
    table = stored.texts(ctx.store, answering + humans[:1])
    ids = stored.common_prompts(table, answering)
    human = {p: ts for p, ts in table.get(humans[0], {}).items() if len(ts) > 1} if humans else {}
    texts = {t for m in answering for p in ids for t in table[m][p]}
    texts |= {t for ts in human.values() for t in ts}
    ctx.log(f"c4: {len(answering)} imported models x {len(ids)} prompts read from the store")
    unique = sorted(texts)
    vectors = stored.embed_chunks(ctx.embed, unique, lambda m: ctx.log(f"c4: {m}"))
    embed = lambda ts: np.array([vectors[t] for t in ts])  # noqa: E731
    return ImportedTexts(
        {m: [embed(table[m][p]) for p in ids] for m in answering},
        ids,
        {p: embed(ts) for p, ts in human.items()},
    )


def imported_evidence(ctx: ExperimentContext, imp: ImportedTexts, role: str) -> list[Evidence]:
    """The Hivemind share (with `role`: primary when no local model ran), the hivemind index
    and the random-pair sanity row over the imported models; then humans as a check."""
    if not imp.prompt_ids:
        reason = "the imported models share no prompt answered at least twice by each"
        return [
            not_testable(
                CLAIM,
                IMPORTED_QUESTION,
                "share_intra_above_0_8",
                reason,
                role=role,
                unit="share of prompts",
                predicted="above",
                threshold=0.5,
                models=tuple(imp.models),
                quick=ctx.quick,
            )  # fmt: skip
        ]
    reference = {}
    if imp.human:
        reference["human (reference)"] = float(
            np.mean([mean_pairwise_similarity(e) > SAME_THRESHOLD for e in imp.human.values()])
        )
    rows = convergence_evidence(
        ctx, imp.groups, imp.models, role=role, question=IMPORTED_QUESTION, reference=reference
    )
    human = human_check(ctx, imp)
    return rows + ([human] if human is not None else [])


def human_check(ctx: ExperimentContext, imp: ImportedTexts) -> Evidence | None:
    """Per prompt the humans answered: the models' mean within-model cosine minus the humans'
    cosine among themselves (a check beside the verdicts: humans are never pooled)."""
    shared = [i for i, p in enumerate(imp.prompt_ids) if p in imp.human]
    if len(shared) < 2:
        return None
    ours = np.array(
        [np.mean([mean_pairwise_similarity(imp.groups[m][i]) for m in imp.models]) for i in shared]
    )
    people = np.array([mean_pairwise_similarity(imp.human[imp.prompt_ids[i]]) for i in shared])
    diff = ours - people
    return ctx.evidence(
        CLAIM, "model_minus_human_intra_similarity", diff, question=HUMAN_QUESTION,
        sign="per prompt, the models' mean within-model pairwise cosine minus the humans' "
        "pairwise cosine on the same prompt; positive = models more alike than people",
        predicted="above", threshold=0.0, unit="cosine", role="check",
        subject="imported models against imported:human", models=[*imp.models, "imported:human"],
        plot={"labels": ["models (mean within-model)", "humans (reference)"],
              "values": [float(ours.mean()), float(people.mean())]},
    )  # fmt: skip


def generation_rows(ctx: ExperimentContext, models: Sequence[str]) -> list[Evidence]:
    """Min-p against top-p and the persona disguise: they need new samples on demand, so on
    imported texts alone they are not testable (the reason from importing.capabilities)."""
    reason = why_not(models[0], "generate") if models else "needs models that can be sampled"
    specs = (
        ("min_p_minus_top_p_intra_similarity", MIN_P_QUESTION, "cosine"),
        ("persona_disguise_gap", GAP_QUESTION, "normalised diversity"),
        ("persona_gap_minus_resampling_gap", CONTROL_QUESTION, "normalised diversity"),
    )
    return [
        not_testable(
            CLAIM,
            q,
            metric,
            reason,
            role="secondary",
            unit=unit,
            quick=ctx.quick,
            models=tuple(models),
        )  # fmt: skip
        for metric, q, unit in specs
    ]


def imported_artifact(imp: ImportedTexts) -> dict[str, object]:
    """The imported models' similarity matrix (diagonal: within-model), for the report."""
    return {"labels": imp.models, "matrix": similarity_matrix(imp.groups).tolist()}
