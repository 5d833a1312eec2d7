"""C4: do independent models converge on the same outputs, with personalised framing hiding it?

After Jiang et al. 2025, "Artificial Hivemind: The Open-Ended Homogeneity of Language Models"
(arXiv 2510.22954): many samples per open-ended query at T=1, top-p 0.9; in 79% of cases a
model's responses average above 0.8 pairwise embedding similarity (61.2% under min-p); random
response pairs score 0.1-0.2. Here: intra- and inter-model similarity on the open-ended suite
(a model x model matrix), the hivemind index, the share of prompts above 0.8, a random-pair
baseline, top-p against min-p, and the disguise test: the same request under many personas,
whose surface (lexical) diversity is set against its substance (semantic) diversity.
"""

from __future__ import annotations

import itertools
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from homogeny.experiments.base import Evidence, ExperimentContext, make_evidence
from homogeny.experiments.c3_size import require_complete
from homogeny.metrics import (
    bootstrap_ci,
    hivemind_index,
    homogenization_score,
    mean_pairwise_similarity,
)
from homogeny.suites.catalog import open_ended_prompts, persona_prompts, personas
from homogeny.suites.prompt import Prompt

CLAIM = "c4"
TOP_P: dict[str, Any] = {"temperature": 1.0, "top_p": 0.9, "min_p": 0.0, "top_k": 0}
MIN_P: dict[str, Any] = {"temperature": 1.0, "top_p": 1.0, "min_p": 0.1, "top_k": 0}


@dataclass(frozen=True)
class Plan:
    """How much C4 generates: prompts and samples per setting, persona grid, answer length."""

    prompts: int
    samples: int
    min_p_prompts: int
    persona_count: int
    persona_requests: int
    max_tokens: int


# Measured on an idle 2-core machine (docs/benchmarks.md): QUICK 77 s; FULL with 100 prompts took
# 42 min, 35 of them the top-p samples, so FULL keeps 32 prompts (13.0 min in a full audit).
QUICK = Plan(prompts=6, samples=5, min_p_prompts=3, persona_count=3, persona_requests=2, max_tokens=32)
FULL = Plan(prompts=32, samples=16, min_p_prompts=16, persona_count=8, persona_requests=4, max_tokens=40)
PERSONA_CATEGORIES = ("advice", "recommendation", "opinion")
SAME_THRESHOLD = 0.8  # the paper's "responses average above 0.8 pairwise similarity"
PAPER_SHARE_TOP_P, PAPER_SHARE_MIN_P = 0.79, 0.612
HIVEMIND_THRESHOLD = 0.9
N_RESAMPLES = 1000

Embeddings = dict[str, list[np.ndarray]]  # model -> per prompt an (S, d) array of unit rows


# ---- measurements on plain arrays (no model needed) ----------------------------------------
def intra_similarity(groups: Embeddings) -> np.ndarray:
    """prompts x models matrix of each model's mean pairwise cosine among its own samples."""
    return np.array([[mean_pairwise_similarity(groups[m][p]) for m in groups] for p in range(_n_prompts(groups))])


def centroids(groups: Embeddings) -> np.ndarray:
    """models x prompts x d mean vectors: the mean cosine between two sets is the dot product
    of their means, so every cross-set similarity comes from these."""
    return np.array([[g.mean(axis=0) for g in groups[m]] for m in groups])


def similarity_matrix(groups: Embeddings) -> np.ndarray:
    """models x models mean cosine over prompts: the diagonal is intra-model (distinct pairs of
    one model's samples), off-diagonal cells compare two models' samples of the same prompt."""
    c = centroids(groups)
    cross = np.einsum("apd,bpd->abp", c, c).mean(axis=2)
    np.fill_diagonal(cross, intra_similarity(groups).mean(axis=0))
    return cross


def inter_similarity_by_prompt(groups: Embeddings) -> np.ndarray:
    """Per prompt, the mean cosine between different models' samples of that prompt."""
    c = centroids(groups)
    m = c.shape[0]
    pairs = [(a, b) for a in range(m) for b in range(m) if a != b]
    return np.array([np.mean([c[a, p] @ c[b, p] for a, b in pairs]) for p in range(c.shape[1])])


