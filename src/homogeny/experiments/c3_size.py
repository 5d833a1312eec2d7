"""C3: do bigger models concentrate probability mass and give fewer distinct samples per draw?

After Shypula et al. 2025, "Evaluating the Diversity and Quality of LLM Generated Content"
(arXiv 2504.12522). The seed states the claim strongly (bigger models give fewer distinct
samples per draw; ~500M is best); the paper's finding is weaker (smaller models are more
parameter-efficient at unique content within a fixed budget; larger ones may have more
effective semantic diversity). Both readings get their own evidence rows, so their verdicts
can differ. Size trends use instruct models only: a base model (gemma3-270m) continues the
prompt as raw text instead of answering it, so it is measured and shown, but kept out of the
trend.
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

import numpy as np
from scipy.stats import hypergeom

from homogeny.errors import HomogenyError
from homogeny.experiments.base import Evidence, ExperimentContext, make_evidence
from homogeny.experiments.function_classes import classify_texts
from homogeny.metrics import bootstrap_ci, equivalence_classes, top1_mass, vendi_score
from homogeny.metrics.lexical import rouge_tokens
from homogeny.suites.catalog import synthetic_task_prompts
from homogeny.suites.prompt import Prompt

CLAIM = "c3"
FULL_SAMPLES, QUICK_SAMPLES = 32, 6
FULL_TASKS = 12  # of the suite's 16, kinds in turn: all 16 took 18.4 min of a full audit's 90
TEXT_MAX_TOKENS, FUNCTION_MAX_TOKENS = 64, 80
# Ancestral sampling from the full distribution: truncation would hide the concentration we measure.
SAMPLING: dict[str, Any] = {"temperature": 1.0, "top_p": 1.0, "min_p": 0.0, "top_k": 0}
TOKEN_BUDGETS = (32, 64, 128, 256, 512, 1024, 2048)
MIN_WORDS, MIN_UNIQUE_WORD_SHARE = 5, 0.3
PER_PARAMS = 1e8  # "per parameter" is reported per 100M parameters
N_RESAMPLES = 1000


@dataclass
class ModelRun:
    """One model's identity and its samples for every task prompt (rows in sample order)."""

    spec: str
    label: str
    params: int
    kind: str
    family: str
    rows: dict[str, list[dict[str, Any]]] = field(default_factory=dict)


@dataclass
class PromptMeasures:
    """What C3 measures on one model's K samples of one prompt."""

    distinct_curve: np.ndarray  # expected distinct@k, k = 1..K (all outputs, embedding classes)
    effective_unique: int  # distinct semantic classes among valid outputs
    valid_share: float
    vendi_by_budget: np.ndarray  # semantic Vendi of the samples that fit each TOKEN_BUDGETS entry
    tokens: int
    seconds: float
    top1: float  # mean per-token top-1 probability
    entropy: float  # mean per-token entropy (nats) of the full next-token distribution
    n_samples: int


# ---- measurements on plain data (no model needed) -----------------------------------------
def expected_distinct_curve(labels: Sequence[int], k_max: int | None = None) -> np.ndarray:
    """distinct@k (NoveltyBench, Zhang et al. 2025) for k = 1..k_max, as its expectation over
    which k of the n exchangeable draws are taken: sum over classes c of P(c appears in k
    draws without replacement) = 1 - hypergeom.pmf(0; n, n_c, k). Smoother than first-k."""
    counts = np.bincount(np.asarray(labels, dtype=np.int64))
    counts = counts[counts > 0]
    n = int(counts.sum())
    ks = np.arange(1, (k_max or n) + 1)
    return np.array([float(np.sum(1 - hypergeom.pmf(0, n, counts, k))) for k in ks])


def text_is_valid(text: str) -> bool:
    """A usable synthetic text: at least MIN_WORDS words, not a degenerate loop (at least
    MIN_UNIQUE_WORD_SHARE of its words distinct)."""
    words = rouge_tokens(text)
    return len(words) >= MIN_WORDS and len(set(words)) / len(words) >= MIN_UNIQUE_WORD_SHARE


def effective_unique(labels: Sequence[Any], valid: Sequence[bool]) -> int:
    """Number of distinct classes among valid outputs only (invalid outputs count for nothing),
    the "effective diversity" of Shypula et al. 2025."""
    return len({lab for lab, ok in zip(labels, valid) if ok})


