"""C2: RL post-training amplifies one format from pretraining and collapses the others.

After Zhao et al. 2025, "Echo Chamber: RL Post-training Amplifies Behaviors Learned in
Pretraining" (arXiv 2504.07912). The paper pretrained 150M and 1B transformers on math text
whose worked solutions came in three detectable formats (TinyGSM code, OpenMathInstruct-1
tagged code, OpenMathInstruct-2 natural language), then ran RL with a 0/1 correctness
reward: one format took over within the first epoch, majority@64 rose while pass@64 fell,
KL 0.01 (vs 0.001) kept minority formats alive, and the winner depended on model size.

Toy reproduction: character GPTs of three sizes (homogeny.toy.gpt), one pretraining per size
on synthetic word problems in the same three formats (homogeny.toy.arithmetic), then GRPO
(homogeny.toy.rl) over several seeds, with and without a KL penalty. Evidence: the first
epoch's gain of the dominant format, how soon one format passes 90%, pass@k and majority@k
from start to end, minority formats kept alive by KL, and whether the winner depends on size.
Real models (when given): format diversity of a base model's answers against instruct models.
"""

from __future__ import annotations

import hashlib
import json
import re
import tempfile
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path
from typing import Any

import numpy as np

from homogeny.experiments.base import Evidence, ExperimentContext, make_evidence
from homogeny.metrics.stats import bootstrap_ci
from homogeny.toy.arithmetic import ALPHABET, FORMATS, make_problems, pretraining_corpus
from homogeny.toy.gpt import (
    GPT,
    SIZES,
    CharTokenizer,
    GPTConfig,
    load_checkpoint,
    save_checkpoint,
    train_lm,
)
from homogeny.toy.rl import RLConfig, RLResult, rl_finetune

CLAIM = "c2"


@dataclass(frozen=True)
class C2Settings:
    """Everything that fixes the toy experiment's numbers (part of the checkpoint key)."""

    sizes: tuple[str, ...] = ("tiny", "small", "medium")
    seeds: int = 3
    kl_coef: float = 0.2  # per-token k3 KL; 0.05 barely moved the toy models (the paper: 0.01 vs 0.001)
    mix: tuple[tuple[str, float], ...] = (("code", 0.2), ("tagged", 0.3), ("nl", 0.5))
    max_operand: int = 9
    corpus_docs: int = 8000
    pretrain_steps: int = 600
    pretrain_batch: int = 32
    pretrain_lr: float = 3e-3
    block_size: int = 128
    rl_prompts: int = 48  # 6 steps of 8 prompts per epoch; 64 prompts and 16 eval prompts took 11.1 min
    eval_prompts: int = 10
    rl: RLConfig = field(default_factory=lambda: RLConfig(
        epochs=3, prompts_per_step=8, group_size=8, lr=3e-4, eval_k=16, max_new_tokens=44, evals_per_epoch=1,
    ))


QUICK = C2Settings(
    sizes=("tiny", "small"), seeds=2, corpus_docs=2000, pretrain_steps=150, rl_prompts=16, eval_prompts=8,
    rl=RLConfig(epochs=2, prompts_per_step=4, group_size=4, lr=3e-4, eval_k=8, max_new_tokens=40, evals_per_epoch=1),
)


def settings_for(ctx: ExperimentContext) -> C2Settings:
    """QUICK or the default, with overrides from ctx.options["c2"] (a dict of C2Settings fields;
    "rl" may be a dict of RLConfig fields)."""
    base = QUICK if ctx.quick else C2Settings()
    overrides = dict(ctx.options.get("c2", {}))
    if "rl" in overrides and isinstance(overrides["rl"], dict):
        overrides["rl"] = replace(base.rl, **overrides["rl"])
    if "sizes" in overrides:
        overrides["sizes"] = tuple(overrides["sizes"])
    return replace(base, **overrides)