def random_baseline_by_prompt(groups: Embeddings, across_models: bool = True) -> np.ndarray:
    """Per prompt p, the mean cosine between samples of p and samples of the other prompts
    (different models when across_models, else the same model): the random-pair baseline."""
    c = centroids(groups)
    m, n = c.shape[0], c.shape[1]
    pairs = [(a, b) for a in range(m) for b in range(m) if (a != b) == across_models]
    off = ~np.eye(n, dtype=bool)
    return np.array([np.mean([(c[b][off[p]] @ c[a, p]).mean() for a, b in pairs]) for p in range(n)])


def hivemind_by_prompt(groups: Embeddings) -> np.ndarray:
    """Per prompt, the hivemind index (inter-model over intra-model similarity)."""
    return np.array([hivemind_index([groups[m][p] for m in groups]).index for p in range(_n_prompts(groups))])


def share_above(intra: np.ndarray, threshold: float = SAME_THRESHOLD) -> np.ndarray:
    """Per prompt, the share of models whose samples average above `threshold` similarity."""
    return (intra > threshold).mean(axis=1)


def disguise_gap(texts: Sequence[str], emb: np.ndarray, lexical_random: float, semantic_random: float) -> tuple[float, float, float]:
    """(lexical diversity, semantic diversity, gap) of one request's answers across personas.

    Each diversity is 1 - mean pairwise similarity (ROUGE-L F1 as in Padmakumar & He 2023, or
    MiniLM cosine), divided by the same for answers to different requests, so 1 means "as
    different as unrelated answers" on both scales. gap = lexical - semantic > 0: framing
    changes the surface more than the substance."""
    lex = (1 - homogenization_score(list(texts), digits=None)) / max(1 - lexical_random, 1e-9)
    sem = (1 - mean_pairwise_similarity(emb)) / max(1 - semantic_random, 1e-9)
    return lex, sem, lex - sem


def cross_group_baselines(texts_by_request: Sequence[Sequence[str]], emb_by_request: Sequence[np.ndarray]) -> tuple[float, float]:
    """(lexical, semantic) mean similarity over pairs of answers to DIFFERENT requests. The
    lexical value comes from homogenization scores: the all-pairs sum minus the within-request sums."""
    texts = [t for group in texts_by_request for t in group]
    n, sizes = len(texts), [len(g) for g in texts_by_request]
    within_pairs = sum(s * (s - 1) for s in sizes)
    within_lex = sum(homogenization_score(list(g), digits=None) * len(g) * (len(g) - 1) for g in texts_by_request if len(g) > 1)
    lexical = (homogenization_score(texts, digits=None) * n * (n - 1) - within_lex) / (n * (n - 1) - within_pairs)
    means = np.array([e.mean(axis=0) for e in emb_by_request])
    cross = [means[i] @ means[j] for i in range(len(means)) for j in range(len(means)) if i != j]
    return float(lexical), float(np.mean(cross))


def _n_prompts(groups: Embeddings) -> int:
    return len(next(iter(groups.values())))


# ---- the experiment ------------------------------------------------------------------------
@dataclass
class Samples:
    """Every model's sampled texts: open-ended prompts at top-p and min-p, persona-framed requests."""

    prompts: list[Prompt]
    min_p_prompts: list[Prompt]
    requests: list[Prompt]
    framed: list[Prompt]
    top_p: dict[str, dict[str, list[str]]]
    min_p: dict[str, dict[str, list[str]]]
    persona: dict[str, dict[str, list[str]]]
    base_models: list[str] = field(default_factory=list)  # raw-completion models, named in the questions