def vendi_within_budgets(embeddings: np.ndarray, tokens: Sequence[int], budgets: Sequence[int] = TOKEN_BUDGETS) -> np.ndarray:
    """Semantic Vendi score (Friedman & Dieng 2023) of the first samples whose cumulative
    generated tokens fit in each budget; 0 where not even one sample fits."""
    cum = np.cumsum(np.asarray(tokens))
    out = []
    for budget in budgets:
        m = int(np.searchsorted(cum, budget, side="right"))
        out.append(vendi_score(embeddings[:m]) if m else 0.0)
    return np.array(out)


def concentration(row: dict[str, Any]) -> tuple[float, float]:
    """(mean top-1 probability, mean entropy in nats) over a sample's generation steps, from the
    stored per-step alternatives and full-distribution entropies."""
    data = json.loads(row.get("top_logprobs_json") or "{}")
    top, ent = data.get("top") or [], data.get("entropy") or []
    t1 = float(np.mean(top1_mass(top))) if top else math.nan
    return t1, float(np.mean(ent)) if ent else math.nan


def size_slope(values: np.ndarray, log_params: np.ndarray) -> float:
    """OLS slope of per-model values against log10(parameters)."""
    x = log_params - log_params.mean()
    return float((x * (values - values.mean())).sum() / (x * x).sum())


def measure_prompt(rows: list[dict[str, Any]], embeddings: np.ndarray, function_results: Sequence[Any] | None = None) -> PromptMeasures:
    """C3's measures on one model's samples of one task prompt (embeddings: one row per sample;
    function_results: the sandbox's verdicts for a function task, None for a text task)."""
    labels = equivalence_classes(embeddings)
    if function_results is not None:
        valid = [r.valid for r in function_results]
        semantic: Sequence[Any] = [r.semantic_class for r in function_results]
    else:
        valid = [text_is_valid(r["text"]) for r in rows]
        semantic = _valid_text_classes(embeddings, valid)
    tokens = [int(r["n_tokens"]) for r in rows]
    conc = np.array([concentration(r) for r in rows])
    return PromptMeasures(
        distinct_curve=expected_distinct_curve(labels), effective_unique=effective_unique(semantic, valid),
        valid_share=float(np.mean(valid)), vendi_by_budget=vendi_within_budgets(embeddings, tokens),
        tokens=sum(tokens), seconds=float(sum(float(r["gen_seconds"] or 0) for r in rows)),
        top1=float(np.nanmean(conc[:, 0])) if np.isfinite(conc[:, 0]).any() else math.nan,
        entropy=float(np.nanmean(conc[:, 1])) if np.isfinite(conc[:, 1]).any() else math.nan,
        n_samples=len(rows),
    )


def _valid_text_classes(embeddings: np.ndarray, valid: Sequence[bool]) -> list[int]:
    """Embedding classes computed among valid texts only (-1 for invalid ones)."""
    idx = [i for i, ok in enumerate(valid) if ok]
    labels = [-1] * len(valid)
    for i, lab in zip(idx, equivalence_classes(embeddings[idx]) if idx else []):
        labels[i] = lab
    return labels


# ---- the experiment ------------------------------------------------------------------------
class SizeConcentration:
    """Claim C3 (sampling stage): size, probability concentration and distinct samples per draw."""

    claim = CLAIM
    title = "Size and probability concentration"
    question = ("Do bigger models concentrate probability mass and give fewer distinct samples per draw "
                "(seed), or are smaller ones only more parameter-efficient at unique content (paper)?")

    def run(self, ctx: ExperimentContext) -> list[Evidence]:
        k = QUICK_SAMPLES if ctx.quick else FULL_SAMPLES
        prompts = synthetic_task_prompts(ctx.quick, count=None if ctx.quick else FULL_TASKS)
        runs = [self.generate(ctx, spec, prompts, k) for spec in ctx.models]
        measures = {run.label: self.measure(ctx, run, prompts) for run in runs}
        write_artifacts(ctx, runs, prompts, measures)
        return build_evidence(ctx, runs, prompts, measures)

    def generate(self, ctx: ExperimentContext, spec: str, prompts: list[Prompt], k: int) -> ModelRun:
        """K samples of every task prompt from one model (cached by the engine)."""
        run = describe_model(spec)
        ctx.log(f"c3: {k} samples x {len(prompts)} tasks from {run.label} ({run.kind}, {run.params / 1e6:.0f}M params)")
        functions = [p for p in prompts if p.meta.get("kind") == "function"]
        texts = [p for p in prompts if p.meta.get("kind") != "function"]
        for group, max_tokens in ((texts, TEXT_MAX_TOKENS), (functions, FUNCTION_MAX_TOKENS)):
            if group:
                run.rows.update(ctx.sample(spec, group, k, max_tokens=max_tokens, **SAMPLING))
        require_complete(run.label, run.rows, k)
        return run

    def measure(self, ctx: ExperimentContext, run: ModelRun, prompts: list[Prompt]) -> dict[str, PromptMeasures]:
        """Every prompt's measures for one model (functions run in the sandbox)."""
        out = {}
        for p in prompts:
            rows = run.rows[p.id]
            emb = np.asarray(ctx.embed([r["text"] for r in rows]))
            results = classify_texts([r["text"] for r in rows], p.meta["inputs"]) if p.meta.get("kind") == "function" else None
            out[p.id] = measure_prompt(rows, emb, results)
        return out