class RLFormatCollapse:
    """C2: does RL with a correctness reward collapse solution formats? (see module doc)."""

    claim = CLAIM
    title = "RL post-training collapses formats"
    question = "Does RL post-training amplify one pretraining format within the first epoch and collapse the others?"

    def run(self, ctx: ExperimentContext) -> list[Evidence]:
        s = settings_for(ctx)
        runs = self.toy_runs(ctx, s)
        evidence = toy_evidence(runs, s, ctx.quick, ctx.seed)
        if ctx.models and not ctx.options.get("toy_only"):
            evidence.extend(real_model_format_diversity(ctx))
        return evidence

    def toy_runs(self, ctx: ExperimentContext, s: C2Settings) -> list[dict[str, Any]]:
        """Pretrain each size once (cached on disk), then RL it per seed without and with KL."""
        tok = CharTokenizer(ALPHABET)
        with _checkpoint_dir(ctx) as folder:
            rl_set = make_problems(s.rl_prompts, seed=ctx.seed + 1, max_operand=s.max_operand)
            eval_set = make_problems(s.eval_prompts, seed=ctx.seed + 2, max_operand=s.max_operand)
            runs, curves = [], {}
            for size in s.sizes:
                path, curves[size], key = pretrained(folder, tok, s, size, ctx.seed, ctx.log)
                for i in range(s.seeds):
                    for kl in (0.0, s.kl_coef):
                        model = load_checkpoint(path)
                        cfg = replace(s.rl, kl_coef=kl, seed=ctx.seed + i)
                        ctx.log(f"c2: RL {size} seed {ctx.seed + i} kl {kl:g}")
                        result = rl_finetune(model, tok, rl_set, eval_set, cfg)
                        save_checkpoint(model, folder / f"rl-{size}-seed{ctx.seed + i}-kl{kl:g}-{key}.safetensors", tok)
                        runs.append(summarize_run(size, ctx.seed + i, kl, result))
                        ctx.artifact(CLAIM, f"rl_log/{size}/seed{ctx.seed + i}/kl{kl:g}", result.as_dict())
            ctx.artifact(CLAIM, "pretrain_curves", curves)
            ctx.artifact(CLAIM, "runs", runs)
            ctx.artifact(CLAIM, "settings", {**asdict(s), "checkpoints": str(folder)})
        return runs


class _checkpoint_dir:
    """Checkpoints beside the store (homogeny-checkpoints/c2); a temporary folder for ':memory:'."""

    def __init__(self, ctx: ExperimentContext) -> None:
        self.memory = ctx.store.path == ":memory:"
        self.tmp: tempfile.TemporaryDirectory[str] | None = None
        self.path = None if self.memory else Path(ctx.store.path).resolve().parent / "homogeny-checkpoints" / CLAIM

    def __enter__(self) -> Path:
        if self.path is None:
            self.tmp = tempfile.TemporaryDirectory(prefix="homogeny-c2-")
            self.path = Path(self.tmp.name)
        self.path.mkdir(parents=True, exist_ok=True)
        return self.path

    def __exit__(self, *exc: object) -> None:
        if self.tmp is not None:
            self.tmp.cleanup()


def _key(s: C2Settings, size: str, texts: list[str]) -> str:
    """Hash of what determines a pretrained model (shape, training settings, the corpus itself),
    so a changed setting or task generator never reuses a stale checkpoint."""
    fields = {k: v for k, v in asdict(s).items() if k not in ("seeds", "kl_coef", "rl", "rl_prompts", "eval_prompts", "sizes")}
    corpus = hashlib.sha256("\x00".join(texts).encode()).hexdigest()
    payload = json.dumps({"size": SIZES[size], "settings": fields, "corpus": corpus}, sort_keys=True)
    return hashlib.sha256(payload.encode()).hexdigest()[:10]


def pretrained(
    folder: Path, tok: CharTokenizer, s: C2Settings, size: str, seed: int, log: Any
) -> tuple[Path, list[float], str]:
    """The checkpoint of `size` pretrained on the mixed-format corpus, trained now or reused;
    returns its path, its loss curve and its key."""
    texts = pretraining_corpus(s.corpus_docs, dict(s.mix), seed=seed, max_operand=s.max_operand)
    key = _key(s, size, texts)
    stem = folder / f"pretrain-{size}-seed{seed}-{key}"
    path, curve_path = stem.with_suffix(".safetensors"), stem.with_suffix(".curve.json")
    if path.exists() and curve_path.exists():
        return path, json.loads(curve_path.read_text()), key
    log(f"c2: pretraining {size} ({s.pretrain_steps} steps)")
    model = GPT(GPTConfig(vocab_size=tok.vocab_size, block_size=s.block_size, init_seed=seed, **SIZES[size]))
    curve = train_lm(model, tok, texts, s.pretrain_steps, s.pretrain_batch, s.pretrain_lr, seed)
    save_checkpoint(model, path, tok)
    curve_path.write_text(json.dumps(curve))
    return path, curve, key


