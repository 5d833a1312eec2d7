"""Counter-pressures (claim T): what each deliberate push against convergence recovers, and at
what cost in quality.

The thesis of the seed note is that convergence is the default but not inevitable, because
counter-pressure can be added on purpose. Each counter-pressure below changes one thing
against a default setting (the largest instruct model named, T=1 with top-p 0.9, as in C4):
  higher temperature   T=1.5: a flatter sampling distribution
  min-p                T=1.5 with a min-p cut instead of top-p (Nguyen et al. 2024,
                       arXiv 2407.01082)
  smaller model        a smaller model concentrates less mass (Shypula et al. 2025, C3)
  persona anchor       each draw framed by a different user persona
  random-seed anchor   "Random seed: 48213." in the prompt, a different number per draw
  verbalised sampling  ask for k distinct answers with probabilities (Zhang et al. 2025,
                       "Verbalized Sampling", arXiv 2510.01171) and parse them
  novelty reranking    an external judge (the embedding model) keeps, from N candidates, the
                       one farthest from the outputs accepted so far (novelty search,
                       Lehman & Stanley 2011; the external anchor of Song et al. 2024, C7)
Diversity is 1 - mean pairwise cosine similarity of a prompt's outputs (MiniLM). Quality is
the share of acceptable outputs: on open prompts a simple judge, on checkable prompts the
right answer per sample; and, separately, the mean token log-probability of each output
given the plain request under a fixed reference model (`quality`). Gains and costs are
paired differences against the default over prompts, with calibrated intervals.
"""

from __future__ import annotations

import random
import re
from collections.abc import Sequence
from dataclasses import dataclass, replace
from typing import Any

import numpy as np

from homogeny.experiments.presets import HIVEMIND_MAX_TOKENS, HIVEMIND_TOP_P, require_complete
from homogeny.experiments.thesis.plan import ThesisPlan
from homogeny.experiments.thesis.quality import (
    ReferenceScorer,
    Scores,
    frontier_point,
    reference_spec,
    score_setting,
)
from homogeny.suites.prompt import Prompt

VERBALISED_TEMPLATE = (
    "Give {k} different answers to the request below. Write each answer on its own line, "
    "numbered, followed by its probability, like this:\n1. <answer> (probability: 0.30)\n\n"
    "Request: {request}"
)


@dataclass(frozen=True)
class Setting:
    """One way of producing S outputs per prompt: the default or one counter-pressure."""

    name: str
    model: str
    temperature: float
    top_p: float = 1.0
    min_p: float = 0.0
    anchor: str = ""  # "", "persona" or "seed"
    verbalised: bool = False
    rerank: int = 0  # novelty reranking: candidates per kept output (0 = off)


# ---- pure pieces -------------------------------------------------------------------------


def seed_anchor(request: str, index: int, run_seed: int = 0) -> str:
    """The request with a random-seed anchor in front ("Random seed: 48213. ..."); the
    number is fixed by (run seed, draw index) so reruns send the same prompts."""
    number = random.Random(f"homogeny-seed-anchor/{run_seed}/{index}").randint(10_000, 99_999)
    return f"Random seed: {number}. {request}"


_XML_ITEM = re.compile(
    r"<text>(.*?)</text>\s*(?:<probability>\s*([0-9.]+)\s*</probability>)?", re.DOTALL
)
_NUMBERED = re.compile(r"^\s*(?:\d+|[-*])\s*[.):-]?\s+(.*\S)\s*$")
_PLACEHOLDERS = {
    "<answer>",
    "answer",
    "<response>",
}  # the template's own slot, copied by small models
_PROB = re.compile(
    r"\(?\s*(?:probability|prob|p)\s*[:=]\s*([0-9]*\.?[0-9]+)\s*\)?\s*$", re.IGNORECASE
)


def parse_verbalised(text: str) -> list[tuple[str, float | None]]:
    """The answers of a verbalised-sampling reply as (answer, stated probability or None):
    <text>..</text><probability>..</probability> items (the paper's format) or numbered /
    bulleted lines ending in "(probability: 0.3)". Lines that carry no answer are skipped."""
    items = [(t.strip(), _float(p)) for t, p in _XML_ITEM.findall(text) if t.strip()]
    if items:
        return items
    out = []
    for line in text.splitlines():
        m = _NUMBERED.match(line)
        if not m:
            continue
        body, prob = m.group(1), None
        pm = _PROB.search(body)
        if pm:
            prob, body = _float(pm.group(1)), body[: pm.start()].strip()
        body = body.strip(" -:")
        if body and body.lower() not in _PLACEHOLDERS:
            out.append((body, prob))
    return out


def _float(s: str | None) -> float | None:
    try:
        return float(s) if s else None
    except ValueError:
        return None


