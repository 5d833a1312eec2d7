"""Counter-pressures (claim T): what each deliberate push against convergence recovers, and at
what cost in quality.

The thesis of the seed note is that convergence is the default but not inevitable, because
counter-pressure can be added on purpose. Each counter-pressure below changes one thing
against a default setting (the largest instruct model named, T=1 with top-p 0.9, as in C4):
  higher temperature   T=1.5: a flatter sampling distribution
  min-p                T=1.5 with a min-p cut instead of top-p (Nguyen et al. 2024, arXiv 2407.01082)
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
right answer; and, separately, the mean token log-probability of each output given the plain
request under a fixed reference model (`homogeny.experiments.quality`). Gains and costs are
paired differences against the default over prompts, with percentile-bootstrap intervals.
"""

from __future__ import annotations

import random
import re
from collections.abc import Sequence
from dataclasses import dataclass, replace
from typing import Any

import numpy as np

from homogeny.experiments.quality import (
    ReferenceScorer,
    acceptable,
    answer_correct,
    diversity,
    reference_spec,
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


_XML_ITEM = re.compile(r"<text>(.*?)</text>\s*(?:<probability>\s*([0-9.]+)\s*</probability>)?", re.DOTALL)
_NUMBERED = re.compile(r"^\s*(?:\d+|[-*])\s*[.):-]?\s+(.*\S)\s*$")
_PLACEHOLDERS = {"<answer>", "answer", "<response>"}  # the template's own slot, copied by small models
_PROB = re.compile(r"\(?\s*(?:probability|prob|p)\s*[:=]\s*([0-9]*\.?[0-9]+)\s*\)?\s*$", re.IGNORECASE)


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

# The default is C4's sampling setting (the Artificial Hivemind paper's T=1, top-p 0.9) on C4's
# first open-ended prompts and answer length, so the engine's cache serves the default draws,
# the novelty candidates and the smaller model's draws that C4 already made.
HIGH_TEMPERATURE = 1.5
MIN_P = 0.1  # min-p's point (Nguyen et al. 2024): a high temperature kept coherent by the cut
NOVELTY_CANDIDATES = 2  # candidates per kept output
VERBALISED_REPLIES = 2  # replies per prompt, each asked for k = samples answers
VERBALISED_TOKENS_PER_ANSWER = 24


@dataclass(frozen=True)
class Size:
    """How many prompts (open, closed) and outputs per prompt one run measures."""

    open: int
    closed: int
    samples: int


SIZES = {True: Size(open=3, closed=1, samples=3), False: Size(open=10, closed=4, samples=4)}


def _c4_plan(quick: bool) -> Any:
    from homogeny.experiments import c4_hivemind

    return c4_hivemind.QUICK if quick else c4_hivemind.FULL


def max_tokens(quick: bool) -> int:
    """Answer length: C4's, so its samples are reused."""
    return int(_c4_plan(quick).max_tokens)


def _params(spec: str) -> int:
    from homogeny.models import model_info

    return int(model_info(spec).params or 0)


def plan_settings(models: Sequence[str]) -> tuple[Setting, list[Setting]]:
    """The default (the largest post-trained model named, sampled as in C4: T=1, top-p 0.9)
    and the counter-pressures against it. "smaller model" needs a named model of known, smaller size."""
    from homogeny.experiments.c4_hivemind import TOP_P
    from homogeny.models import model_info

    instruct = [m for m in models if model_info(m).kind != "base"] or list(models)
    target = max(instruct, key=_params)
    smaller = [m for m in models if 0 < _params(m) < _params(target)]
    smaller.sort(key=lambda m: (model_info(m).kind == "base", _params(m)))
    default = Setting("default", target, float(TOP_P["temperature"]), top_p=float(TOP_P["top_p"]))
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


def task_prompts(quick: bool) -> tuple[list[Prompt], list[Prompt]]:
    """Open prompts (C4's first open-ended prompts, one category after another) and closed
    ones: the most common phrasing of each checkable paraphrase family (answers recorded)."""
    from homogeny.experiments.c4_hivemind import interleave_categories
    from homogeny.suites.catalog import open_ended_prompts, paraphrase_families

    size = SIZES[quick]
    open_ = interleave_categories(open_ended_prompts(quick))[: size.open]
    checkable = [g[-1] for g in paraphrase_families(quick=False).values() if g[-1].meta.get("kind") == "checkable"]
    return open_, checkable[: size.closed]


# ---- generation --------------------------------------------------------------------------


def produce(ctx: Any, s: Setting, prompts: list[Prompt], size: Size) -> dict[str, list[str]]:
    """`size.samples` outputs per prompt under setting `s` (through the cached engine)."""
    from homogeny.experiments.stage_games import sample_complete

    length = max_tokens(bool(ctx.quick))
    k, params = size.samples, {"temperature": s.temperature, "top_p": s.top_p, "min_p": s.min_p, "top_k": 0,
                               "max_tokens": length}
    if s.anchor:
        framed = {p.id: [Prompt(f"{p.id}/{s.anchor}-{i}", _anchored(s.anchor, p.text, i, ctx.seed)) for i in range(k)]
                  for p in prompts}
        rows = sample_complete(ctx, s.model, [q for qs in framed.values() for q in qs], 1, **params)
        return {pid: [rows[q.id][0]["text"] for q in qs] for pid, qs in framed.items()}
    if s.verbalised:
        asks = [Prompt(f"{p.id}/verbalised", VERBALISED_TEMPLATE.format(k=k, request=p.text)) for p in prompts]
        rows = sample_complete(ctx, s.model, asks, VERBALISED_REPLIES, **{**params, "max_tokens": k * VERBALISED_TOKENS_PER_ANSWER})
        return {p.id: verbalised_answers([r["text"] for r in rows[a.id]], k) for p, a in zip(prompts, asks)}
    n = k * max(1, s.rerank)
    rows = sample_complete(ctx, s.model, prompts, n, **params)
    texts = {pid: [r["text"] for r in rs] for pid, rs in rows.items()}
    if not s.rerank:
        return texts
    out = {}
    for pid, ts in texts.items():
        emb = ctx.embed(ts)
        slots = [[j + c * k for c in range(s.rerank)] for j in range(k)]  # candidate 0 = the default draw
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


# ---- measurement -------------------------------------------------------------------------


@dataclass
class Scores:
    """Per-prompt measurements of one setting: diversity and log-probability on open
    prompts, share of acceptable outputs on every prompt."""

    diversity: dict[str, float]
    quality: dict[str, float]
    logprob: dict[str, float]


def score_setting(ctx: Any, outputs: dict[str, list[str]], open_: list[Prompt], closed: list[Prompt],
                  scorer: ReferenceScorer | None) -> Scores:
    """Measure one setting's outputs (see module doc for the definitions)."""
    div, qual, lp = {}, {}, {}
    for p in open_:
        texts = outputs[p.id]
        emb = ctx.embed([p.text, *texts])
        div[p.id] = diversity(emb[1:]) if len(texts) > 1 else 0.0
        topic = emb[1:] @ emb[0]
        qual[p.id] = float(np.mean([acceptable(t, float(s)) for t, s in zip(texts, topic)]))
        if scorer is not None:
            values = [v for v in (scorer.score(p.text, t) for t in texts) if v is not None]
            lp[p.id] = float(np.mean(values)) if values else float("nan")
    for p in closed:
        aliases = p.meta.get("answer_aliases") or []
        qual[p.id] = float(np.mean([answer_correct(t, str(p.meta["answer"]), aliases) for t in outputs[p.id]]))
    return Scores(div, qual, lp)


def paired(before: dict[str, float], after: dict[str, float], seed: int, confidence: float = 0.95) -> tuple[float, float, float] | None:
    """Mean of after - before over the prompts both measured, with a percentile-bootstrap
    interval; None with fewer than two prompts."""
    from homogeny.metrics import bootstrap_ci

    diffs = np.array([after[k] - before[k] for k in before if k in after and np.isfinite(after[k] - before[k])])
    if len(diffs) < 2:
        return None
    r = bootstrap_ci(np.mean, diffs, seed=seed, confidence=confidence)
    return r.point, r.low, r.high


def frontier_point(name: str, default: Scores, s: Scores, seed: int, model: str,
                   closed_ids: frozenset[str] = frozenset()) -> dict[str, Any] | None:
    """One counter-pressure's row of the ("T", "counter_pressures") artifact: diversity gain
    and quality cost (drop in acceptable outputs over all prompts), each a paired difference
    with its 95% CI; then the same cost on open prompts only (the judge) and on closed ones
    only (accuracy), and the log-probability cost under the reference model."""
    gain = paired(default.diversity, s.diversity, seed)
    loss = paired(s.quality, default.quality, seed)  # default - setting: positive = quality lost
    if gain is None or loss is None:
        return None
    row: dict[str, Any] = {
        "name": name, "model": model,
        "diversity_gain": gain[0], "gain_low": gain[1], "gain_high": gain[2],
        "quality_cost": loss[0], "cost_low": loss[1], "cost_high": loss[2],
        "diversity": float(np.mean(list(s.diversity.values()))),
        "acceptable": float(np.mean(list(s.quality.values()))),
    }
    parts = {"judge": lambda k: k not in closed_ids, "accuracy": lambda k: k in closed_ids}
    for label, keep in parts.items():
        mine = {k: v for k, v in s.quality.items() if keep(k)}
        cost = paired(mine, {k: v for k, v in default.quality.items() if keep(k)}, seed)
        if cost is not None:
            row.update({f"{label}_cost": cost[0], f"{label}_cost_low": cost[1], f"{label}_cost_high": cost[2]})
        elif mine:
            row[f"{label}_cost"] = float(np.mean([default.quality[k] - v for k, v in mine.items()]))
    lp = paired(s.logprob, default.logprob, seed)
    if lp is not None:
        row.update(logprob_cost=lp[0], logprob_low=lp[1], logprob_high=lp[2])
    return row


# ---- the experiment ----------------------------------------------------------------------


def run_counter_pressures(ctx: Any) -> list[Any]:
    """Generate every setting, measure diversity and quality against the default, store the
    ("T", "counter_pressures") frontier and examples, and return the evidence row: does the
    best counter-pressure recover diversity (interval Bonferroni-adjusted over all tried)?"""
    from homogeny.experiments.base import make_evidence
    from homogeny.models import model_info

    size = SIZES[bool(ctx.quick)]
    default, pressures = plan_settings(ctx.models)
    open_, closed = task_prompts(bool(ctx.quick))
    outputs: dict[str, dict[str, list[str]]] = {}
    for s in [default, *pressures]:
        ctx.log(f"T: counter-pressure '{s.name}' on {model_info(s.model).model_id}")
        outputs[s.name] = produce(ctx, s, open_ + closed, size)
    ref = reference_spec(ctx.models)
    scorer = ReferenceScorer(ref) if ref else None
    try:
        scores = {name: score_setting(ctx, outs, open_, closed, scorer) for name, outs in outputs.items()}
    finally:
        if scorer is not None:
            scorer.close()
    closed_ids = frozenset(p.id for p in closed)
    points = [p for s in pressures if (p := frontier_point(
        s.name, scores["default"], scores[s.name], ctx.seed, model_info(s.model).model_id, closed_ids))]
    ctx.artifact("T", "counter_pressures", points)
    ctx.artifact("T", "counter_pressure_settings", {
        "default": _describe(default), "pressures": [_describe(s) for s in pressures], "reference_model": ref,
        "open_prompts": [p.id for p in open_], "closed_prompts": [p.id for p in closed], "samples": size.samples,
        "max_tokens": max_tokens(bool(ctx.quick)), "default_diversity": float(np.mean(list(scores["default"].diversity.values()))),
        "default_acceptable": float(np.mean(list(scores["default"].quality.values()))),
    })
    ctx.artifact("T", "counter_pressure_examples", [
        {"prompt": p.text, "outputs": {name: outs[p.id] for name, outs in outputs.items()}} for p in open_[:2]
    ])
    if not points:
        return []
    best = max(points, key=lambda p: p["diversity_gain"])
    confidence = 1 - 0.05 / len(points)
    gain = paired(scores["default"].diversity, scores[best["name"]].diversity, ctx.seed, confidence)
    assert gain is not None  # it was measured above
    return [make_evidence(
        "T", f"Does counter-pressure added on purpose remove convergence? Best of {len(points)} tried: "
        f"{best['name']} (diversity vs the default, {confidence:.1%} interval, Bonferroni over {len(points)})",
        "diversity recovered by the best counter-pressure",
        "positive = outputs under the counter-pressure are more diverse (1 - mean pairwise MiniLM cosine) than "
        f"under the default ({model_info(default.model).model_id}, T={default.temperature:g})",
        gain[0], (gain[1], gain[2]), len(open_), quick=ctx.quick,
        models=sorted({model_info(s.model).model_id for s in [default, *pressures]}),
        plot={"labels": [p["name"] for p in points], "values": [p["diversity_gain"] for p in points],
              "low": [p["gain_low"] for p in points], "high": [p["gain_high"] for p in points]},
    )]


def _describe(s: Setting) -> dict[str, Any]:
    from dataclasses import asdict

    return asdict(s)