class Hivemind:
    """Claim C4 (across models): cross-model convergence, and personas disguising it."""

    claim = CLAIM
    title = "Cross-model hivemind and hidden personalisation"
    question = ("Do independent models converge on the same outputs, and does personalised framing vary "
                "the surface more than the substance, hiding the sameness from each user?")

    def run(self, ctx: ExperimentContext) -> list[Evidence]:
        plan = QUICK if ctx.quick else FULL
        data = self.generate(ctx, plan)
        vectors = embed_all(ctx, data)
        top = groups_of(data.top_p, data.prompts, vectors)
        minp = groups_of(data.min_p, data.min_p_prompts, vectors)
        evidence = convergence_evidence(ctx, top, data.base_models)
        evidence.append(min_p_evidence(ctx, top, minp, data))
        evidence.extend(disguise_evidence(ctx, data, vectors))
        write_artifacts(ctx, data, top, minp)
        return evidence

    def generate(self, ctx: ExperimentContext, plan: Plan) -> Samples:
        """Sample (or read from cache) every model on the three prompt sets."""
        from homogeny.generate.engine import model_info

        prompts = interleave_categories(open_ended_prompts(ctx.quick))[: plan.prompts]
        requests = [p for p in prompts if p.meta.get("category") in PERSONA_CATEGORIES][: plan.persona_requests]
        framed = persona_prompts(requests, personas()[: plan.persona_count])
        data = Samples(prompts, prompts[: plan.min_p_prompts], requests, framed, {}, {}, {})
        for spec in ctx.models:
            info = model_info(spec)
            label = info.model_id
            if info.kind == "base":
                data.base_models.append(label)
            ctx.log(f"c4: {label}: {len(prompts)} prompts x {plan.samples} at top-p 0.9, "
                    f"{len(data.min_p_prompts)} at min-p 0.1, {len(framed)} persona-framed requests")
            for target, group, k, params in ((data.top_p, prompts, plan.samples, TOP_P),
                                             (data.min_p, data.min_p_prompts, plan.samples, MIN_P),
                                             (data.persona, framed, 1, TOP_P)):
                rows = ctx.sample(spec, group, k, max_tokens=plan.max_tokens, **params)
                require_complete(label, rows, k)
                target[label] = {pid: [r["text"] for r in rs] for pid, rs in rows.items()}
        return data


def interleave_categories(prompts: Sequence[Prompt]) -> list[Prompt]:
    """Prompts reordered to take each category in turn, so any prefix spreads over categories."""
    by_category: dict[str, list[Prompt]] = {}
    for p in prompts:
        by_category.setdefault(str(p.meta.get("category")), []).append(p)
    layers = itertools.zip_longest(*by_category.values())
    return [p for layer in layers for p in layer if p is not None]


def embed_all(ctx: ExperimentContext, data: Samples) -> dict[str, np.ndarray]:
    """One MiniLM vector per distinct sampled text (cached in the store)."""
    texts = sorted({t for table in (data.top_p, data.min_p, data.persona) for rows in table.values() for ts in rows.values() for t in ts})
    return dict(zip(texts, np.asarray(ctx.embed(texts))))


def groups_of(table: dict[str, dict[str, list[str]]], prompts: Sequence[Prompt], vectors: dict[str, np.ndarray]) -> Embeddings:
    """model -> per prompt the (samples, d) embedding array."""
    return {m: [np.array([vectors[t] for t in rows[p.id]]) for p in prompts] for m, rows in table.items()}


def _ci(values: np.ndarray, seed: int) -> tuple[float, float, float, int]:
    res = bootstrap_ci(np.mean, np.asarray(values, dtype=float), n_resamples=N_RESAMPLES, seed=seed)
    return res.point, res.low, res.high, res.n


