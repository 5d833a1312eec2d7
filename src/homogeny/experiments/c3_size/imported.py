"""C3 on imported texts (`homogeny import`): same-family size ladders of models someone else
sampled (NoveltyBench: Llama 3 1B -> 405B, Gemma 2 2B -> 27B, Command R7B -> R+).

Only texts are imported, so only the measures that need texts run: distinct samples per draw
(homogeny's own MiniLM equivalence, and NoveltyBench's released partitions beside it) and the
valid-output measures. Per-token concentration needs log-probabilities: its rows say "not
testable on imported texts". Humans (`imported:human`) are a reference value, never a ladder.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np

from homogeny.experiments.base import ExperimentContext
from homogeny.experiments.c3_size.measures import ModelRun, PromptMeasures, measure_prompt
from homogeny.importing import stored
from homogeny.importing.distinct import classes

Step = tuple[ModelRun, ModelRun]


@dataclass
class ImportedSet:
    """The imported ladder models with their measures, and NoveltyBench's distinct per draw."""

    ladders: dict[str, list[ModelRun]]
    measures: dict[str, dict[str, PromptMeasures]]  # model label -> prompt id -> measures
    partitions: dict[str, dict[str, float]]  # model label -> prompt id -> classes / k
    human: dict[str, float] = field(default_factory=dict)  # prompt id -> humans' classes / k

    @property
    def runs(self) -> list[ModelRun]:
        """Every ladder model, ladder by ladder, smallest first."""
        return [r for rs in self.ladders.values() for r in rs]

    @property
    def steps(self) -> list[Step]:
        """Consecutive (smaller, larger) pairs of every imported ladder."""
        return [pair for rs in self.ladders.values() for pair in zip(rs, rs[1:])]

    def ids(self, models: Sequence[ModelRun]) -> list[str]:
        """Prompts measured for every one of `models`."""
        sets = [set(self.measures[m.label]) for m in models]
        return sorted(set.intersection(*sets)) if sets else []


def load_imported(ctx: ExperimentContext, specs: Sequence[str]) -> ImportedSet | None:
    """The imported size ladders among `specs` with their measures (None when `specs` names
    no imported model with a published size in a family of two or more sizes)."""
    scope = stored.in_scope(ctx.store, list(specs))
    ladder_models = stored.ladders(scope, min_sizes=2)
    if not ladder_models:
        return None
    ladders = {
        fam: [ModelRun(m.model_id, m.model_id, m.params, m.kind, m.family) for m in ms]
        for fam, ms in ladder_models.items()
    }
    ids = [r.label for rs in ladders.values() for r in rs]
    table = stored.texts(ctx.store, ids)
    for run in (r for rs in ladders.values() for r in rs):
        run.rows = {p: [_row(t) for t in ts] for p, ts in table[run.label].items() if len(ts) > 1}
    ctx.log(f"c3: {len(ids)} imported ladder models ({', '.join(ladders)}) read from the store")
    measures = measure_texts(ctx, [r for rs in ladders.values() for r in rs])
    parts = stored.partitions(ctx.store)
    humans = [m.model_id for m in scope if m.kind == "human"]
    return ImportedSet(
        ladders,
        measures,
        {m: _per_draw(parts, m) for m in ids},
        _per_draw(parts, humans[0]) if humans else {},
    )


def _row(text: str) -> dict[str, object]:
    """A stored text as the sample row C3's measures read (no tokens, timing or logprobs)."""
    return {"text": text, "n_tokens": 0, "gen_seconds": 0.0, "top_logprobs_json": None}


def _per_draw(parts: dict[tuple[str, str], list[int]], model: str) -> dict[str, float]:
    """prompt id -> NoveltyBench's classes / k of one model's draws (prompts with a partition)."""
    return {p: classes(ps) / len(ps) for (m, p), ps in parts.items() if m == model and ps}


def measure_texts(
    ctx: ExperimentContext, runs: Sequence[ModelRun]
) -> dict[str, dict[str, PromptMeasures]]:
    """C3's text measures of every draw (embeddings cached in the store by text hash)."""
    unique = sorted({r["text"] for run in runs for rows in run.rows.values() for r in rows})
    vectors = stored.embed_chunks(ctx.embed, unique, lambda m: ctx.log(f"c3: {m}"))
    return {
        run.label: {
            p: measure_prompt(rows, np.array([vectors[r["text"]] for r in rows]))
            for p, rows in run.rows.items()
        }
        for run in runs
    }


def step_values(values: dict[str, dict[str, float]], step: Step, ids: Sequence[str]) -> np.ndarray:
    """Per prompt, the change of a per-draw value per decade of parameters across one step."""
    small, big = step
    decades = np.log10(big.params) - np.log10(small.params)
    diff = np.array(
        [(values[big.label][p] - values[small.label][p]) / decades for p in ids
         if p in values[big.label] and p in values[small.label]]
    )  # fmt: skip
    return diff[np.isfinite(diff)] if diff.size else diff


def per_draw_table(imp: ImportedSet) -> dict[str, dict[str, float]]:
    """model label -> prompt id -> distinct@k / k with homogeny's own equivalence."""
    return {
        label: {p: float(m.distinct_curve[-1] / m.n_samples) for p, m in ms.items()}
        for label, ms in imp.measures.items()
    }
