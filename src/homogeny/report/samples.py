"""The data behind the sample browser and the example outputs: every stored sample with all
its sampling parameters (seeds as strings, so JavaScript keeps every digit), the samples
behind each evidence row, and the phrases that side-by-side outputs share.

Reads the store through its named methods only (no SQL here).
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping, Sequence
from typing import Any

from homogeny.store import Store

BROWSER_BYTES = 1_400_000  # embedded sample text above this is left to the store (page < 2 MB)
SHARED_N = 3  # a phrase is shared when this many words in a row appear in two models' outputs
# Column order of one browser item; browser.js.j2 reads the same names from "columns".
COLUMNS = (
    "model",
    "prompt",
    "claim",
    "run",
    "text",
    "temperature",
    "top_p",
    "min_p",
    "top_k",
    "max_tokens",
    "chat",
    "stop",
    "seed",
    "index",
    "finish",
    "tokens",
)


def _stop(params_json: Any) -> str:
    try:
        stop = json.loads(params_json or "{}").get("stop") or []
    except (TypeError, ValueError, AttributeError):
        return ""
    return " | ".join(map(str, stop)) if isinstance(stop, list) else str(stop)


def browser_samples(
    store: Store,
    run_claims: dict[str, str],
    full: Sequence[dict[str, Any]] | None = None,
    budget: int | None = None,
) -> dict[str, Any]:
    """Every stored sample (newest first) for the in-page browser, prompts stored once; when
    the text passes `budget` bytes the oldest samples are left to the store and counted.
    `full`: the store's sample rows, when the caller has read them already."""
    rows = store.samples() if full is None else full
    budget = BROWSER_BYTES if budget is None else budget
    full = sorted(rows, key=lambda r: (-(r.get("created_at") or 0.0), str(r.get("key"))))
    texts = {
        r["prompt_hash"]: r.get("prompt_text") for r in store.recent_samples(max(len(full), 1))
    }
    prompts: dict[str, list[str]] = {}
    items, used = [], 0
    for r in full:
        text = str(r.get("text") or "")
        used += len(text.encode()) + 160
        if used > budget:
            break
        ph = str(r.get("prompt_hash"))
        prompts.setdefault(
            ph, [str(r.get("prompt_id") or ""), str(texts.get(ph) or r.get("prompt_id") or "")]
        )
        items.append(
            [
                r.get("model_id"),
                ph,
                run_claims.get(str(r.get("run_id")), "—"),
                r.get("run_id"),
                text,
                r.get("temperature"),
                r.get("top_p"),
                r.get("min_p"),
                r.get("top_k"),
                r.get("max_tokens"),
                r.get("chat"),
                _stop(r.get("params_json")),
                str(r.get("seed")),
                r.get("sample_index"),
                r.get("finish_reason") or "",
                r.get("n_tokens"),
            ]
        )
    return {
        "total": len(full),
        "shown": len(items),
        "columns": list(COLUMNS),
        "prompts": prompts,
        "samples": items,
    }


def evidence_filter(
    row: dict[str, Any], samples: dict[str, Any], run_claims: dict[str, str]
) -> dict[str, Any] | None:
    """The browser filter for the samples behind one evidence row: its run's samples from its
    models, else its claim's samples from its models; None when the browser holds none."""
    models = [m for m in str(row.get("models") or "").split(",") if m]
    items = samples["samples"]

    def count(key: int, value: str) -> int:
        return sum(1 for s in items if s[key] == value and (not models or s[0] in models))

    run = str(row.get("run_id") or "")
    if run and (n := count(3, run)):
        return {"run": run, "claim": "", "models": ",".join(models), "count": n}
    claim = run_claims.get(run) or ""
    claim = claim if claim and claim != "—" else str(row.get("claim") or "")
    if claim and (n := count(2, claim)):
        return {"run": "", "claim": claim, "models": ",".join(models), "count": n}
    return None


_WORD = re.compile(r"\S+")


def _grams(text: str, n: int = SHARED_N) -> set[tuple[str, ...]]:
    words = [w.lower().strip(".,;:!?\"'()") for w in _WORD.findall(text)]
    return {tuple(words[i : i + n]) for i in range(len(words) - n + 1)}


def highlight(
    outputs: Mapping[str, Sequence[str]], n: int = SHARED_N
) -> dict[str, list[list[tuple[str, bool]]]]:
    """Each output split into (text, shared) pieces: shared = part of a run of `n` words that
    another model's output on the same prompt also contains (case and punctuation ignored)."""
    grams = {
        m: set().union(*(_grams(t, n) for t in texts)) if texts else set()
        for m, texts in outputs.items()
    }
    out: dict[str, list[list[tuple[str, bool]]]] = {}
    for model, texts in outputs.items():
        others = (
            set().union(*(g for m, g in grams.items() if m != model)) if len(grams) > 1 else set()
        )
        out[model] = [_pieces(t, others, n) for t in texts]
    return out


def _pieces(text: str, shared: set[tuple[str, ...]], n: int) -> list[tuple[str, bool]]:
    spans = [
        (m.start(), m.end(), m.group().lower().strip(".,;:!?\"'()")) for m in _WORD.finditer(text)
    ]
    marked = [False] * len(spans)
    for i in range(len(spans) - n + 1):
        if tuple(s[2] for s in spans[i : i + n]) in shared:
            for k in range(i, i + n):
                marked[k] = True
    pieces: list[tuple[str, bool]] = []
    pos = 0
    for (start, end, _), flag in zip(spans, marked):
        gap_flag = flag and bool(pieces) and pieces[-1][1]
        if start > pos:
            pieces.append((text[pos:start], gap_flag))
        pieces.append((text[start:end], flag))
        pos = end
    if pos < len(text):
        pieces.append((text[pos:], False))
    merged: list[tuple[str, bool]] = []
    for piece, flag in pieces:
        if merged and merged[-1][1] == flag:
            merged[-1] = (merged[-1][0] + piece, flag)
        else:
            merged.append((piece, flag))
    return merged