def convergence_evidence(ctx: ExperimentContext, top: Embeddings, base_models: Sequence[str] = ()) -> list[Evidence]:
    """Inter-model similarity against the random-pair baseline, hivemind index, share above 0.8."""
    models = list(top)
    note = f" [includes base model(s) {', '.join(base_models)}: raw completion, not an answer]" if base_models else ""
    heat = {"labels": models, "matrix": similarity_matrix(top).tolist()}
    rows = []
    if len(models) >= 2:
        diff = inter_similarity_by_prompt(top) - random_baseline_by_prompt(top)
        e, lo, hi, n = _ci(diff, ctx.seed)
        rows.append(make_evidence(
            CLAIM, "Do different models' answers to the same prompt resemble each other more than random "
            "answer pairs (answers to different prompts; the paper's random pairs score 0.1-0.2)?" + note,
            "inter_model_minus_random", "mean cosine between two models' answers to a prompt minus the same "
            "for answers to different prompts; positive = convergence beyond topic-free chance",
            e, (lo, hi), n, plot=heat, models=models, quick=ctx.quick))
        e, lo, hi, n = _ci(hivemind_by_prompt(top), ctx.seed)
        rows.append(make_evidence(
            CLAIM, f"Are different models' answers nearly as alike as one model's own answers (hivemind index "
            f"above {HIVEMIND_THRESHOLD:g})?{note}", "hivemind_index",
            "inter-model / intra-model mean cosine per prompt (1 = other models' answers are as alike as a "
            "model's own resamples)", e, (lo, hi), n, threshold=HIVEMIND_THRESHOLD, plot=heat, models=models, quick=ctx.quick))
    else:
        for metric in ("inter_model_minus_random", "hivemind_index"):
            rows.append(make_evidence(CLAIM, f"{metric}: not testable here, it needs at least two models",
                                      metric, "needs two or more models", 0.0, (0.0, 0.0), 0, models=models, quick=ctx.quick))
    intra = intra_similarity(top)
    e, lo, hi, n = _ci(share_above(intra), ctx.seed)
    rows.append(make_evidence(
        CLAIM, f"Do a model's answers to most prompts average above {SAME_THRESHOLD} pairwise similarity at top-p 0.9 "
        f"(the paper found {PAPER_SHARE_TOP_P:.0%} of cases)? measured {e:.1%}", "share_intra_above_0.8_top_p",
        "share of (model, prompt) cases whose samples average above 0.8 cosine; supported if a majority",
        e, (lo, hi), n, threshold=0.5, models=models, quick=ctx.quick,
        plot={"labels": models, "values": (intra > SAME_THRESHOLD).mean(axis=0).tolist()}))
    return rows


def min_p_evidence(ctx: ExperimentContext, top: Embeddings, minp: Embeddings, data: Samples) -> Evidence:
    """Within-model similarity under min-p 0.1 minus under top-p 0.9, on the same prompts."""
    n = len(data.min_p_prompts)
    intra_min = intra_similarity(minp)
    intra_top = intra_similarity({m: g[:n] for m, g in top.items()})
    res = bootstrap_ci(lambda a, b: float(a.mean() - b.mean()), (intra_min, intra_top), n_resamples=N_RESAMPLES, seed=ctx.seed)
    shares = [float((intra_top > SAME_THRESHOLD).mean()), float((intra_min > SAME_THRESHOLD).mean())]
    return make_evidence(
        CLAIM, f"Does min-p sampling make a model's answers less alike than top-p (the paper: {PAPER_SHARE_TOP_P:.0%} "
        f"above 0.8 at top-p, {PAPER_SHARE_MIN_P:.1%} under min-p; here {shares[0]:.0%} and {shares[1]:.0%})?",
        "min_p_minus_top_p_intra_similarity", "mean within-model cosine under min-p 0.1 minus under top-p 0.9 "
        "(T=1 both); negative = min-p is more diverse", res.point, (res.low, res.high), res.n, predicted="below",
        plot={"labels": ["top-p 0.9", "min-p 0.1"], "values": shares}, models=list(top), quick=ctx.quick)


