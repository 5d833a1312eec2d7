"""`distinct` on imported partitions, exactly as NoveltyBench defines it.

NoveltyBench partitions the k generations of one prompt into equivalence classes (0-based
class ids, one per generation) and defines distinct_k as the NUMBER OF CLASSES: with 0-based
contiguous ids, max(partition) + 1. Its released `summarize.py` computes exactly this
(`len(partition_scores)`, one score per class), and the leaderboard's summary.json
`mean_distinct` is its mean over prompts.

The published off-by-one: the per-row `distinct` field of NoveltyBench's released
`scores.jsonl` is max(partition), i.e. classes MINUS ONE (0 when all k generations are
equivalent), so averaging that field gives 1.00 less than `mean_distinct`; and the paper's
figures and first leaderboard are reported to be 1.00 ABOVE what the released partitions give
(../shared/data/PROVENANCE.md). homogeny never
reads the row field: it counts the distinct class ids of each prompt's stored samples, so one
prompt whose generations are all equivalent scores 1, and k different ones score k.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from homogeny.errors import HomogenyError
from homogeny.importing.noveltybench import PARTITION
from homogeny.metrics.stats import bootstrap_ci
from homogeny.store import Store

NAME = "distinct"
DESCRIPTION = (
    "NoveltyBench distinct_k on imported partitions: equivalence classes among a prompt's k "
    "generations (max(partition) + 1), mean over prompts"
)


def classes(partition: list[int]) -> int:
    """NoveltyBench's distinct_k of one prompt: how many equivalence classes its k generations
    fall into (the number of different class ids; max + 1 for 0-based contiguous ids). Not
    the released per-row `distinct` field, which is max(partition): one less."""
    return len(set(partition))


def score_partitions(
    store: Store, by: str = "model_id", n_resamples: int = 1000, seed: int = 0
) -> dict[str, Any]:
    """`homogeny metrics --metric distinct`: per value of sample column `by`, the mean over
    (model, prompt) draws of their number of classes, with a 95% percentile bootstrap interval
    over the draws; in the shape score_texts returns. Only samples imported with a partition
    count; none at all is one error line."""
    found = store.annotation_classes(PARTITION, by)
    if not found:
        raise HomogenyError(
            f"store {store.path!r} has no sample with a NoveltyBench partition; import "
            "NoveltyBench rows with `homogeny import`, or use --metric distinct_at_k"
        )
    groups: dict[str, list[dict[str, Any]]] = {}
    for row in found:
        groups.setdefault(str(row[by]), []).append(row)
    results = {key: _group(rows, n_resamples, seed) for key, rows in groups.items()}
    return {"metric": NAME, "description": DESCRIPTION, "higher_means": "more diverse",
            "by": by, "unit": "prompt_id", "groups": results}  # fmt: skip


def _group(rows: list[dict[str, Any]], n_resamples: int, seed: int) -> dict[str, Any]:
    values = np.array([r["classes"] for r in rows], dtype=np.float64)
    if values.size == 1:
        low = high = float(values[0])
    else:
        res = bootstrap_ci(np.mean, values, n_resamples=n_resamples, seed=seed)
        low, high = res.low, res.high
    n = int(sum(r["k"] for r in rows))
    return {"value": float(values.mean()), "ci_low": low, "ci_high": high, "n": n,
            "n_texts": n, "n_units": int(values.size)}  # fmt: skip
