"""Metrics by name over lists of texts, for `homogeny score FILE.jsonl --metric NAME`.

`METRICS` maps a name to a callable on a list of texts; `score_texts` groups records and
scores each group; `read_text_jsonl` reads a JSONL file of {"text": ...} records.
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np

from homogeny.errors import HomogenyError, PromptFileError, did_you_mean
from homogeny.metrics import lexical, reliability, semantic
from homogeny.metrics.stats import bootstrap_ci

if TYPE_CHECKING:
    from homogeny.store import Store


@dataclass(frozen=True)
class MetricSpec:
    """A metric on a list of texts: what it measures, its direction, its minimum input size."""

    name: str
    compute: Callable[[Any], float] = field(repr=False)  # on texts, or on embeddings when embeds
    description: str
    higher_means: str  # "more homogeneous" | "more diverse"
    min_texts: int = 1
    embeds: bool = False  # needs sentence embeddings (loads the embedding model once)

    def __call__(self, texts: list[str], store: Store | None = None) -> float:
        if len(texts) < self.min_texts:
            raise HomogenyError(
                f"metric {self.name!r} needs at least {self.min_texts} texts, got {len(texts)}"
            )
        if self.embeds:
            from homogeny.embeddings import embed

            return float(self.compute(embed(texts, store=store)))
        return float(self.compute(texts))


def _specs() -> dict[str, MetricSpec]:
    lex, sem, rel = lexical, semantic, reliability
    same, diverse = "more homogeneous", "more diverse"
    specs = [
        MetricSpec(
            "homogenization_rougel",
            lambda t: lex.homogenization_score(t, "rougel", digits=None),
            "mean pairwise ROUGE-L F1 (Padmakumar & He 2023)",
            same,
            2,
        ),
        MetricSpec(
            "homogenization_bleu",
            lambda t: lex.homogenization_score(t, "bleu", digits=None),
            "mean BLEU of the others against each text",
            same,
            2,
        ),
        MetricSpec(
            "compression_gzip",
            lambda t: lex.compression_ratio(t, "gzip", digits=None),
            "raw bytes / gzip bytes (Shaib et al. 2024)",
            same,
        ),
        MetricSpec(
            "compression_xz",
            lambda t: lex.compression_ratio(t, "xz", digits=None),
            "raw bytes / xz bytes",
            same,
        ),
        MetricSpec(
            "ngram_diversity",
            lambda t: lex.ngram_diversity_score(t, digits=None),
            "sum over n<=4 of distinct/total n-grams, across documents (reference)",
            diverse,
        ),
        MetricSpec(
            "ngram_diversity_per_doc",
            lambda t: lex.ngram_diversity_score_per_document(t, digits=None),
            "the same with n-grams inside each document",
            diverse,
        ),
        MetricSpec(
            "self_repetition",
            lex.self_repetition_score,
            "mean log(1 + 4-gram repeats in other texts) (Salkar et al. 2022)",
            same,
        ),
        MetricSpec(
            "self_bleu",
            lex.self_bleu,
            "mean BLEU-4 of each text against the others (Zhu et al. 2018)",
            same,
            2,
        ),
        MetricSpec(
            "distinct_1",
            lambda t: lex.distinct_n(t, 1),
            "distinct / total unigrams (Li et al. 2016)",
            diverse,
        ),
        MetricSpec(
            "distinct_2", lambda t: lex.distinct_n(t, 2), "distinct / total bigrams", diverse
        ),
        MetricSpec(
            "exact_repeat_rate", rel.exact_repeat_rate, "share of identical pairs of texts", same, 2
        ),
        MetricSpec(
            "distinct_exact",
            lambda t: float(sem.distinct_at_k(t)),
            "number of distinct texts after case/space normalisation",
            diverse,
        ),
        MetricSpec(
            "vendi",
            lambda e: sem.vendi_score(e),
            "Vendi score of MiniLM embeddings (Friedman & Dieng 2023)",
            diverse,
            embeds=True,
        ),
        MetricSpec(
            "distinct_at_k",
            lambda e: float(sem.distinct_at_k(e)),
            f"classes at MiniLM cosine >= {sem.DEFAULT_SAME_THRESHOLD} (NoveltyBench)",
            diverse,
            embeds=True,
        ),
        MetricSpec(
            "semantic_similarity",
            sem.mean_pairwise_similarity,
            "mean pairwise MiniLM cosine similarity",
            same,
            2,
            embeds=True,
        ),
    ]
    return {s.name: s for s in specs}


METRICS: dict[str, MetricSpec] = _specs()


def get_metric(name: str) -> MetricSpec:
    """The metric called `name`; HomogenyError with a did-you-mean when there is none."""
    if name not in METRICS:
        raise HomogenyError(
            f"unknown metric {name!r}{did_you_mean(name, list(METRICS))}; "
            f"known: {', '.join(METRICS)}"
        )
    return METRICS[name]


def score_texts(
    records: Sequence[dict[str, Any]],
    metric: str,
    by: str | None = None,
    unit: str | None = None,
    store: Store | None = None,
    n_resamples: int = 1000,
    seed: int = 0,
) -> dict[str, Any]:
    """Score the `text` of records with `metric`, per value of field `by` (or all together).

    Without `unit` each group gets the metric on all its texts and no interval: set metrics
    are not means of independent parts, and resampling texts with replacement would plant
    duplicates that fake homogeneity. With `unit` (e.g. "prompt_id") the metric is computed
    inside each unit, the group's value is the mean over units, and the 95% interval is a
    percentile bootstrap over units."""
    spec = get_metric(metric)
    groups = _group(records, by)
    results = {
        key: _score_group(spec, rows, unit, store, n_resamples, seed)
        for key, rows in groups.items()
    }
    return {
        "metric": spec.name,
        "description": spec.description,
        "higher_means": spec.higher_means,
        "by": by,
        "unit": unit,
        "groups": results,
    }


def _group(
    records: Sequence[dict[str, Any]], field_name: str | None
) -> dict[str, list[dict[str, Any]]]:
    groups: dict[str, list[dict[str, Any]]] = {}
    for i, rec in enumerate(records):
        if field_name is None:
            key = "all"
        elif field_name not in rec:
            raise HomogenyError(
                f"record {i + 1} has no field {field_name!r} to group by; fields: {', '.join(rec)}"
            )
        else:
            key = str(rec[field_name])
        groups.setdefault(key, []).append(rec)
    return groups


def _score_group(
    spec: MetricSpec,
    rows: list[dict[str, Any]],
    unit: str | None,
    store: Store | None,
    n_resamples: int,
    seed: int,
) -> dict[str, Any]:
    texts = [r["text"] for r in rows]
    if unit is None:
        return {
            "value": spec(texts, store),
            "ci_low": None,
            "ci_high": None,
            "n": len(texts),
            "n_texts": len(texts),
            "n_units": None,
        }
    by_unit = _group(rows, unit)
    values = np.array(
        [
            spec([r["text"] for r in us], store)
            for us in by_unit.values()
            if len(us) >= spec.min_texts
        ],
        dtype=np.float64,
    )
    if values.size == 0:
        raise HomogenyError(
            f"no {unit!r} unit has the {spec.min_texts} texts metric {spec.name!r} needs"
        )
    if values.size == 1:
        low = high = float(values[0])
    else:
        res = bootstrap_ci(np.mean, values, n_resamples=n_resamples, seed=seed)
        low, high = res.low, res.high
    return {
        "value": float(values.mean()),
        "ci_low": low,
        "ci_high": high,
        "n": len(texts),
        "n_texts": len(texts),
        "n_units": int(values.size),
    }


def read_text_jsonl(path: str | os.PathLike[str]) -> list[dict[str, Any]]:
    """Records of a JSONL file, one JSON object per line with a string field "text".

    Blank lines are skipped; a bad line raises PromptFileError naming the file and line."""
    p = os.fspath(path)
    try:
        with open(p, encoding="utf-8") as fh:
            lines = fh.readlines()
    except FileNotFoundError:
        raise PromptFileError(f"file {p!r} does not exist") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise PromptFileError(f"cannot read {p!r}: {exc}") from None
    records = []
    for number, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        try:
            rec = json.loads(line)
        except json.JSONDecodeError as exc:
            raise PromptFileError(
                f"{p}:{number}: not valid JSON ({exc.msg}); one JSON object per line"
            ) from None
        if not isinstance(rec, dict):
            raise PromptFileError(
                f'{p}:{number}: expected a JSON object with a "text" field, '
                f"got {type(rec).__name__}"
            )
        if "text" not in rec:
            raise PromptFileError(
                f'{p}:{number}: no "text" field (fields: {", ".join(rec) or "none"})'
            )
        if not isinstance(rec["text"], str):
            raise PromptFileError(
                f'{p}:{number}: "text" must be a string, got {type(rec["text"]).__name__}'
            )
        records.append(rec)
    if not records:
        raise PromptFileError(f"file {p!r} has no records")
    return records
