"""C4 under a published protocol (`--protocol srt`, presets.SRT): for every model that can be
sampled, the intra-model similarity of K = 8 samples per prompt (T = 1, top-p 0.9, 48 tokens,
all-MiniLM-L6-v2 cosine) through the chat template and on the raw prompt of the same weights
(base models: raw only), against the floor of 20,000 random pairs of answers to different
prompts (seed 0), next to the figures the study published ("Where the Hivemind Comes From").

The prompts are C4's own. Every row is secondary, so no verdict of C4 moves; without
`--protocol` nothing here runs. Imported models (texts only) cannot be sampled: not testable.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import asdict, dataclass

import numpy as np

from homogeny.experiments.base import Evidence, ExperimentContext, not_testable
from homogeny.experiments.c4_hivemind.rows import CLAIM
from homogeny.experiments.c4_hivemind.similarity import SAME_THRESHOLD
from homogeny.experiments.presets import (
    SRT_PUBLISHED,
    SRT_PUBLISHED_EFFECTS,
    Protocol,
    PublishedFigure,
    protocol,
    published_figure,
    require_complete,
)
from homogeny.importing.capabilities import is_imported, why_not
from homogeny.metrics import mean_pairwise_similarity
from homogeny.suites.prompt import Prompt

INTRA = "srt_intra_model_similarity"
ABOVE_FLOOR = "srt_intra_minus_floor"
FORMAT = "srt_chat_minus_raw"
INTRA_QUESTION = (
    "Under the SRT protocol (K = 8, T = 1, top-p 0.9, 48 tokens, MiniLM cosine), how alike are "
    "a model's own samples of one prompt, through its chat template and on the raw prompt?"
)
FLOOR_QUESTION = (
    "Are a model's samples of one prompt more alike than random pairs of its answers to "
    "different prompts (the SRT floor: 20,000 pairs, seed 0)?"
)
FORMAT_QUESTION = (
    "On the same weights, does the chat template make a model's samples more alike than the raw "
    "prompt (the study: 0.865 against 0.786 on Qwen2.5-Coder-0.5B-Instruct)?"
)


@dataclass
class Condition:
    """One model in one prompt format: per prompt the (K, d) unit-norm sample embeddings."""

    model: str
    kind: str  # base | instruct
    fmt: str  # chat | raw
    groups: list[np.ndarray]
    empty: int = 0  # answers that are empty (the model stopped at once): all embed alike

    @property
    def subject(self) -> str:
        """The evidence rows' subject: `MODEL [chat]` or `MODEL [raw]`."""
        return f"{self.model} [{self.fmt}]"


def formats(kind: str) -> tuple[str, ...]:
    """Chat template and raw prompt for an instruct model; raw only for a base model."""
    return ("raw",) if kind == "base" else ("chat", "raw")


def floor_pairs(groups: Sequence[np.ndarray], pairs: int, seed: int) -> tuple[float, np.ndarray]:
    """The floor: `pairs` random pairs of answers to different prompts, drawn with `seed`
    (with replacement). Returns their mean cosine and, per prompt, the mean over the pairs
    that include one of its answers (the floor paired with that prompt's own similarity)."""
    if len(groups) < 2:
        raise ValueError("the floor needs answers to at least two prompts")
    x = np.concatenate(groups)
    label = np.repeat(np.arange(len(groups)), [len(g) for g in groups])
    rng = np.random.default_rng(seed)
    first, second = np.empty(0, dtype=int), np.empty(0, dtype=int)
    while len(first) < pairs:
        i, j = rng.integers(0, len(x), (2, 2 * pairs))
        keep = label[i] != label[j]
        first, second = np.concatenate([first, i[keep]]), np.concatenate([second, j[keep]])
    first, second = first[:pairs], second[:pairs]
    cos = np.einsum("nd,nd->n", x[first], x[second])
    per = [cos[(label[first] == p) | (label[second] == p)].mean() for p in range(len(groups))]
    return float(cos.mean()), np.array(per)