def summarize_run(size: str, seed: int, kl: float, result: RLResult) -> dict[str, Any]:
    """Start, end-of-first-epoch and final numbers of one RL run."""
    start, first, end = result.evals[0], result.eval_at_epoch(1.0), result.evals[-1]
    acc0 = {f: v for f, v in start["accuracy_by_format"].items() if f in FORMATS and v is not None}
    winner = max(FORMATS, key=lambda f: end["shares"][f])
    crossing = result.first_crossing()
    return {
        "size": size, "seed": seed, "kl": kl,
        "shares_start": start["shares"], "shares_epoch1": first["shares"], "shares_end": end["shares"],
        "winner": winner,
        "initial_majority": max(FORMATS, key=lambda f: start["shares"][f]),
        "initial_most_accurate": max(acc0, key=lambda f: acc0[f]) if acc0 else None,
        "accuracy_by_format_start": start["accuracy_by_format"],
        "pass@1": [start["pass@1"], first["pass@1"], end["pass@1"]],
        "pass@k": [start["pass@k"], first["pass@k"], end["pass@k"]],
        "majority@k": [start["majority@k"], first["majority@k"], end["majority@k"]],
        "distinct": [start["distinct"], first["distinct"], end["distinct"]],
        "k": start["k"],
        "crossing_epochs": None if crossing is None else crossing["epoch_fraction"],
        "crossing_format": None if crossing is None else crossing["format"],
        "epochs": result.config["epochs"],
        "share_curve": [[row["epoch"], row["shares"]] for row in result.steps],
    }


# ---- evidence -----------------------------------------------------------------------------

def _mean_ci(values: list[float], seed: int) -> tuple[float, tuple[float, float]]:
    if len(values) < 2:
        v = float(values[0]) if values else 0.0
        return v, (v, v)
    r = bootstrap_ci(lambda x: float(np.mean(x)), np.asarray(values, dtype=float), seed=seed)
    return r.point, (r.low, r.high)


def toy_evidence(runs: list[dict[str, Any]], s: C2Settings, quick: bool, seed: int) -> list[Evidence]:
    """The five toy evidence rows (see the module doc) from the run summaries."""
    plain = [r for r in runs if r["kl"] == 0.0]
    models = tuple(f"toy-gpt-{z}" for z in s.sizes)
    rows = []

    gains = [r["shares_epoch1"][r["winner"]] - r["shares_start"][r["winner"]] for r in plain]
    eff, ci = _mean_ci(gains, seed)
    rows.append(make_evidence(
        CLAIM, "Does the format that wins grow within the first RL epoch?", "dominant_share_gain_first_epoch",
        "share of the finally dominant format after the first epoch minus before RL (no KL); threshold 0.05,"
        " above the noise of a share from eval_prompts x eval_k samples, since picking the winner favours gains",
        eff, ci, len(gains), threshold=0.05,
        plot={"kind": "share_curves", "mean_gain_by_size": _by_size(plain, gains),
              "runs": [{k: r[k] for k in ("size", "seed", "kl", "share_curve", "winner")} for r in runs]},
        models=models, quick=quick,
    ))

    crossing = [r["crossing_epochs"] if r["crossing_epochs"] is not None else float(r["epochs"]) for r in plain]
    eff, ci = _mean_ci(crossing, seed)
    rows.append(make_evidence(
        CLAIM, "How much of the first epoch does it take for one format to pass 90%?", "epochs_until_90pct_format",
        "epochs of RL (no KL) until one format is 90% of the samples; runs that never get there count as the"
        " full training length; below 1 = within the first epoch", eff, ci, len(crossing), threshold=1.0,
        predicted="below", plot={"kind": "bars", "labels": [f"{r['size']}/s{r['seed']}" for r in plain], "values": crossing,
                                 "mean_by_size": _by_size(plain, crossing)},
        models=models, quick=quick,
    ))

    dpk = [r["pass@k"][-1] - r["pass@k"][0] for r in plain]
    eff, ci = _mean_ci(dpk, seed)
    k = plain[0]["k"] if plain else 0
    rows.append(make_evidence(
        CLAIM, f"Does RL narrow coverage (pass@{k} falls)?", "pass_at_k_change",
        f"pass@{k} at the end of RL minus before RL (no KL); negative = coverage lost", eff, ci, len(dpk),
        predicted="below", plot=_trend_plot(plain), models=models, quick=quick,
    ))

    gap = [(r["majority@k"][-1] - r["majority@k"][0]) - (r["pass@k"][-1] - r["pass@k"][0]) for r in plain]
    eff, ci = _mean_ci(gap, seed)
    rows.append(make_evidence(
        CLAIM, f"Does majority@{k} gain more than pass@{k} under RL?", "majority_minus_pass_at_k_change",
        f"change of majority@{k} minus change of pass@{k}, start to end (no KL); positive = RL sharpens the"
        " mode more than it widens coverage, as majority@64 rose while pass@64 fell in the paper",
        eff, ci, len(gap), plot=_trend_plot(plain), models=models, quick=quick,
    ))

    rows.append(_kl_evidence(runs, s, seed, models, quick))
    rows.append(_size_evidence(plain, s, seed, models, quick))
    return rows