def require_complete(label: str, rows: dict[str, list[dict[str, Any]]], k: int) -> None:
    """Stop with one clear line when the engine returned fewer samples than asked (a failed batch)."""
    short = [pid for pid, rs in rows.items() if len(rs) < k]
    if short:
        raise HomogenyError(f"{label} returned fewer than {k} samples for {len(short)} prompt(s) (e.g. {short[0]}); "
                            "rerun the same command to resume the missing ones")


def describe_model(spec: str) -> ModelRun:
    """Label, parameter count, kind and family of a model spec, without loading it."""
    from homogeny.generate.engine import model_info

    info = model_info(spec)
    params = info.params or _params_from_name(info.model_id)
    return ModelRun(spec=spec, label=info.model_id, params=params, kind=info.kind, family=info.family)


def _params_from_name(name: str) -> int:
    """A parameter count read from a model name such as "...-1.5B-..." (0 when absent)."""
    m = re.search(r"(\d+(?:\.\d+)?)\s*([MB])\b", name, re.IGNORECASE)
    return int(float(m.group(1)) * (1e9 if m.group(2).upper() == "B" else 1e6)) if m else 0


def prompt_matrix(measures: dict[str, dict[str, PromptMeasures]], labels: Sequence[str], prompt_ids: Sequence[str], value: Any) -> np.ndarray:
    """A prompts x models matrix of value(PromptMeasures) (the bootstrap resamples its rows)."""
    return np.array([[float(value(measures[m][p])) for m in labels] for p in prompt_ids])


def slope_ci(matrix: np.ndarray, log_params: np.ndarray, seed: int) -> tuple[float, float, float]:
    """Slope of per-model means against log10(params), with a bootstrap CI over prompts."""
    res = bootstrap_ci(lambda y: size_slope(np.nanmean(y, axis=0), log_params), matrix, n_resamples=N_RESAMPLES, seed=seed)
    return res.point, res.low, res.high


# ---- evidence --------------------------------------------------------------------------------
@dataclass(frozen=True)
class TrendRow:
    """One size-trend evidence row: which reading it tests, its question, sign and prediction."""

    metric: str
    reading: str  # strong (seed) | weak (paper) | concentration
    question: str
    sign: str
    predicted: Literal["above", "below"]


TREND_ROWS = (
    TrendRow(
        "distinct_per_draw_vs_size", "strong",
        "Seed reading: do bigger models give fewer distinct samples per draw?",
        "slope of distinct@K / K (all outputs, MiniLM classes at cosine 0.9) per decade of parameters; "
        "negative = bigger models give fewer distinct samples per draw", "below"),
    TrendRow(
        "effective_per_draw_vs_size", "strong",
        "Seed reading on valid outputs: do bigger models give fewer distinct valid samples per draw? "
        "(the paper expected larger models to have more effective semantic diversity)",
        "slope of distinct valid outputs / K per decade of parameters; negative = bigger models give fewer", "below"),
    TrendRow(
        "unique_per_100m_params_vs_size", "weak",
        "Paper reading: are smaller models more parameter-efficient at unique content within a fixed budget?",
        "slope of distinct valid outputs / K per 100M parameters, per decade of parameters; negative = smaller "
        "models more efficient (per-parameter scaling favours small models unless diversity grows with size)", "below"),
    TrendRow(
        "top1_mass_vs_size", "concentration",
        "Do bigger models concentrate probability mass (higher top-1 probability per token)?",
        "slope of mean per-token top-1 probability per decade of parameters; positive = bigger more concentrated", "above"),
    TrendRow(
        "entropy_vs_size", "concentration",
        "Do bigger models concentrate probability mass (lower per-token entropy)?",
        "slope of mean per-token entropy (nats, full distribution) per decade of parameters; negative = bigger "
        "more concentrated", "below"),
)