def sample_conditions(
    ctx: ExperimentContext, specs: Sequence[str], prompts: Sequence[Prompt], proto: Protocol
) -> list[Condition]:
    """Sample (or read from cache) K samples per prompt of every model in each of its formats
    under `proto`, and embed them with the protocol's embedder (cached in the store)."""
    from homogeny.embeddings import embed
    from homogeny.models import model_info

    tables = []
    for spec in specs:
        info = model_info(spec)
        for fmt in formats(info.kind):
            label = f"{info.model_id} [{fmt}]"
            ctx.log(f"c4 ({proto.name}): {label}: {len(prompts)} prompts x {proto.samples}")
            rows = ctx.sample(spec, prompts, proto.samples, chat=fmt == "chat", **proto.sampling())
            require_complete(label, rows, proto.samples)
            texts = {pid: [r["text"] for r in rs][: proto.samples] for pid, rs in rows.items()}
            tables.append((info.model_id, info.kind, fmt, texts))
    unique = sorted({t for *_, texts in tables for ts in texts.values() for t in ts})
    vectors = dict(zip(unique, np.asarray(embed(unique, model=proto.embedder, store=ctx.store))))
    return [
        Condition(
            m,
            kind,
            fmt,
            [np.array([vectors[t] for t in texts[p.id]]) for p in prompts],
            sum(not t.strip() for p in prompts for t in texts[p.id]),
        )
        for m, kind, fmt, texts in tables
    ]


def srt_rows(
    ctx: ExperimentContext, name: str, specs: Sequence[str], prompts: Sequence[Prompt]
) -> list[Evidence]:
    """The protocol's secondary rows on every model of `specs` that can be sampled (imported
    ones: not testable), and the artifact ("c4", name) with the study's figures beside ours."""
    proto = protocol(name)
    imported = [m for m in specs if is_imported(m)]
    local = [m for m in specs if not is_imported(m)]
    rows = [skipped(ctx, imported, why_not(imported[0], "generate"))] if imported else []
    if len(prompts) < 2:
        reason = f"the {name} floor needs at least two prompts; this plan has {len(prompts)}"
        return rows + ([skipped(ctx, local, reason)] if local else [])
    if not local:
        return rows
    conditions = sample_conditions(ctx, local, prompts, proto)
    table, evidence = condition_rows(ctx, conditions, proto)
    effects = format_rows(ctx, conditions)
    ctx.artifact(CLAIM, name, artifact(proto, prompts, table, effects, imported))
    return rows + evidence + effects


def skipped(ctx: ExperimentContext, models: Sequence[str], reason: str) -> Evidence:
    """One not-testable SRT row for `models`, with the reason."""
    return not_testable(
        CLAIM, INTRA_QUESTION, INTRA, reason, role="secondary", unit="cosine",
        threshold=SAME_THRESHOLD, subject=", ".join(models), models=tuple(models),
        quick=ctx.quick,
    )  # fmt: skip


def condition_rows(
    ctx: ExperimentContext, conditions: Sequence[Condition], proto: Protocol
) -> tuple[list[dict[str, object]], list[Evidence]]:
    """Per model and format: the intra-model similarity (prompts as units) and its excess over
    the floor; with the artifact's table rows (ours beside the published figure)."""
    table, rows = [], []
    for c in conditions:
        intra = np.array([mean_pairwise_similarity(g) for g in c.groups])
        floor, floor_by_prompt = floor_pairs(c.groups, proto.floor_pairs, proto.floor_seed)
        fig = published_figure(c.model, c.kind, c.fmt)
        plot = {
            "labels": [c.subject, "floor (different prompts)"]
            + ([f"study: {fig.model} [{fig.fmt}]"] if fig else []),
            "values": [float(intra.mean()), floor] + ([fig.similarity] if fig else []),
        }
        common = dict(unit="cosine", role="secondary", subject=c.subject, models=[c.model])
        row = ctx.evidence(
            CLAIM, INTRA, intra, question=INTRA_QUESTION, threshold=SAME_THRESHOLD, plot=plot,
            sign="per prompt, the mean pairwise cosine of the model's K samples (SRT protocol); "
            "above 0.8 = the Hivemind's 'near-identical' samples",
            **common,
        )  # fmt: skip
        above = ctx.evidence(
            CLAIM, ABOVE_FLOOR, intra - floor_by_prompt, question=FLOOR_QUESTION, plot=plot,
            sign="per prompt, its samples' mean pairwise cosine minus the mean cosine of the "
            "floor's random different-prompt pairs that include one of its answers",
            **common,
        )  # fmt: skip
        rows += [row, above]
        table.append(table_row(c, row, floor, fig))
    return table, rows