def _by_size(runs: list[dict[str, Any]], values: list[float]) -> dict[str, float]:
    sizes = dict.fromkeys(r["size"] for r in runs)
    return {z: float(np.mean([v for r, v in zip(runs, values) if r["size"] == z])) for z in sizes}


def _trend_plot(runs: list[dict[str, Any]]) -> dict[str, Any]:
    return {"kind": "trend", "x": ["start", "epoch 1", "end"], "series": {
        m: [float(np.mean([r[m][i] for r in runs])) for i in range(3)] for m in ("pass@1", "pass@k", "majority@k", "distinct")
    } if runs else {}}


def _minority_share(shares: dict[str, float]) -> float:
    """Share of the two non-leading formats among the samples (unclassified text excluded)."""
    top = max(shares[f] for f in FORMATS)
    return sum(shares[f] for f in FORMATS) - top


def _kl_evidence(
    runs: list[dict[str, Any]], s: C2Settings, seed: int, models: tuple[str, ...], quick: bool
) -> Evidence:
    by_key = {(r["size"], r["seed"], r["kl"]): r for r in runs}
    diffs = [
        _minority_share(by_key[(z, sd, s.kl_coef)]["shares_end"]) - _minority_share(r["shares_end"])
        for (z, sd, kl), r in by_key.items() if kl == 0.0 and (z, sd, s.kl_coef) in by_key
    ]
    eff, ci = _mean_ci(diffs, seed)
    return make_evidence(
        CLAIM, f"Does a KL penalty ({s.kl_coef:g}) keep minority formats alive?", "kl_minority_share_gain",
        f"share of the non-leading formats at the end with KL {s.kl_coef:g} minus without KL, paired by size and"
        " seed; positive = KL keeps minority formats", eff, ci, len(diffs),
        plot={"kind": "paired", "values": diffs}, models=models, quick=quick,
    )


def winner_agreement(table: dict[str, list[str]], seeds: list[int]) -> float:
    """Agreement of winners within a size (across distinct seeds) minus agreement across sizes
    (same seed); NaN when fewer than two distinct seeds are present."""
    sizes = list(table)
    within = [
        table[z][a] == table[z][b] for z in sizes
        for i, a in enumerate(seeds) for b in seeds[i + 1 :] if a != b
    ]
    across = [table[x][a] == table[y][a] for a in seeds for i, x in enumerate(sizes) for y in sizes[i + 1 :]]
    if not within or not across:
        return float("nan")
    return float(np.mean(within) - np.mean(across))


def _size_evidence(
    plain: list[dict[str, Any]], s: C2Settings, seed: int, models: tuple[str, ...], quick: bool
) -> Evidence:
    """Hand-written bootstrap over seeds: resamples with a single distinct seed leave the
    within-size agreement undefined and are dropped, which bootstrap_ci cannot do."""
    seed_ids = sorted({r["seed"] for r in plain})
    pos = {sd: i for i, sd in enumerate(seed_ids)}
    table = {z: [""] * len(seed_ids) for z in s.sizes}
    for r in plain:
        table[r["size"]][pos[r["seed"]]] = r["winner"]
    idx = list(range(len(seed_ids)))
    point = winner_agreement(table, idx)
    rng = np.random.default_rng(seed)
    boots = [winner_agreement(table, sorted(rng.integers(0, len(idx), len(idx)).tolist())) for _ in range(1000)]
    boots = [b for b in boots if np.isfinite(b)]
    if not np.isfinite(point) or not boots:
        point, lo, hi = 0.0, 0.0, 0.0
        n = 0
    else:
        lo, hi = (float(v) for v in np.percentile(boots, [2.5, 97.5]))
        n = len(seed_ids)
    beaten = [r for r in plain if r["initial_most_accurate"] is not None]
    return make_evidence(
        CLAIM, "Does the winning format depend on model size?", "winner_depends_on_size",
        "agreement of the winning format between seeds of one size minus agreement between sizes at one"
        " seed; positive = the winner depends on size", point, (min(lo, point), max(hi, point)), n,
        plot={
            "kind": "table", "winners": table, "seeds": seed_ids,
            "winner_was_initially_most_accurate": float(np.mean([r["winner"] == r["initial_most_accurate"] for r in beaten])) if beaten else None,
            "winner_was_initial_majority": float(np.mean([r["winner"] == r["initial_majority"] for r in plain])) if plain else None,
        },
        models=models, quick=quick,
    )


