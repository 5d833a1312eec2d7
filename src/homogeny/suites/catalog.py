"""The prompt suites shipped with homogeny (suites/data/*.jsonl), as dicts or as Prompts.

Every suite was written for homogeny (see docs/suites.md); SUITES_VERSION changes whenever a
suite's content changes, so stored results can say which prompts they came from.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from importlib import resources
from importlib.resources.abc import Traversable
from itertools import zip_longest
from typing import Any

from homogeny.errors import HomogenyError, did_you_mean
from homogeny.suites.prompt import Prompt

SUITES_VERSION = "1"

QUICK_PARAPHRASE_FAMILIES = 6
QUICK_OPEN_ENDED = 12
QUICK_PERSONAS = 6
QUICK_JUDGING_ITEMS = 10
QUICK_SYNTHETIC_TASKS = 4
QUICK_QA = 10

# The verdict format of Schroeder & Wood-Doughty 2024 ("Best Response: [[X]]"); a backend that
# can continue text may be given this prefix so the next token is the verdict letter.
JUDGE_VERDICT_PREFIX = "Best Response: [["
JUDGE_LETTERS = ("A", "B", "C", "D", "E")


def _data_dir() -> Traversable:
    return resources.files("homogeny.suites") / "data"


def suite_names() -> list[str]:
    """Names of the shipped suites: the stems of suites/data/*.jsonl, sorted."""
    return sorted(
        p.name[: -len(".jsonl")] for p in _data_dir().iterdir() if p.name.endswith(".jsonl")
    )


def load_suite(name: str) -> list[dict[str, Any]]:
    """All rows of one shipped suite, in file order (one dict per JSONL line)."""
    names = suite_names()
    if name not in names:
        raise HomogenyError(
            f"unknown suite '{name}'{did_you_mean(name, names)}; choose one of: {', '.join(names)}"
        )
    text = (_data_dir() / f"{name}.jsonl").read_text(encoding="utf-8")
    return [json.loads(line) for line in text.splitlines() if line.strip()]


def suite_sizes() -> dict[str, int]:
    """Number of rows in each shipped suite."""
    return {name: len(load_suite(name)) for name in suite_names()}


def _meta(suite: str, row: dict[str, Any], drop: Iterable[str]) -> dict[str, Any]:
    skipped = set(drop)
    meta = {k: v for k, v in row.items() if k not in skipped}
    meta["suite"] = suite
    meta["suites_version"] = SUITES_VERSION
    return meta


def _round_robin(rows: list[dict[str, Any]], key: str, count: int) -> list[dict[str, Any]]:
    """A deterministic subset of `count` rows that visits every group of `key` in turn."""
    groups: dict[Any, list[dict[str, Any]]] = {}
    for row in rows:
        groups.setdefault(row[key], []).append(row)
    picked = [row for layer in zip_longest(*groups.values()) for row in layer if row is not None]
    return picked[:count]


def paraphrase_prompts(quick: bool = False) -> list[Prompt]:
    """The paraphrase families (C1): 6 phrasings per request, phrasing 0 the rarest wording and
    5 the most common. meta: family, phrasing, kind, category and, if checkable, answer and
    answer_aliases. quick keeps 6 families, half checkable and half open."""
    rows = load_suite("paraphrase_families")
    if quick:
        firsts = [r for r in rows if r["phrasing"] == 0]
        half = QUICK_PARAPHRASE_FAMILIES // 2
        keep = {
            r["family"]
            for kind in ("checkable", "open")
            for r in _round_robin([f for f in firsts if f["kind"] == kind], "category", half)
        }
        rows = [r for r in rows if r["family"] in keep]
    return [
        Prompt(
            id=f"{r['family']}/{r['phrasing']}",
            text=r["prompt"],
            meta=_meta("paraphrase_families", r, ["prompt"]),
        )
        for r in rows
    ]


def paraphrase_families(quick: bool = False) -> dict[str, list[Prompt]]:
    """The paraphrase prompts grouped by family, each list ordered by phrasing (rare first)."""
    families: dict[str, list[Prompt]] = {}
    for prompt in paraphrase_prompts(quick):
        families.setdefault(prompt.meta["family"], []).append(prompt)
    return {
        name: sorted(group, key=lambda p: p.meta["phrasing"]) for name, group in families.items()
    }


def open_ended_prompts(quick: bool = False) -> list[Prompt]:
    """Open-ended prompts in Infinity-Chat-like categories (C4, C1). quick keeps 12, taken in
    turn from each category."""
    rows = load_suite("open_ended")
    if quick:
        rows = _round_robin(rows, "category", QUICK_OPEN_ENDED)
    return [
        Prompt(id=r["id"], text=r["prompt"], meta=_meta("open_ended", r, ["id", "prompt"]))
        for r in rows
    ]


def personas(quick: bool = False) -> list[Prompt]:
    """User personas (C4 personalised framing): text is one sentence usable as a prefix."""
    rows = load_suite("personas")
    if quick:
        rows = rows[:QUICK_PERSONAS]
    return [
        Prompt(id=r["id"], text=r["persona"], meta=_meta("personas", r, ["id", "persona"]))
        for r in rows
    ]


def persona_prompts(
    requests: list[Prompt], persona_list: list[Prompt] | None = None
) -> list[Prompt]:
    """Each request framed by each persona ("<persona> <request>"), for C4's disguise test.

    id is "<persona id>/<request id>"; meta keeps both ids and the request's own meta."""
    framed = []
    for persona in persona_list if persona_list is not None else personas():
        for request in requests:
            meta = dict(request.meta)
            meta.update(persona=persona.id, request=request.id)
            framed.append(
                Prompt(
                    id=f"{persona.id}/{request.id}",
                    text=f"{persona.text} {request.display}",
                    meta=meta,
                )
            )
    return framed


def judge_prompt_text(question: str, candidates: list[str]) -> str:
    """A best-of-five judging prompt in the format of Schroeder & Wood-Doughty 2024 (C6)."""
    options = "\n".join(f"{letter}. {text}" for letter, text in zip(JUDGE_LETTERS, candidates))
    return (
        "You are judging five candidate answers to a question. Pick the one best answer.\n"
        f"Question: {question}\n{options}\n"
        "Reply with your verdict in exactly this format: Best Response: [[X]], "
        "where X is one of A, B, C, D, E."
    )


def judging_items(quick: bool = False) -> list[Prompt]:
    """Questions with five candidate answers, exactly one correct (C6 judge reliability).

    text is the judging prompt; meta: question, candidates, correct (letter), domain."""
    rows = load_suite("judging_items")
    if quick:
        rows = rows[:QUICK_JUDGING_ITEMS]
    return [
        Prompt(
            id=r["id"],
            text=judge_prompt_text(r["question"], r["candidates"]),
            meta=_meta("judging_items", r, ["id"]),
        )
        for r in rows
    ]


def synthetic_task_prompts(
    quick: bool = False, kind: str | None = None, count: int | None = None
) -> list[Prompt]:
    """Synthetic-data tasks (C3): reviews, functions (meta["inputs"] are fixed test inputs
    whose outputs group functions into semantic classes) and others. quick keeps 4; count keeps
    that many, taking the kinds in turn."""
    rows = load_suite("synthetic_tasks")
    if kind is not None:
        rows = [r for r in rows if r["kind"] == kind]
    count = QUICK_SYNTHETIC_TASKS if quick else count
    if count is not None:
        rows = _round_robin(rows, "kind", count)
    return [
        Prompt(id=r["id"], text=r["prompt"], meta=_meta("synthetic_tasks", r, ["id", "prompt"]))
        for r in rows
    ]


def math_problem_prompts(quick: bool = False) -> list[Prompt]:
    """Arithmetic word problems with integer answers (meta["answer"], an int) for C7."""
    rows = load_suite("math_word_problems")[: QUICK_QA if quick else None]
    return [
        Prompt(id=r["id"], text=r["question"], meta=_meta("math_word_problems", r, ["id"]))
        for r in rows
    ]


def factual_qa_prompts(quick: bool = False) -> list[Prompt]:
    """Short factual questions with an answer and aliases (meta) for C7."""
    rows = load_suite("factual_qa")[: QUICK_QA if quick else None]
    return [
        Prompt(id=r["id"], text=r["question"], meta=_meta("factual_qa", r, ["id"])) for r in rows
    ]


def interleave_categories(prompts: Iterable[Prompt]) -> list[Prompt]:
    """Prompts reordered to take each category (meta["category"]) in turn, so any prefix
    spreads over categories (C4's open prompts, the thesis's open tasks)."""
    by_category: dict[str, list[Prompt]] = {}
    for p in prompts:
        by_category.setdefault(str(p.meta.get("category")), []).append(p)
    layers = zip_longest(*by_category.values())
    return [p for layer in layers for p in layer if p is not None]


def near_miss_prompts() -> list[Prompt]:
    """Near misses (C1): per checkable paraphrase family, its everyday phrasing (5) with one
    meaning-bearing word changed, so it asks something else ("What is 7 minus 5?" beside
    "What is 7 plus 5?"). meta: family, category, answer, answer_aliases. Categories in turn."""
    rows = load_suite("near_misses")
    prompts = [
        Prompt(id=r["id"], text=r["prompt"], meta=_meta("near_misses", r, ["id"])) for r in rows
    ]
    return interleave_categories(prompts)
