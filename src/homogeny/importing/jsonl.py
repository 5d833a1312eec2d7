"""Generic JSONL rows -> imported samples.

One row, one sample: `model`, `prompt_id`, `prompt`, `text` (required); `sample_index`
(optional, a whole number >= 0); sampling parameters (optional: temperature, top_p, min_p,
top_k, max_tokens, seed); `group` (optional: a treatment arm; the sample then belongs to
`imported:MODEL[GROUP]`, the arm also kept as annotation `group`).

Without `sample_index` a sample's index is its order among the file's rows of the same model,
group and prompt, and its text enters its key (so two files never collide on an index); give
`sample_index` when one model's samples of a prompt are spread over files that may change.
"""

from __future__ import annotations

from collections import Counter
from typing import Any

from homogeny.importing.sources import (
    ImportInputError,
    Item,
    Source,
    require,
    sampling_params,
    text_field,
)

REQUIRED = ("model", "prompt_id", "prompt", "text")


def items(source: Source) -> list[Item]:
    """One sample per row of a generic JSONL file, checked row by row."""
    order: Counter[tuple[str, str, str]] = Counter()
    out = []
    for line, row in source.rows:
        out.append(_item(source, line, row, order))
    return out


def _item(
    source: Source, line: int, row: dict[str, Any], order: Counter[tuple[str, str, str]]
) -> Item:
    require(source, line, row, REQUIRED)
    model, prompt_id, prompt, text = (text_field(source, line, row, f) for f in REQUIRED)
    group = text_field(source, line, row, "group") if row.get("group") is not None else ""
    index = row.get("sample_index")
    indexed = index is not None
    if indexed and (not isinstance(index, int) or isinstance(index, bool) or index < 0):
        raise ImportInputError(
            f"{source.path}:{line}: sample_index must be a whole number >= 0, got {index!r}"
        )
    if not indexed:
        index = order[(model, group, prompt_id)]
    order[(model, group, prompt_id)] += 1
    params = sampling_params(source, line, row)
    return Item(model, group, prompt_id, prompt, int(index), text, source.path,
                source.sha256, line, "jsonl", params, {}, indexed)  # fmt: skip