SAME_FAMILY_ROWS: tuple[tuple[str, str, Literal["above", "below"]], ...] = (
    ("distinct_per_draw_vs_size", ("larger minus smaller model, distinct@K / K; negative = the larger gives "
                                   "fewer distinct samples per draw"), "below"),
    ("top1_mass_vs_size", ("larger minus smaller model, mean top-1 probability; positive = the larger is more "
                           "concentrated"), "above"),
)


def row_values(metric: str, runs: Sequence[ModelRun], measures: dict[str, dict[str, PromptMeasures]], prompt_ids: Sequence[str]) -> np.ndarray:
    """The prompts x models matrix behind one trend row."""
    labels = [r.label for r in runs]
    if metric == "distinct_per_draw_vs_size":
        return prompt_matrix(measures, labels, prompt_ids, lambda m: m.distinct_curve[-1] / m.n_samples)
    if metric.startswith("top1"):
        return prompt_matrix(measures, labels, prompt_ids, lambda m: m.top1)
    if metric.startswith("entropy"):
        return prompt_matrix(measures, labels, prompt_ids, lambda m: m.entropy)
    eff = prompt_matrix(measures, labels, prompt_ids, lambda m: m.effective_unique / m.n_samples)
    if metric.startswith("unique_per_100m"):
        return eff / (np.array([r.params for r in runs], dtype=float) / PER_PARAMS)
    return eff


def model_bars(matrix: np.ndarray, runs: Sequence[ModelRun], seed: int) -> dict[str, Any]:
    """Per-model means with bootstrap CIs over prompts, as a bars plot (base models marked)."""
    values, low, high = [], [], []
    for j in range(matrix.shape[1]):
        col = matrix[:, j][np.isfinite(matrix[:, j])]
        if col.size >= 2:
            res = bootstrap_ci(np.mean, col, n_resamples=N_RESAMPLES, seed=seed)
            point, lo, hi = res.point, res.low, res.high
        else:
            point = lo = hi = float(col.mean()) if col.size else 0.0
        values.append(point)
        low.append(lo)
        high.append(hi)
    return {"labels": [model_label(r) for r in runs], "values": values, "low": low, "high": high}


def model_label(run: ModelRun) -> str:
    return f"{run.label} (base, raw completion)" if run.kind == "base" else run.label


def build_evidence(ctx: ExperimentContext, runs: Sequence[ModelRun], prompts: Sequence[Prompt], measures: dict[str, dict[str, PromptMeasures]]) -> list[Evidence]:
    """Trend rows for both readings and for concentration, then same-family comparisons."""
    prompt_ids = [p.id for p in prompts]
    trend = sorted([r for r in runs if r.kind != "base" and r.params > 0], key=lambda r: r.params)
    base = [r.label for r in runs if r.kind == "base"]
    scope = "instruct models " + ", ".join(r.label for r in trend)
    if base:
        scope += f"; base models ({', '.join(base)}) shown in the plot but kept out of the trend"
    log_params = np.log10(np.array([r.params for r in trend], dtype=float))
    evidence = []
    for row in TREND_ROWS:
        plot = model_bars(row_values(row.metric, runs, measures, prompt_ids), runs, ctx.seed)
        plot["reading"] = row.reading
        matrix = row_values(row.metric, trend, measures, prompt_ids)
        testable = len(set(log_params)) >= 2 and len(prompt_ids) >= 2 and bool(np.isfinite(matrix).any(axis=0).all())
        if testable:
            effect, lo, hi = slope_ci(matrix, log_params, ctx.seed)
            q, n = f"{row.question} [{scope}]", len(prompt_ids)
        else:
            effect, lo, hi, n = 0.0, 0.0, 0.0, 0
            q = f"{row.question} [not testable here: needs at least two instruct model sizes with measurements; {scope or 'none'}]"
        evidence.append(make_evidence(CLAIM, q, row.metric, row.sign, effect, (lo, hi), n, predicted=row.predicted,
                                      plot=plot, models=[r.label for r in trend], quick=ctx.quick))
    evidence.extend(same_family_evidence(ctx, trend, measures, prompt_ids))
    return evidence


