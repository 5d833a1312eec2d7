"""Reading imported models back for the claims: who they are (family, size, vendor, arm), the
same-family size ladders among them, and NoveltyBench's partitions per draw."""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np

from homogeny.importing.noveltybench import PARTITION
from homogeny.store import Store


@dataclass(frozen=True)
class ImportedModel:
    """An imported model as stored: `imported:NAME[ARM]` with its manifest metadata."""

    model_id: str
    model: str  # the data's `model` field
    group: str  # treatment arm, "" for plain sampling
    family: str
    params: int  # 0: unknown (unpublished)
    kind: str  # base | instruct | human
    vendor: str


def imported_models(store: Store) -> list[ImportedModel]:
    """Every imported model of the store, by model id."""
    out = []
    for row in store.models():
        if row.get("backend") != "imported":
            continue
        info: dict[str, Any] = json.loads(row.get("info_json") or "{}")
        out.append(
            ImportedModel(
                row["model_id"],
                str(info.get("model", "")),
                str(info.get("group", "")),
                str(info.get("family", "")),
                int(info.get("params") or 0),
                str(info.get("kind", "instruct")),
                str(info.get("vendor", "")),
            )  # fmt: skip
        )
    return sorted(out, key=lambda m: m.model_id)


def ladders(models: list[ImportedModel], min_sizes: int = 3) -> dict[str, list[ImportedModel]]:
    """Same-family size ladders: per family, its plain-sampling models of known, different
    sizes, smallest first; families with fewer than `min_sizes` sizes are left out."""
    by_family: dict[str, dict[int, ImportedModel]] = {}
    for m in models:
        if m.family and m.params > 0 and not m.group and m.kind != "human":
            by_family.setdefault(m.family, {}).setdefault(m.params, m)
    return {
        family: [sizes[p] for p in sorted(sizes)]
        for family, sizes in sorted(by_family.items())
        if len(sizes) >= min_sizes
    }


def partitions(store: Store) -> dict[tuple[str, str], list[int]]:
    """(model id, prompt id) -> NoveltyBench class id of each stored sample, by sample index."""
    draws: dict[tuple[str, str], dict[int, int]] = {}
    for row in store.annotations(PARTITION):
        draw = draws.setdefault((row["model_id"], row["prompt_id"]), {})
        draw[int(row["sample_index"])] = int(row["value"])
    return {key: [d[i] for i in sorted(d)] for key, d in draws.items()}


Table = dict[str, dict[str, list[str]]]  # model id -> prompt id -> texts by sample index


def texts(store: Store, model_ids: list[str]) -> Table:
    """model id -> prompt id -> the stored texts of that draw, by sample index (what a study
    that needs texts only reads instead of sampling)."""
    out: Table = {m: {} for m in model_ids}
    for row in store.model_texts(model_ids):
        out[row["model_id"]].setdefault(row["prompt_id"], []).append(row["text"])
    return out


def common_prompts(table: Table, model_ids: list[str], min_samples: int = 2) -> list[str]:
    """Prompt ids that every one of `model_ids` answered at least `min_samples` times, sorted."""
    sets = [{p for p, ts in table.get(m, {}).items() if len(ts) >= min_samples} for m in model_ids]
    return sorted(set.intersection(*sets)) if sets else []


def in_scope(store: Store, specs: list[str]) -> list[ImportedModel]:
    """The imported models among the model specs of a run (`imported:NAME` as stored)."""
    named = {s.strip() for s in specs}
    return [m for m in imported_models(store) if m.model_id in named]


def embed_chunks(
    embed: Callable[[list[str]], Any],
    texts: list[str],
    log: Callable[[str], None] = lambda m: None,
    size: int = 2000,
) -> dict[str, Any]:
    """text -> vector for `texts`, embedded `size` at a time with a cache-backed `embed` (such
    as ExperimentContext.embed), so a stopped run keeps what it embedded and resumes there."""
    out: dict[str, Any] = {}
    for start in range(0, len(texts), size):
        chunk = texts[start : start + size]
        out.update(zip(chunk, np.asarray(embed(chunk))))
        if len(texts) > size:
            log(f"embedded {min(start + size, len(texts))}/{len(texts)} imported texts")
    return out
