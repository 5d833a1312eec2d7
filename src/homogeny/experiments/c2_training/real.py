"""C2 on real models: format diversity of a base model's math answers against an instruct
model of the same family (post-training is the only difference within one family; across
families, data and architecture differ too, so no such row is made)."""

from __future__ import annotations

import re
from typing import Any

import numpy as np

from homogeny.experiments.base import Evidence, not_testable
from homogeny.experiments.c2_training.plan import C2Plan
from homogeny.experiments.presets import FULL_DISTRIBUTION, require_complete

CLAIM = "c2"
METRIC = "base_minus_instruct_format_entropy"
QUESTION = "Do instruct models answer math in fewer formats than the base model of their family?"
REAL_FORMATS = ("code", "latex", "prose", "bare")
STOP = "\nQuestion:"
_CODE = re.compile(r"```|^\s*(?:def |import |print\(|return )", re.MULTILINE)
_LATEX = re.compile(r"\\\(|\\\[|\$[^$\n]+\$|\\(?:frac|boxed|times|cdot|text)\b")


def classify_real_format(text: str) -> str:
    """Format of a real model's answer, by the first rule that matches: "code" (a ``` fence
    or a line starting with def/import/print(/return), "latex" (\\( \\[ $..$ \\frac \\boxed
    \\times \\cdot \\text), "prose" (three or more words), else "bare" (numbers, symbols, empty)."""
    if _CODE.search(text):
        return "code"
    if _LATEX.search(text):
        return "latex"
    if len(re.findall(r"[A-Za-z]{2,}", text)) >= 3:
        return "prose"
    return "bare"


def format_entropy(counts: Any) -> float:
    """Shannon entropy (bits) of a format count vector (or of the column sums of a matrix)."""
    from scipy.stats import entropy

    total = np.asarray(counts, dtype=float).reshape(-1, len(REAL_FORMATS)).sum(axis=0)
    return float(entropy(total, base=2)) if total.sum() > 0 else 0.0


def same_family_pairs(infos: dict[str, Any]) -> dict[str, tuple[list[str], list[str]]]:
    """{family: (base specs, instruct specs)} for every named family with both kinds."""
    out: dict[str, tuple[list[str], list[str]]] = {}
    for spec, info in infos.items():
        if info.family:
            base, inst = out.setdefault(info.family, ([], []))
            (base if info.kind == "base" else inst).append(spec)
    return {f: (b, i) for f, (b, i) in out.items() if b and i}


def real_rows(ctx: Any, plan: C2Plan) -> list[Evidence]:
    """Per family with a base and an instruct model among ctx.models: per prompt, the format
    entropy of the base model's answers minus the instruct models' mean (unit: prompt)."""
    from homogeny.models import model_info

    infos = {spec: model_info(spec) for spec in ctx.models}
    families = same_family_pairs(infos)
    if not families:
        given = ", ".join(f"{i.model_id} ({i.family or '?'} {i.kind})" for i in infos.values())
        return [
            not_testable(
                CLAIM,
                QUESTION,
                METRIC,
                f"needs a base and an instruct model of one family; given: {given}",
                role="secondary",
                unit="bits",
                models=tuple(ctx.models),
                quick=ctx.quick,
            )
        ]
    entropies = _entropies(ctx, plan, [m for b, i in families.values() for m in (*b, *i)])
    rows = []
    for family, (base, inst) in families.items():
        gap = np.mean([entropies[m] for m in base], 0) - np.mean([entropies[m] for m in inst], 0)
        rows.append(
            ctx.evidence(
                CLAIM,
                METRIC,
                gap,
                question=QUESTION,
                sign="format entropy (bits; code / LaTeX / prose / bare) of the base model's "
                "answers minus the mean of the same family's instruct models', per prompt; "
                "positive = post-training narrowed the formats",
                unit="bits",
                role="secondary",
                subject=family,
                models=(*base, *inst),
                plot={
                    "kind": "bars",
                    "labels": [*base, *inst],
                    "values": [float(entropies[m].mean()) for m in (*base, *inst)],
                },
            )
        )
    return rows


def _entropies(ctx: Any, plan: C2Plan, specs: list[str]) -> dict[str, np.ndarray]:
    """Per model, the format entropy of its answers to each prompt (T = 1, full distribution;
    a base model continues with more "Question:" lines, so only its first answer counts)."""
    from homogeny.suites.catalog import math_problem_prompts
    from homogeny.suites.prompt import Prompt

    items = math_problem_prompts()[: plan.real_prompts]
    prompts = [
        Prompt(id=f"c2-{p.id}", text=f"Question: {p.text}\nAnswer:", meta=p.meta) for p in items
    ]
    out, summary = {}, {}
    for spec in specs:
        rows = ctx.sample(
            spec,
            prompts,
            plan.real_samples,
            **FULL_DISTRIBUTION,
            max_tokens=plan.real_max_tokens,
            stop=(STOP,),
        )
        require_complete(f"c2: {spec}", rows, plan.real_samples)
        counts = np.zeros((len(prompts), len(REAL_FORMATS)))
        for i, p in enumerate(prompts):
            for row in rows[p.id]:
                fmt = classify_real_format(row["text"].split(STOP)[0])
                counts[i, REAL_FORMATS.index(fmt)] += 1
        out[spec] = np.array([format_entropy(c) for c in counts])
        shares = counts.sum(0) / max(1.0, counts.sum())
        summary[spec] = {
            "entropy_bits": format_entropy(counts),
            "shares": dict(zip(REAL_FORMATS, shares.tolist())),
        }
    ctx.artifact(CLAIM, "real_model_formats", summary)
    return out