def novelty_rerank(slots: Sequence[np.ndarray]) -> list[int]:
    """Novelty-seeking selection by an external judge: for each slot (an (N, d) array of
    candidate embeddings) keep the candidate whose nearest earlier accepted output is
    farthest away (1-NN novelty, Lehman & Stanley 2011). The first slot keeps candidate 0.
    Returns the chosen candidate index per slot."""
    accepted: list[np.ndarray] = []
    chosen = []
    for cands in slots:
        x = _unit(np.asarray(cands, dtype=float))
        if not accepted:
            pick = 0
        else:
            nearest = (x @ np.stack(accepted).T).max(axis=1)
            pick = int(np.argmin(nearest))
        chosen.append(pick)
        accepted.append(x[pick])
    return chosen


def _unit(x: np.ndarray) -> np.ndarray:
    n = np.linalg.norm(x, axis=-1, keepdims=True)
    return x / np.where(n == 0, 1.0, n)


# ---- the plan ----------------------------------------------------------------------------

# The default is C4's sampling setting (the Artificial Hivemind paper's T=1, top-p 0.9, the
# shared preset) on C4's first open-ended prompts and answer length, so the engine's cache
# serves the default draws, the novelty candidates and the smaller model's draws C4 made.
HIGH_TEMPERATURE = 1.5
MIN_P = 0.1  # min-p's point (Nguyen et al. 2024): a high temperature kept coherent by the cut
NOVELTY_CANDIDATES = 2  # candidates per kept output
VERBALISED_REPLIES = 2  # replies per prompt, each asked for k = samples answers
VERBALISED_TOKENS_PER_ANSWER = 24


def max_tokens(quick: bool) -> int:
    """Answer length: C4's (presets.HIVEMIND_MAX_TOKENS), so its samples are reused."""
    return int(HIVEMIND_MAX_TOKENS[bool(quick)])


def _params(spec: str) -> int:
    from homogeny.models import model_info

    return int(model_info(spec).params or 0)


def plan_settings(
    models: Sequence[str], pressure_model: str = "largest"
) -> tuple[Setting, list[Setting]]:
    """The default (the largest post-trained model named, or the smallest with
    pressure_model="smallest"; sampled as in C4: T=1, top-p 0.9) and the counter-pressures
    against it. "smaller model" needs a named model of known, smaller size."""
    from homogeny.models import model_info

    instruct = [m for m in models if model_info(m).kind != "base"] or list(models)
    pick = min if pressure_model == "smallest" else max
    target = pick(instruct, key=_params)
    smaller = [m for m in models if 0 < _params(m) < _params(target)]
    smaller.sort(key=lambda m: (model_info(m).kind == "base", _params(m)))
    default = Setting(
        "default",
        target,
        float(HIVEMIND_TOP_P["temperature"]),
        top_p=float(HIVEMIND_TOP_P["top_p"]),
    )
    pressures = [
        replace(default, name="higher temperature", temperature=HIGH_TEMPERATURE),
        replace(default, name="min-p", temperature=HIGH_TEMPERATURE, top_p=1.0, min_p=MIN_P),
        *([replace(default, name="smaller model", model=smaller[0])] if smaller else []),
        replace(default, name="persona anchor", anchor="persona"),
        replace(default, name="random-seed anchor", anchor="seed"),
        replace(default, name="verbalised sampling", verbalised=True),
        replace(default, name="novelty reranking", rerank=NOVELTY_CANDIDATES),
    ]
    return default, pressures


def task_prompts(quick: bool, plan: ThesisPlan) -> tuple[list[Prompt], list[Prompt]]:
    """Open prompts (C4's first open-ended prompts, one category after another) and closed
    ones: the most common phrasing of each checkable paraphrase family (answers recorded),
    taken category after category."""
    from homogeny.suites.catalog import (
        interleave_categories,
        open_ended_prompts,
        paraphrase_families,
    )

    open_ = interleave_categories(open_ended_prompts(quick))[: plan.open_prompts]
    families = paraphrase_families(quick=False).values()
    checkable = [g[-1] for g in families if g[-1].meta.get("kind") == "checkable"]
    return open_, interleave_categories(checkable)[: plan.closed_prompts]


# ---- generation --------------------------------------------------------------------------


def sample_complete(
    ctx: Any, spec: str, prompts: list[Any], k: int, **params: Any
) -> dict[str, list[dict[str, Any]]]:
    """ctx.sample, stopping with one clear line when a batch failed (a server error): the
    rerun resumes the missing samples."""
    from homogeny.models import model_info

    rows: dict[str, list[dict[str, Any]]] = ctx.sample(spec, prompts, k, **params)
    require_complete(model_info(spec).model_id, rows, k)
    return rows


