"""What the evidence was measured on, said under the answer: which models (embedded,
trained here, imported, remote), quick or full, output length caps, base or instruct, how many
prompts and samples; and the per-model summary table (distinct outputs, length, caps hit)."""

from __future__ import annotations

import json
from collections import defaultdict
from collections.abc import Sequence
from typing import Any

from homogeny.report import labels
from homogeny.report.plots import fmt

ORIGINS = {
    "embedded": "embedded (shipped with homogeny)",
    "imported": "imported texts (generated elsewhere, read from a file; no model run here)",
    "remote": "remote (an OpenAI-compatible server)",
}
HUMAN_FLOOR_METRIC = "model_minus_human_intra_similarity"  # C4's check row on imported humans
BASE_NOTE = (
    "a base model: it continues the prompt rather than answering it (often echoing it), so "
    "its outputs in cross-model measures are completions, not answers"
)


def origin(spec: Any, backend: Any = "") -> str:
    """embedded | imported | remote, from a model's spec ("zoo:…", "openai:…", a path)."""
    text = str(spec or "")
    if text.startswith("openai:") or str(backend) == "openai":
        return "remote"
    if text.startswith("zoo:") or (":" not in text and not text.endswith(".gguf") and text):
        return "embedded"
    return "imported"


def _info(m: dict[str, Any]) -> dict[str, Any]:
    try:
        info = json.loads(m.get("info_json") or "{}")
    except (TypeError, ValueError):
        return {}
    return info if isinstance(info, dict) else {}


def model_table(
    models: Sequence[dict[str, Any]], samples: Sequence[dict[str, Any]]
) -> list[dict[str, Any]]:
    """One row per model that produced samples: origin, kind, samples, prompts, the mean share
    of distinct outputs per prompt (among its samples of that prompt), mean length in tokens,
    the length caps used and the share of outputs that hit them."""
    by_model: dict[str, dict[str, list[str]]] = defaultdict(lambda: defaultdict(list))
    tokens: dict[str, list[int]] = defaultdict(list)
    caps: dict[str, set[int]] = defaultdict(set)
    capped: dict[str, int] = defaultdict(int)
    for s in samples:
        mid = str(s.get("model_id"))
        by_model[mid][str(s.get("prompt_hash"))].append(str(s.get("text") or ""))
        if isinstance(s.get("n_tokens"), int):
            tokens[mid].append(s["n_tokens"])
        if isinstance(s.get("max_tokens"), int):
            caps[mid].add(s["max_tokens"])
        capped[mid] += s.get("finish_reason") == "length"
    known = {str(m.get("model_id")): m for m in models}
    rows = []
    for mid in sorted(set(known) | set(by_model)):
        m, prompts = known.get(mid, {}), by_model.get(mid, {})
        info, n = _info(m), sum(len(v) for v in prompts.values())
        multi = [len(set(v)) / len(v) for v in prompts.values() if len(v) >= 2]
        rows.append(
            {
                "model": mid,
                "origin": origin(m.get("spec"), m.get("backend")),
                "kind": info.get("kind") or "—",
                "params": info.get("params"),
                "samples": n,
                "prompts": len(prompts),
                "distinct": sum(multi) / len(multi) if multi else None,
                "tokens": sum(tokens[mid]) / len(tokens[mid]) if tokens[mid] else None,
                "caps": sorted(caps[mid]),
                "capped": capped[mid] / n if n else None,
            }
        )
    return rows


def scope(
    by_claim: dict[str, list[dict[str, Any]]], table: Sequence[dict[str, Any]], n_prompts: int = 0
) -> dict[str, Any]:
    """The scope box's facts, each as a short line of text, whether any row was quick, and
    `measured_on`, the answer's phrase for what was measured."""
    rows = [r for rs in by_claim.values() for r in rs]
    quick = [r for r in rows if r.get("quick")]
    groups: dict[str, list[str]] = defaultdict(list)
    humans = [m["model"] for m in table if m["kind"] == "human"]  # people: a floor, not a model
    for m in (m for m in table if m["kind"] != "human"):
        groups[m["origin"]].append(
            m["model"] + (f" ({m['kind']})" if m["kind"] in ("base", "instruct") else "")
        )
    lines = [f"{ORIGINS[o]}: {', '.join(groups[o])}" for o in ORIGINS if groups.get(o)]
    toy = sorted({_label(str(r.get("claim"))) for r in rows if labels.trained_here(r)}, key=_order)
    if toy:
        lines.append(
            f"trained here (tiny GPTs and CPPNs, not the models above): the evidence of "
            f"{', '.join(toy)} marked “trained here”"
        )
    caps = sorted({c for m in table for c in m["caps"]})
    capped = [m for m in table if m["capped"]]
    base = [m["model"] for m in table if m["kind"] == "base"]
    n_samples = sum(m["samples"] for m in table)
    names = [
        m["model"] + (" (a base model)" if m["kind"] == "base" else "")
        for m in table
        if m["kind"] != "human"
    ]
    measured_on = (
        f"{len(names)} stored model{'s' if len(names) != 1 else ''} ({', '.join(names)})"
        if names
        else "no stored model"
    )
    if humans:
        measured_on += f", against {human_floor(by_claim, humans)}"
        lines.append(f"human floor (people's answers, not a model): {', '.join(humans)}")
    if toy:
        measured_on += f" and, for part of {', '.join(toy)}, on tiny models trained here"
    return {
        "measured_on": measured_on,
        "quick": bool(quick),
        "all_quick": bool(rows) and len(quick) == len(rows),
        "models": lines,
        "mode": (
            "quick (--quick: fewer prompts and samples, wider intervals)"
            if rows and len(quick) == len(rows)
            else f"mixed: {len(quick)} of {len(rows)} evidence rows from quick runs"
            if quick
            else "full"
            if rows
            else "nothing measured yet"
        ),
        "caps": (
            f"outputs capped at {_range(caps)} tokens"
            + (
                f"; {max(m['capped'] for m in capped):.0%} of one model's outputs hit the cap"
                if capped
                else ""
            )
        )
        if caps
        else "no length cap recorded",
        "base": [f"{b} is {BASE_NOTE}" for b in base],
        "counts": f"{n_samples:,} stored samples of {n_prompts:,} distinct prompts",
    }


def human_floor(by_claim: dict[str, list[dict[str, Any]]], humans: Sequence[str]) -> str:
    """The answer's phrase for the human floor: people's answers (imported, e.g. NoveltyBench's
    humans) and, where C4 compared them, how alike the models' and the people's answers are."""
    phrase = f"a human floor (people's answers to the same prompts, {', '.join(humans)}"
    row = next((r for r in by_claim.get("c4", []) if r.get("metric") == HUMAN_FLOOR_METRIC), None)
    values = (row or {}).get("plot", {}).get("values") or []
    if len(values) != 2:
        return phrase + ")"
    return (
        f"{phrase}: a model's answers to a prompt are {fmt(values[0])} cosine alike, "
        f"different people's {fmt(values[1])})"
    )


def _label(claim: str) -> str:
    return "T" if claim.lower() == "t" else claim.upper()


def _order(label: str) -> str:
    return "C9" if label == "T" else label


def _range(values: Sequence[int]) -> str:
    return f"{values[0]}" if len(values) == 1 else f"{values[0]}–{values[-1]}"
