"""NoveltyBench rows -> imported samples.

A row (NoveltyBench's `scores.jsonl`, `partitions.jsonl` or `generations.jsonl`) holds one
prompt's k generations from one model: `id`, `prompt`, `model`, `generations` and, once
partitioned, `partition` (0-based equivalence class per generation, from NoveltyBench's
DeBERTa classifier) and `generation_scores` (reward-model score per generation). Each
generation becomes one sample of `imported:MODEL`, its index its position in `generations`;
its class id is kept as annotation `noveltybench_partition`, its score as `noveltybench_score`.

Treatment arms: NoveltyBench's sample data names them in the file name after the model
(`gpt-4o-in-context.jsonl`, `gpt-4o-paraphrase.jsonl`, `gpt-4o-system-prompt.jsonl`), while
the rows all say `gpt-4o-2024-11-20`; such a file's samples belong to `imported:MODEL[ARM]`
(e.g. `imported:gpt-4o-2024-11-20[paraphrase]`), with the arm as annotation `group`. A row's
own `group` field wins over the file name.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from homogeny.importing.sources import (
    ImportInputError,
    Item,
    Source,
    require,
    sampling_params,
    text_field,
)

ARMS = ("in-context", "paraphrase", "system-prompt")  # NoveltyBench's sample_data arms
PARTITION = "noveltybench_partition"
SCORE = "noveltybench_score"


def arm_of_file(path: str) -> str:
    """The treatment arm a NoveltyBench file name gives (`gpt-4o-paraphrase.jsonl` ->
    `paraphrase`), or "" for a plain file."""
    stem = Path(path).stem
    return next((arm for arm in ARMS if stem.endswith(f"-{arm}")), "")


def items(source: Source) -> list[Item]:
    """Every generation of every row of a NoveltyBench file, checked row by row."""
    arm = arm_of_file(source.path)
    out: list[Item] = []
    for line, row in source.rows:
        out.extend(_row_items(source, line, row, arm))
    return out


def _row_items(source: Source, line: int, row: dict[str, Any], arm: str) -> list[Item]:
    require(source, line, row, ("id", "prompt", "model", "generations"))
    prompt_id = text_field(source, line, row, "id")
    prompt = text_field(source, line, row, "prompt")
    model = text_field(source, line, row, "model")
    group = text_field(source, line, row, "group") if row.get("group") is not None else arm
    texts = _generations(source, line, row["generations"])
    partition = _per_generation(source, line, row, "partition", len(texts), whole=True)
    scores = _per_generation(source, line, row, "generation_scores", len(texts), whole=False)
    params = sampling_params(source, line, row)
    out = []
    for i, text in enumerate(texts):
        notes = {PARTITION: str(partition[i])} if partition else {}
        if scores:
            notes[SCORE] = repr(float(scores[i]))
        out.append(
            Item(model, group, prompt_id, prompt, i, text, source.path, source.sha256, line,
                 "noveltybench", params, notes)
        )  # fmt: skip
    return out


def _generations(source: Source, line: int, value: Any) -> list[str]:
    if not isinstance(value, list) or not value:
        raise ImportInputError(
            f"{source.path}:{line}: generations must be a non-empty list of strings"
        )
    for i, text in enumerate(value):
        if not isinstance(text, str):
            kind = "null" if text is None else type(text).__name__
            raise ImportInputError(
                f"{source.path}:{line}: generations[{i}] is {kind}, not a string"
            )
    return value


def _per_generation(
    source: Source, line: int, row: dict[str, Any], name: str, k: int, whole: bool
) -> list[Any]:
    """An optional per-generation list (partition: class ids >= 0; scores: numbers)."""
    value = row.get(name)
    if value is None:
        return []
    ok = isinstance(value, list) and len(value) == k
    for v in value if ok else []:
        number = isinstance(v, (int, float)) and not isinstance(v, bool)
        if not number or (whole and (v != int(v) or v < 0)):
            ok = False
    if not ok:
        what = "class ids (whole numbers >= 0)" if whole else "numbers"
        raise ImportInputError(
            f"{source.path}:{line}: {name} must be a list of {k} {what}, one per generation"
        )
    return [int(v) for v in value] if whole else value