def produce(ctx: Any, s: Setting, prompts: list[Prompt], samples: int) -> dict[str, list[str]]:
    """`samples` outputs per prompt under setting `s` (through the cached engine)."""
    length = max_tokens(bool(ctx.quick))
    k, params = (
        samples,
        {
            "temperature": s.temperature,
            "top_p": s.top_p,
            "min_p": s.min_p,
            "top_k": 0,
            "max_tokens": length,
        },
    )
    if s.anchor:
        framed = {
            p.id: [
                Prompt(f"{p.id}/{s.anchor}-{i}", _anchored(s.anchor, p.text, i, ctx.seed))
                for i in range(k)
            ]
            for p in prompts
        }
        rows = sample_complete(ctx, s.model, [q for qs in framed.values() for q in qs], 1, **params)
        return {pid: [rows[q.id][0]["text"] for q in qs] for pid, qs in framed.items()}
    if s.verbalised:
        asks = [
            Prompt(f"{p.id}/verbalised", VERBALISED_TEMPLATE.format(k=k, request=p.text))
            for p in prompts
        ]
        rows = sample_complete(
            ctx,
            s.model,
            asks,
            VERBALISED_REPLIES,
            **{**params, "max_tokens": k * VERBALISED_TOKENS_PER_ANSWER},
        )
        return {
            p.id: verbalised_answers([r["text"] for r in rows[a.id]], k)
            for p, a in zip(prompts, asks)
        }
    n = k * max(1, s.rerank)
    rows = sample_complete(ctx, s.model, prompts, n, **params)
    texts = {pid: [r["text"] for r in rs] for pid, rs in rows.items()}
    if not s.rerank:
        return texts
    out = {}
    for pid, ts in texts.items():
        emb = ctx.embed(ts)
        slots = [
            [j + c * k for c in range(s.rerank)] for j in range(k)
        ]  # candidate 0 = the default draw
        picks = novelty_rerank([emb[idx] for idx in slots])
        out[pid] = [ts[slot[c]] for slot, c in zip(slots, picks)]
    return out


def _anchored(anchor: str, request: str, index: int, run_seed: int) -> str:
    if anchor == "seed":
        return seed_anchor(request, index, run_seed)
    from homogeny.suites.catalog import personas

    people = personas()
    # persona text then request, the framing C4 uses (catalog.persona_prompts)
    return f"{people[index % len(people)].text} {request}"


def verbalised_answers(replies: Sequence[str], k: int) -> list[str]:
    """Up to k answers pooled from verbalised-sampling replies, taken in turn from each; a
    reply that parses into no list counts as one answer (its whole text)."""
    lists = [[a for a, _ in parse_verbalised(r)] or [r.strip()] for r in replies]
    pooled = [a for layer in _interleave(lists) for a in layer]
    return pooled[:k]


def _interleave(lists: list[list[str]]) -> list[list[str]]:
    width = max((len(x) for x in lists), default=0)
    return [[x[i] for x in lists if i < len(x)] for i in range(width)]


# ---- the study ---------------------------------------------------------------------------


@dataclass
class Frontier:
    """The measured counter-pressures: settings, prompts, per-setting scores and the frontier
    points (one per counter-pressure)."""

    default: Setting
    pressures: list[Setting]
    prompts: tuple[list[Prompt], list[Prompt]]
    scores: dict[str, Scores]
    points: list[dict[str, Any]]


def measure_frontier(ctx: Any, plan: ThesisPlan) -> Frontier:
    """Generate every setting, score it against the default and store the ("T",
    "counter_pressures") frontier, its settings and examples."""
    from homogeny.models import model_info

    default, pressures = plan_settings(ctx.models, plan.pressure_model)
    open_, closed = task_prompts(bool(ctx.quick), plan)
    outputs: dict[str, dict[str, list[str]]] = {}
    for s in [default, *pressures]:
        ctx.log(f"T: counter-pressure '{s.name}' on {model_info(s.model).model_id}")
        outputs[s.name] = produce(ctx, s, open_ + closed, plan.samples)
    ref = reference_spec(ctx.models)
    scorer = ReferenceScorer(ref) if ref else None
    try:
        scores = {n: score_setting(ctx, o, (open_, closed), scorer) for n, o in outputs.items()}
    finally:
        if scorer is not None:
            scorer.close()
    points = [
        frontier_point(
            s.name, scores["default"], scores[s.name], ctx.seed, model_info(s.model).model_id
        )
        for s in pressures
    ]
    ctx.artifact("T", "counter_pressures", points)
    d = scores["default"]
    ctx.artifact(
        "T",
        "counter_pressure_settings",
        {
            "default": _describe(default),
            "pressures": [_describe(s) for s in pressures],
            "reference_model": ref,
            "open_prompts": [p.id for p in open_],
            "closed_prompts": [p.id for p in closed],
            "samples": plan.samples,
            "max_tokens": max_tokens(bool(ctx.quick)),
            "default_diversity": float(np.mean(list(d.diversity.values()))),
            "default_acceptable": float(np.mean(list(d.quality.values()))),
            "default_accuracy": float(np.mean(list(d.accuracy.values()))) if d.accuracy else None,
        },
    )
    ctx.artifact(
        "T",
        "counter_pressure_examples",
        [
            {"prompt": p.text, "outputs": {name: outs[p.id] for name, outs in outputs.items()}}
            for p in [*open_[:2], *closed[:1]]
        ],
    )
    return Frontier(default, pressures, (open_, closed), scores, points)


def _describe(s: Setting) -> dict[str, Any]:
    from dataclasses import asdict

    return asdict(s)