def table_row(
    c: Condition, row: Evidence, floor: float, fig: PublishedFigure | None
) -> dict[str, object]:
    """One line of the artifact's table: model, format, similarity with its interval, floor,
    and the study's figure where it covers the model (else None)."""
    return {
        "model": c.model,
        "kind": c.kind,
        "format": c.fmt,
        "similarity": row.effect,
        "low": row.ci_low,
        "high": row.ci_high,
        "n": row.n,
        "floor": floor,
        "empty_answers": c.empty,
        "answers": sum(len(g) for g in c.groups),
        "published": fig.similarity if fig else None,
        "published_model": fig.model if fig else None,
    }


def format_rows(ctx: ExperimentContext, conditions: Sequence[Condition]) -> list[Evidence]:
    """Per model sampled both ways: chat-template minus raw-prompt intra-model similarity,
    per prompt (the format effect on the same weights)."""
    by_model: dict[str, dict[str, Condition]] = {}
    for c in conditions:
        by_model.setdefault(c.model, {})[c.fmt] = c
    rows = []
    for model, pair in by_model.items():
        if set(pair) != {"chat", "raw"}:
            continue
        chat, raw = ([mean_pairwise_similarity(g) for g in pair[f].groups] for f in ("chat", "raw"))
        diff = np.array(chat) - np.array(raw)
        study = published_effect(model, pair["chat"].kind)
        rows.append(
            ctx.evidence(
                CLAIM,
                FORMAT,
                diff,
                question=FORMAT_QUESTION,
                unit="cosine",
                role="secondary",
                sign="per prompt, intra-model similarity through the chat template minus on the "
                "raw prompt (same weights, SRT protocol); positive = the template homogenises",
                subject=model,
                models=[model],
                plot={
                    "labels": [
                        "chat - raw",
                        *(["study (same model)"] if study is not None else []),
                    ],
                    "values": [float(diff.mean()), *([study] if study is not None else [])],
                },
            )  # fmt: skip
        )
    return rows


def published_effect(model: str, kind: str) -> float | None:
    """The study's chat-minus-raw difference for this model, from its published figures."""
    chat, raw = (published_figure(model, kind, f) for f in ("chat", "raw"))
    return None if chat is None or raw is None else round(chat.similarity - raw.similarity, 3)


def artifact(
    proto: Protocol,
    prompts: Sequence[Prompt],
    table: list[dict[str, object]],
    effects: Sequence[Evidence],
    imported: Sequence[str],
) -> dict[str, object]:
    """The ("c4", protocol) artifact: settings, the per-model table, the format effects and
    the study's published figures beside them."""
    return {
        "protocol": asdict(proto),
        "prompts": [p.id for p in prompts],
        "table": table,
        "chat_minus_raw": [
            {
                "model": e.subject,
                "effect": e.effect,
                "low": e.ci_low,
                "high": e.ci_high,
                "n": e.n,
                "published": published_effect(e.subject, "instruct"),
            }
            for e in effects
        ],
        "published": [asdict(f) for f in SRT_PUBLISHED],
        "published_effects": dict(SRT_PUBLISHED_EFFECTS),
        "not_testable": list(imported),
        "note": "base models are sampled on the raw prompt only (no chat template)",
    }