def disguise_table(data: Samples, vectors: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
    """Per model, a requests x 4 array: persona lexical diversity, persona semantic diversity,
    persona gap, and the gap of plain resamples of the same request (no persona), all
    normalised by the model's answers to different requests under the personas."""
    out = {}
    for m, answers in data.persona.items():
        texts = [[answers[f.id][0] for f in data.framed if f.meta["request"] == r.id] for r in data.requests]
        embs = [np.array([vectors[t] for t in g]) for g in texts]
        lex_random, sem_random = cross_group_baselines(texts, embs)
        rows = []
        for r, t, e in zip(data.requests, texts, embs):
            plain = data.top_p[m][r.id]
            plain_gap = disguise_gap(plain, np.array([vectors[x] for x in plain]), lex_random, sem_random)[2]
            rows.append([*disguise_gap(t, e, lex_random, sem_random), plain_gap])
        out[m] = np.array(rows)
    return out


def disguise_evidence(ctx: ExperimentContext, data: Samples, vectors: dict[str, np.ndarray]) -> list[Evidence]:
    """The disguise gap across personas, and the same gap against plain resampling."""
    if len(data.requests) < 2:
        return [make_evidence(CLAIM, f"{metric}: not testable here, it needs at least two requests", metric,
                              "needs two or more requests", 0.0, (0.0, 0.0), 0, quick=ctx.quick)
                for metric in ("persona_disguise_gap", "persona_gap_minus_resampling_gap")]
    table = disguise_table(data, vectors)
    models = list(table)
    stacked = np.stack([table[m] for m in models], axis=1)  # requests x models x 4
    bars = {"labels": [f"{m}: {kind}" for m in models for kind in ("surface", "substance")],
            "values": [float(table[m][:, i].mean()) for m in models for i in (0, 1)]}
    e, lo, hi, n = _ci(stacked[:, :, 2].mean(axis=1), ctx.seed)
    gap = make_evidence(
        CLAIM, "Across personas, does the same request's answer vary more on the surface (words) than in "
        "substance (meaning), so that each user sees a personal answer?", "persona_disguise_gap",
        "normalised lexical diversity minus normalised semantic diversity across personas (each 1 - mean "
        "pairwise similarity, over the same for answers to different requests); positive = framing varies "
        "the surface more than the substance", e, (lo, hi), n, plot=bars, models=models, quick=ctx.quick)
    e, lo, hi, n = _ci((stacked[:, :, 2] - stacked[:, :, 3]).mean(axis=1), ctx.seed)
    control = make_evidence(
        CLAIM, "Does persona framing widen the surface-substance gap beyond what plain resampling of the "
        "same request gives?", "persona_gap_minus_resampling_gap",
        "disguise gap across personas minus the same gap across plain top-p resamples of the request; "
        "positive = personas add surface variety more than substance", e, (lo, hi), n,
        plot={"labels": [f"{m}: {k}" for m in models for k in ("personas", "resampling")],
              "values": [float(table[m][:, i].mean()) for m in models for i in (2, 3)]},
        models=models, quick=ctx.quick)
    return [gap, control]


def write_artifacts(ctx: ExperimentContext, data: Samples, top: Embeddings, minp: Embeddings) -> None:
    """Similarity heatmaps, baselines, shares above 0.8 and side-by-side examples."""
    ctx.artifact(CLAIM, "similarity_matrix_top_p", {"labels": list(top), "matrix": similarity_matrix(top).tolist()})
    ctx.artifact(CLAIM, "similarity_matrix_min_p", {"labels": list(minp), "matrix": similarity_matrix(minp).tolist()})
    labels, values = ["same model, other prompts"], [float(random_baseline_by_prompt(top, across_models=False).mean())]
    if len(top) >= 2:
        labels.append("other models, other prompts")
        values.append(float(random_baseline_by_prompt(top).mean()))
    ctx.artifact(CLAIM, "random_pair_baseline", {"labels": labels + ["paper, low", "paper, high"], "values": values + [0.1, 0.2]})
    n = len(data.min_p_prompts)
    ctx.artifact(CLAIM, "share_above_0.8", {
        "labels": [f"{m} {s}" for m in top for s in ("top-p 0.9", "min-p 0.1")],
        "values": [float(v) for m in top for v in ((intra_similarity({m: top[m]}) > SAME_THRESHOLD).mean(),
                                                  (intra_similarity({m: minp[m]}) > SAME_THRESHOLD).mean())],
        "paper": {"top-p 0.9": PAPER_SHARE_TOP_P, "min-p 0.1": PAPER_SHARE_MIN_P}, "min_p_prompts": n,
    })
    examples = [{"prompt": p.display, "outputs": {m: rows[p.id][:3] for m, rows in data.top_p.items()}} for p in data.prompts[:3]]
    examples += [{"prompt": f.display, "outputs": {m: rows[f.id] for m, rows in data.persona.items()}}
                 for f in data.framed if data.requests and f.meta["request"] == data.requests[0].id][:4]
    ctx.artifact(CLAIM, "examples", examples)
