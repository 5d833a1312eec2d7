"""C5: identical outputs can hide very different, fractured internals.

After Kumar, Clune, Lehman & Stanley 2025, "Questioning Representational Optimism in Deep
Learning: The Fractured Entangled Representation Hypothesis" (arXiv 2505.11581).

Three levels, each answering "do two systems that give the same outputs have the same insides?":
1. CPPNs (the paper's own setting): a hand-factored compositional face CPPN against a network
   of the same architecture trained by Adam to the same image. Both draw the face; sweeping
   single weights shows whether the change stays symmetric, local and confined to few units.
2. Tiny GPTs trained here (toy/gpt.py) on the same addition data with different seeds: on the
   prompts where their greedy answers are identical, how alike are their hidden states
   (debiased linear CKA, mutual k-NN), compared with a weight-noised copy of one model whose
   answers agree with the original's as often?
3. Real models (only when models are named): the same comparison with transformers hidden
   states and the backend's weight perturbation.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import numpy as np

from homogeny import toy
from homogeny.experiments.base import Evidence, ExperimentContext, make_evidence
from homogeny.metrics.stats import bootstrap_ci
from homogeny.toy import cppn

CLAIM = "c5"
QUESTION = "Do networks that give identical outputs have the same internal representations?"


@dataclass(frozen=True)
class C5Settings:
    """Sizes of the C5 experiment; `quick` keeps it under a minute on 2 cores."""

    seeds: int = 5
    image_size: int = 32
    sgd_steps: int = 3000
    restarts: int = 4
    restart_steps: int = 300
    deltas: tuple[float, ...] = (-1.5, -1.0, -0.5, -0.25, 0.25, 0.5, 1.0, 1.5)
    lm_size: str = "small"
    lm_steps: int = 1500
    lm_batch: int = 64
    lm_lr: float = 6e-3
    lm_train: int = 4000
    lm_test: int = 300
    noise_scales: tuple[float, ...] = (0.02, 0.05, 0.1, 0.2, 0.4, 0.8)
    real_prompts: int = 32
    real_noise_scales: tuple[float, ...] = (0.002, 0.005, 0.01, 0.02, 0.05)  # real LMs break at ~0.05
    bootstrap: int = 1000


DEFAULT = C5Settings()
QUICK = C5Settings(seeds=2, sgd_steps=1200, restarts=3, restart_steps=150, deltas=(-1.5, -0.5, 0.5, 1.5),
                   lm_steps=700, lm_train=2000, lm_test=200, noise_scales=(0.05, 0.2, 0.8),
                   real_prompts=16, real_noise_scales=(0.005,), bootstrap=300)
SWEEP_METRICS = {
    "asymmetry": ("sweep_asymmetry_sgd_minus_compositional",
                  ("left-right asymmetry of a weight sweep's image change (0 = mirror-symmetric, "
                   "1 = one-sided), SGD minus compositional")),
    "extent": ("sweep_extent_sgd_minus_compositional",
               "share of pixels a weight sweep changes by > 10% of its largest change, SGD minus compositional"),
    "units": ("sweep_units_sgd_minus_compositional",
              "share of hidden units whose activation maps a weight sweep changes, SGD minus compositional"),
}


def nested_bootstrap_difference(a: list[np.ndarray], b: list[np.ndarray], n_resamples: int = 1000,
                                seed: int = 0) -> tuple[float, float, float]:
    """Mean over seeds of (mean of a - mean of b), with a two-level percentile bootstrap
    (seeds resampled, then each network's weights within a seed): the interval covers both
    training-run and weight-to-weight variation. Hand-written because `bootstrap_ci` resamples
    one level only. Returns (point, low, high)."""
    rng = np.random.default_rng(seed)
    point = float(np.mean([x.mean() - y.mean() for x, y in zip(a, b)]))
    stats = np.empty(n_resamples)
    for r in range(n_resamples):
        picks = rng.integers(0, len(a), size=len(a))
        stats[r] = np.mean([rng.choice(a[i], a[i].size).mean() - rng.choice(b[i], b[i].size).mean()
                            for i in picks])
    low, high = np.percentile(stats, [2.5, 97.5])
    return point, min(float(low), point), max(float(high), point)


class FracturedInternals:
    """C5 experiment: same outputs, different insides (CPPN sweeps, toy GPTs, real models)."""

    claim = CLAIM
    title = "Identical outputs, fractured internals"
    question = QUESTION

    def run(self, ctx: ExperimentContext) -> list[Evidence]:
        """Measure C5 at every level this context allows and return the evidence rows."""
        s = QUICK if ctx.quick else DEFAULT
        s = replace(s, **{k: v for k, v in ctx.options.get("c5", {}).items() if hasattr(s, k)})
        with toy.torch_threads(ctx.options.get("torch_threads", 1)):
            trained_here = self.cppn_evidence(ctx, s) + self.toy_lm_evidence(ctx, s)
        if ctx.quick:  # --quick stays under a minute: the real-model level runs at default size
            ctx.log("c5: --quick measures the trained-here levels; the real-model level runs without --quick")
            return trained_here
        return trained_here + self.real_model_evidence(ctx, s)

    # ---- level 1: CPPN weight sweeps ----------------------------------------------------

    def cppn_evidence(self, ctx: ExperimentContext, s: C5Settings) -> list[Evidence]:
        """Compositional vs SGD face CPPNs: output agreement and the three sweep measures,
        with CIs over seeds (each seed jitters the face) and weights."""
        seeds = [ctx.seed + i for i in range(s.seeds)]
        comps = [cppn.compositional_face(cppn.face_params(sd)) for sd in seeds]
        targets = [cppn.render(c, s.image_size) for c in comps]
        ctx.log(f"c5: training {len(seeds)} SGD CPPNs ({s.sgd_steps} Adam steps)")
        sgds = [net for net, _ in cppn.train_sgd_cppns(targets, seeds, steps=s.sgd_steps, restarts=s.restarts,
                                                        restart_steps=s.restart_steps)]
        rmse = np.array([np.sqrt(np.mean((cppn.render(n, s.image_size) - t) ** 2)) for n, t in zip(sgds, targets)])
        summaries = {name: [cppn.sweep_summary(n, s.deltas, s.image_size) for n in nets]
                     for name, nets in (("compositional", comps), ("sgd", sgds))}
        ctx.artifact(CLAIM, "cppn_sweep_measures", {
            "labels": [f"{m} {net}" for m in SWEEP_METRICS for net in summaries],
            "values": [float(np.mean([x[m].mean() for x in summaries[net]])) for m in SWEEP_METRICS for net in summaries],
            "title": "Weight sweeps: mean change measures per network",
        })
        ctx.artifact(CLAIM, "cppn_sweep_images", {
            "size": s.image_size, "rmse": rmse.tolist(),
            "inert_share": {net: [x["inert_share"] for x in summaries[net]] for net in summaries},
            "nets": {"compositional": cppn.example_sweeps(comps[0], size=s.image_size),
                     "sgd": cppn.example_sweeps(sgds[0], size=s.image_size)},
            "activations": [list(a) for a in cppn.FACE_LAYERS],
            "weights": {"compositional": [[w.tolist() for w in n.weights] for n in comps],
                        "sgd": [[w.tolist() for w in n.weights] for n in sgds]},
        })
        rows = [self._agreement_evidence(ctx, s, rmse)]
        for m, (metric, sign) in SWEEP_METRICS.items():
            sgd, comp = [x[m] for x in summaries["sgd"]], [x[m] for x in summaries["compositional"]]
            point, lo, hi = nested_bootstrap_difference(sgd, comp, s.bootstrap, ctx.seed)
            rows.append(make_evidence(
                CLAIM, "Does sweeping one weight change the SGD network more globally and asymmetrically "
                "than the compositional one?", metric, sign, point, (lo, hi),
                n=sum(x.size for x in sgd + comp), threshold=0.0, predicted="above", quick=ctx.quick,
                plot={"labels": ["compositional", "SGD"],
                      "values": [float(np.mean([x.mean() for x in comp])), float(np.mean([x.mean() for x in sgd]))]},
            ))
        return rows

    def _agreement_evidence(self, ctx: ExperimentContext, s: C5Settings, rmse: np.ndarray) -> Evidence:
        ci = bootstrap_ci(np.mean, rmse, n_resamples=s.bootstrap, seed=ctx.seed) if rmse.size > 1 else None
        lo, hi = (ci.low, ci.high) if ci else (float(rmse[0]), float(rmse[0]))
        return make_evidence(
            CLAIM, "Do the SGD-trained and the compositional CPPN draw the same image?", "cppn_output_rmse",
            "pixel RMSE between the two networks' images (below 0.05 = same picture)", float(rmse.mean()),
            (lo, hi), n=int(rmse.size), threshold=0.05, predicted="below", quick=ctx.quick,
            plot={"labels": [f"seed {i}" for i in range(rmse.size)], "values": rmse.tolist()},
        )

    # ---- level 2: tiny GPTs with identical greedy outputs -------------------------------

    def toy_lm_evidence(self, ctx: ExperimentContext, s: C5Settings) -> list[Evidence]:
        """Two tiny GPTs trained with different seeds on the same addition data, against a
        weight-noised copy of the first: representation similarity on output-identical prompts."""
        from homogeny.toy import arithmetic

        test = [p.prompt for p in arithmetic.addition_problems(s.lm_test, seed=10_000 + ctx.seed, digits=2)]
        ctx.log(f"c5: training two {s.lm_size} GPTs on addition ({s.lm_steps} steps each)")
        (model_a, tok), (model_b, _) = (_addition_lm(s, ctx.seed + i) for i in range(2))
        folder = _checkpoint_folder(ctx)
        if folder:
            from homogeny.toy.gpt import save_checkpoint

            for seed, model in ((ctx.seed, model_a), (ctx.seed + 1, model_b)):
                save_checkpoint(model, folder / f"addition_lm_seed{seed}.safetensors", tok)
        out_a, out_b = _toy_greedy(model_a, tok, test), _toy_greedy(model_b, tok, test)
        st_a, st_b = _toy_states(model_a, tok, test), _toy_states(model_b, tok, test)
        ladder = []
        for i, scale in enumerate(s.noise_scales):
            noisy = _noised_copy(model_a, scale, ctx.seed + 100 + i)
            ladder.append((scale, _toy_greedy(noisy, tok, test), _toy_states(noisy, tok, test)))
        result = matched_agreement_comparison(out_a, st_a, out_b, st_b, ladder, ctx.seed)
        result["accuracy"] = [float(np.mean([o == str(prompt_sum(p)) for o, p in zip(out, test)]))
                              for out in (out_a, out_b)]
        ctx.artifact(CLAIM, "toy_lm_output_vs_representation", _ladder_plot(result, "toy GPT"))
        return _comparison_evidence(ctx, result, "toy_lm", models=())

    # ---- level 3: real models -----------------------------------------------------------

    def real_model_evidence(self, ctx: ExperimentContext, s: C5Settings) -> list[Evidence]:
        """The same comparison on the named models (transformers hidden states, the backend's
        weight noise): model 1 against model 2 where both are named, else only the noise
        ladder of model 1. Nothing when no model is named or no backend offers hidden states."""
        if not ctx.models:
            return []
        from contextlib import ExitStack

        from homogeny import models

        with ExitStack() as held:
            try:
                backends = [held.enter_context(models.open(m, need="hidden_states")) for m in ctx.models[:2]]
            except Exception as exc:  # noqa: BLE001 - any load failure only skips this level
                ctx.log(f"c5: real-model level skipped ({(str(exc) or type(exc).__name__).splitlines()[0]})")
                return []
            return self._real_model_evidence(ctx, s, backends)

    def _real_model_evidence(self, ctx: ExperimentContext, s: C5Settings, backends: list[Any]) -> list[Evidence]:
        """real_model_evidence on backends held open by the caller."""
        if not all(hasattr(b, m) for b in backends for m in ("hidden_states", "greedy", "perturbed")):
            ctx.log("c5: real-model level skipped (backend lacks hidden_states/greedy/perturbed)")
            return []
        prompts = counting_prompts(s.real_prompts, ctx.seed)
        first = backends[0]
        out_a, st_a = _real_greedy(first, prompts), _real_states(first, prompts)
        ladder = []
        for i, scale in enumerate(s.real_noise_scales):
            with first.perturbed(scale, seed=ctx.seed + 100 + i):
                ladder.append((scale, _real_greedy(first, prompts), _real_states(first, prompts)))
        second = backends[-1]
        out_b, st_b = (out_a, st_a) if second is first else (_real_greedy(second, prompts), _real_states(second, prompts))
        result = matched_agreement_comparison(out_a, st_a, out_b, st_b, ladder, ctx.seed)
        ctx.artifact(CLAIM, "real_output_vs_representation", _ladder_plot(result, ctx.models[0]))
        return [] if second is first else _comparison_evidence(ctx, result, "real", models=tuple(ctx.models[:2]))


# ---- the output-identical comparison shared by levels 2 and 3 ------------------------------


def matched_agreement_comparison(
    out_a: list[str], st_a: list[np.ndarray], out_b: list[str], st_b: list[np.ndarray],
    ladder: list[tuple[float, list[str], list[np.ndarray]]], seed: int = 0,
) -> dict[str, Any]:
    """Compare model B with a noised copy C of model A whose greedy outputs agree with A's at
    most as often as B's do (the smallest noise that gets there; conservative, since more
    noise moves C's internals further). On prompts where A, B and C all give A's output,
    returns the mean over layers of debiased linear CKA and mutual k-NN (Huh et al. 2024) of
    C to A and of B to A, their differences with prompt-jackknife CIs, and the ladder."""
    from homogeny.metrics.representational import linear_cka, mutual_knn_alignment

    agree_ab = float(np.mean([a == b for a, b in zip(out_a, out_b)]))
    agreements = [float(np.mean([a == c for a, c in zip(out_a, out_c)])) for _, out_c, _ in ladder]
    pick = next((i for i, g in enumerate(agreements) if g <= agree_ab), len(ladder) - 1)
    scale, out_c, st_c = ladder[pick]
    same = np.array([i for i, (a, b, c) in enumerate(zip(out_a, out_b, out_c)) if a == b == c])
    pairs, own = _layer_pairs(len(st_a), len(st_b)), [(i, i) for i in range(len(st_a))]
    k = int(min(10, max(1, same.size // 4)))

    def similarity(idx: np.ndarray, other: list[np.ndarray], layers: list[tuple[int, int]], knn: bool) -> float:
        return float(np.mean([mutual_knn_alignment(st_a[i][idx], other[j][idx], k) if knn
                              else linear_cka(st_a[i][idx], other[j][idx]) for i, j in layers]))

    out: dict[str, Any] = {
        "agreement_ab": agree_ab, "noise_scales": [sc for sc, _, _ in ladder], "noise_agreement": agreements,
        "matched_scale": scale, "matched_agreement": agreements[pick], "n_identical": int(same.size),
        "noise_cka": [_safe(_mean_cka, st_a, l_st, out_a, l_out) for _, l_out, l_st in ladder],
    }
    if same.size < 8:
        return out
    for name, knn in (("cka", False), ("knn", True)):
        out[f"{name}_ab"] = similarity(same, st_b, pairs, knn)
        out[f"{name}_copy"] = similarity(same, st_c, own, knn)
        out[f"{name}_diff"] = grouped_jackknife_ci(
            lambda idx, knn=knn: similarity(idx, st_c, own, knn) - similarity(idx, st_b, pairs, knn), same, seed=seed)
    return out


def grouped_jackknife_ci(statistic: Any, items: np.ndarray, groups: int = 20,
                         seed: int = 0) -> tuple[float, float, float]:
    """Normal 95% interval from a delete-a-group jackknife (Efron & Tibshirani 1993, ch. 11)
    of statistic(items). Used for similarities over prompts instead of the bootstrap, whose
    duplicated prompts are each other's nearest neighbours and inflate CKA and k-NN alike.
    Returns (point, low, high)."""
    point = float(statistic(items))
    folds = np.array_split(np.random.default_rng(seed).permutation(items.size), min(groups, items.size))
    values = np.array([statistic(np.delete(items, fold)) for fold in folds])
    g = len(folds)
    se = float(np.sqrt((g - 1) / g * np.sum((values - values.mean()) ** 2)))
    return point, point - 1.96 * se, point + 1.96 * se


def _mean_cka(st_a: list[np.ndarray], st_c: list[np.ndarray], out_a: list[str], out_c: list[str]) -> float:
    from homogeny.metrics.representational import linear_cka

    idx = np.array([i for i, (a, c) in enumerate(zip(out_a, out_c)) if a == c])
    if idx.size < 8:
        return float("nan")
    return float(np.mean([linear_cka(x[idx], y[idx]) for x, y in zip(st_a, st_c)]))


def _safe(fn: Any, *args: Any) -> float | None:
    try:
        value = fn(*args)
    except Exception:  # noqa: BLE001 - a degenerate layer (constant states) leaves a gap in the curve
        return None
    return value if np.isfinite(value) else None


def _layer_pairs(n_a: int, n_b: int) -> list[tuple[int, int]]:
    """Layers of A paired with the layer of B at the same relative depth."""
    return [(i, min(n_b - 1, round((i + 1) * n_b / n_a) - 1)) for i in range(n_a)]


def _comparison_evidence(ctx: ExperimentContext, r: dict[str, Any], level: str,
                         models: tuple[str, ...]) -> list[Evidence]:
    if "cka_diff" not in r:
        ctx.log(f"c5: {level}: only {r['n_identical']} output-identical prompts; no representation evidence")
        return []
    rows = []
    for name, label in (("cka", "debiased linear CKA"), ("knn", "mutual k-NN alignment")):
        point, lo, hi = r[f"{name}_diff"]
        rows.append(make_evidence(
            CLAIM, "At equal output agreement, are independently trained models' internals further apart "
            "than a noised copy's?", f"{level}_{name}_copy_minus_pair",
            f"{label} to model A on output-identical prompts: noised copy of A (outputs agree "
            f"{r['matched_agreement']:.0%}) minus independently trained model B (outputs agree "
            f"{r['agreement_ab']:.0%}); > 0 = same outputs hide different insides",
            point, (lo, hi), n=r["n_identical"], threshold=0.0, predicted="above", models=models, quick=ctx.quick,
            plot={"labels": ["noised copy", "other model"], "values": [r[f"{name}_copy"], r[f"{name}_ab"]]},
        ))
    return rows


def _ladder_plot(r: dict[str, Any], label: str) -> dict[str, Any]:
    keys = ("agreement_ab", "cka_ab", "knn_ab", "cka_copy", "knn_copy", "matched_scale", "n_identical", "accuracy")
    return {"x": r["noise_scales"], "xlabel": "weight noise (x each tensor's std)",
            "series": {"output agreement with clean": r["noise_agreement"], "CKA to clean (same outputs)": r["noise_cka"]},
            "title": f"{label}: outputs and internals under weight noise", "pair": {k: r.get(k) for k in keys}}


# ---- toy GPT helpers --------------------------------------------------------------------------


def prompt_sum(prompt: str) -> int:
    """The true sum of an "a+b=" prompt (parsed, never evaluated as code)."""
    a, b = prompt.rstrip("=").split("+")
    return int(a) + int(b)


def _addition_lm(s: C5Settings, seed: int) -> tuple[Any, Any]:
    from homogeny.toy import arithmetic, gpt

    problems = arithmetic.addition_problems(s.lm_train, seed=1, digits=2)  # the same data for every seed
    texts = [p.prompt + arithmetic.format_addition(p, "direct") for p in problems]
    tok = gpt.CharTokenizer("0123456789+=")
    config = gpt.GPTConfig(vocab_size=tok.vocab_size, block_size=16, init_seed=seed, **gpt.SIZES[s.lm_size])
    model = gpt.GPT(config)
    gpt.train_lm(model, tok, texts, steps=s.lm_steps, batch_size=s.lm_batch, lr=s.lm_lr, seed=seed)
    return model, tok


def _toy_greedy(model: Any, tok: Any, prompts: list[str]) -> list[str]:
    from homogeny.toy import gpt

    return [o[0] for o in gpt.sample(model, tok, prompts, n=1, temperature=0.0, max_new_tokens=6)]


def _toy_states(model: Any, tok: Any, prompts: list[str]) -> list[np.ndarray]:
    """Per block: (n_prompts, d) residual stream at each prompt's last token (the '=')."""
    import torch

    ids = [[1] + tok.encode(p) for p in prompts]  # BOS + prompt
    batch = torch.zeros((len(ids), max(len(i) for i in ids)), dtype=torch.long)
    for r, seq in enumerate(ids):
        batch[r, : len(seq)] = torch.tensor(seq)  # right padding: causal attention never sees it
    last = torch.tensor([len(i) - 1 for i in ids])
    return [h[torch.arange(len(ids)), last].double().numpy() for h in model.hidden_states(batch)[1:]]


def _noised_copy(model: Any, scale: float, seed: int) -> Any:
    """A copy of `model` with Gaussian noise of std scale x (each tensor's std) on every weight,
    as the transformers backend's `perturbed` does."""
    import copy

    import torch

    noisy = copy.deepcopy(model)
    gen = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for p in noisy.parameters():
            if p.numel() > 1:
                p.add_(torch.randn(p.shape, generator=gen) * float(p.std()) * scale)
    return noisy


def _checkpoint_folder(ctx: ExperimentContext) -> Path | None:
    """A folder beside a file store for trained checkpoints (none for an in-memory store or
    when options["checkpoints"] is False)."""
    path = getattr(ctx.store, "path", ":memory:")
    if path == ":memory:" or ctx.options.get("checkpoints") is False:
        return None
    folder = Path(path).resolve().parent / f"{Path(path).stem}_checkpoints" / CLAIM
    folder.mkdir(parents=True, exist_ok=True)
    return folder


def counting_prompts(n: int, seed: int) -> list[str]:
    """Number sequences to continue ("57, 58, 59, 60," or "12, 14, 16, 18,"): a task the small
    embedded models all get right, so their outputs are identical on most prompts and the
    comparison of internals has output-identical prompts to stand on (their sums of two
    numbers agree on under 20% of prompts, too few)."""
    rng = np.random.default_rng(seed)
    starts, steps = rng.integers(1, 90, size=n), [1 + i % 2 for i in range(n)]
    return [", ".join(str(a + j * d) for j in range(4)) + "," for a, d in zip(starts, steps)]


def _real_greedy(backend: Any, prompts: list[str]) -> list[str]:
    """The first word of each greedy continuation, trailing punctuation dropped: for counting
    prompts that is the next number, so two models' answers compare without their formatting."""
    words = [o.split() for o in backend.greedy(prompts, max_new_tokens=4)]
    return [w[0].rstrip(".,;:!") if w else "" for w in words]


def _real_states(backend: Any, prompts: list[str]) -> list[np.ndarray]:
    """Per layer (embeddings excluded): (n_prompts, d) hidden state at each prompt's last token."""
    per_text = backend.hidden_states(prompts)
    return [np.stack([h[layer, -1] for h in per_text]).astype(np.float64) for layer in range(1, per_text[0].shape[0])]