# ---- real models: format diversity of base against instruct answers -----------------------

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


def format_entropy(counts: np.ndarray) -> float:
    """Shannon entropy (bits) of a format count vector (or of the column sums of a matrix)."""
    from scipy.stats import entropy

    total = np.asarray(counts, dtype=float).reshape(-1, len(REAL_FORMATS)).sum(axis=0)
    return float(entropy(total, base=2)) if total.sum() > 0 else 0.0


def real_model_format_diversity(ctx: ExperimentContext) -> list[Evidence]:
    """Answers of each model to the same math word problems, classified by format; evidence:
    format entropy of the base model(s) minus the mean over instruct models, CI over prompts."""
    from homogeny.generate.engine import model_info
    from homogeny.suites.catalog import math_problem_prompts
    from homogeny.suites.prompt import Prompt

    kinds = {spec: model_info(spec).kind for spec in ctx.models}
    base = [m for m, k in kinds.items() if k == "base"]
    instruct = [m for m, k in kinds.items() if k != "base"]
    if not base or not instruct:
        ctx.log("c2: real-model part skipped (needs at least one base and one instruct model)")
        return []
    items = math_problem_prompts(quick=ctx.quick)[: 2 if ctx.quick else 12]
    prompts = [Prompt(id=f"c2-{p.id}", text=f"Question: {p.text}\nAnswer:", meta=p.meta) for p in items]
    k, max_tokens = (3, 64) if ctx.quick else (8, 160)
    counts, summary = {}, {}
    for spec in ctx.models:
        # A base model continues with more "Question:" lines; only its first answer counts.
        rows = ctx.sample(spec, prompts, k, temperature=1.0, top_p=1.0, min_p=0.0, top_k=0,
                          max_tokens=max_tokens, stop=(STOP,))
        per_prompt = np.zeros((len(prompts), len(REAL_FORMATS)))
        for i, p in enumerate(prompts):
            for row in rows.get(p.id, []):
                answer = row["text"].split(STOP)[0]
                per_prompt[i, REAL_FORMATS.index(classify_real_format(answer))] += 1
        counts[spec] = per_prompt
        summary[spec] = {"kind": kinds[spec], "entropy_bits": format_entropy(per_prompt),
                         "shares": dict(zip(REAL_FORMATS, (per_prompt.sum(0) / max(1, per_prompt.sum())).tolist()))}
    ctx.artifact(CLAIM, "real_model_formats", summary)

    def gap(b: np.ndarray, inst: np.ndarray) -> float:
        return float(np.mean([format_entropy(b[:, j]) for j in range(b.shape[1])])
                     - np.mean([format_entropy(inst[:, j]) for j in range(inst.shape[1])]))

    b_stack = np.stack([counts[m] for m in base], axis=1)
    i_stack = np.stack([counts[m] for m in instruct], axis=1)
    r = bootstrap_ci(gap, (b_stack, i_stack), seed=ctx.seed)
    return [make_evidence(
        CLAIM, "Do instruct models answer math in fewer formats than a base model?", "base_minus_instruct_format_entropy",
        "format entropy (bits; code / LaTeX / prose / bare) of the base model's answers minus the mean of the"
        " instruct models', same prompts; positive = post-training narrowed the formats",
        r.point, (r.low, r.high), len(prompts),
        plot={"kind": "bars", "labels": list(summary), "values": [v["entropy_bits"] for v in summary.values()]},
        models=tuple(ctx.models), quick=ctx.quick,
    )]