def same_family_evidence(ctx: ExperimentContext, trend: Sequence[ModelRun], measures: dict[str, dict[str, PromptMeasures]], prompt_ids: Sequence[str]) -> list[Evidence]:
    """Larger minus smaller model of the same family (e.g. Qwen2.5-Coder 1.5B vs 0.5B): the
    cleanest size comparison, since training data and recipe are shared."""
    from homogeny.metrics import paired_difference_ci

    rows = []
    for i, small in enumerate(trend):
        for big in trend[i + 1 :]:
            if not small.family or small.family != big.family or small.params == big.params:
                continue
            pair = f"{big.label} vs {small.label}"
            for metric, sign, predicted in SAME_FAMILY_ROWS:
                m = row_values(metric, [small, big], measures, prompt_ids)
                keep = np.isfinite(m).all(axis=1)
                if keep.sum() < 2:
                    continue
                res = paired_difference_ci(m[keep, 1], m[keep, 0], n_resamples=N_RESAMPLES, seed=ctx.seed)
                name = metric.replace("_vs_size", "")
                rows.append(make_evidence(
                    CLAIM, f"Same family, {pair}: {'fewer distinct samples per draw' if predicted == 'below' else 'more concentrated'} in the larger model?",
                    f"same_family_{name}", sign, res.point, (res.low, res.high), int(keep.sum()), predicted=predicted,
                    plot=model_bars(m, [small, big], ctx.seed), models=[small.label, big.label], quick=ctx.quick,
                ))
    return rows


# ---- artifacts -------------------------------------------------------------------------------
def write_artifacts(ctx: ExperimentContext, runs: Sequence[ModelRun], prompts: Sequence[Prompt], measures: dict[str, dict[str, PromptMeasures]]) -> None:
    """Curves, efficiency bars, model notes and side-by-side examples for the report."""
    ids = [p.id for p in prompts]
    k = min(len(m.distinct_curve) for ms in measures.values() for m in ms.values())
    ctx.artifact(CLAIM, "distinct_at_k", {
        "x": list(range(1, k + 1)),
        "series": {model_label(r): np.mean([measures[r.label][p].distinct_curve[:k] for p in ids], axis=0).tolist() for r in runs},
    })
    ctx.artifact(CLAIM, "vendi_by_token_budget", {
        "x": list(TOKEN_BUDGETS),
        "series": {model_label(r): np.mean([measures[r.label][p].vendi_by_budget for p in ids], axis=0).tolist() for r in runs},
    })
    eff = row_values("effective_per_draw_vs_size", runs, measures, ids)
    ctx.artifact(CLAIM, "effective_per_sample", model_bars(eff, runs, ctx.seed))
    ctx.artifact(CLAIM, "effective_per_100m_params", model_bars(row_values("unique_per_100m_params_vs_size", runs, measures, ids), runs, ctx.seed))
    seconds = prompt_matrix(measures, [r.label for r in runs], ids, lambda m: m.seconds)
    unique = prompt_matrix(measures, [r.label for r in runs], ids, lambda m: m.effective_unique)
    ctx.artifact(CLAIM, "effective_per_cpu_second", {
        "labels": [model_label(r) for r in runs],
        "values": [float(unique[:, j].sum() / max(seconds[:, j].sum(), 1e-9)) for j in range(len(runs))],
    })
    for kind, kind_ids in (("function", [p.id for p in prompts if p.meta.get("kind") == "function"]),
                           ("text", [p.id for p in prompts if p.meta.get("kind") != "function"])):
        if kind_ids:
            shares = prompt_matrix(measures, [r.label for r in runs], kind_ids, lambda m: m.valid_share)
            ctx.artifact(CLAIM, f"valid_share_{kind}", model_bars(shares, runs, ctx.seed))
    ctx.artifact(CLAIM, "models", [
        {"model": r.label, "params": r.params, "kind": r.kind, "family": r.family,
         "note": "base model: raw completion of the prompt, kept out of size trends" if r.kind == "base" else ""}
        for r in runs
    ])
    ctx.artifact(CLAIM, "examples", example_outputs(runs, prompts))


def example_outputs(runs: Sequence[ModelRun], prompts: Sequence[Prompt], per_kind: int = 1, shown: int = 3) -> list[dict[str, Any]]:
    """The first outputs of each model on one prompt of each task kind, side by side."""
    picked: dict[str, list[Prompt]] = {}
    for p in prompts:
        picked.setdefault(str(p.meta.get("kind")), []).append(p)
    return [
        {"prompt": p.display, "outputs": {model_label(r): [row["text"] for row in r.rows[p.id][:shown]] for r in runs}}
        for group in picked.values() for p in group[:per_kind]
    ]
