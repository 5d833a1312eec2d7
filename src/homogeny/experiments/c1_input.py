"""C1: input flattening (after Lu et al. 2026, "Adam's Law: Textual Frequency Law on Large
Language Models", arXiv 2604.02176).

Four measurements on the paraphrase families (6 phrasings of one request, rare to common):
(a) comprehension: are paraphrases closer in the model's hidden states than on the surface?
(b) outputs: are outputs across the paraphrases of one request closer than outputs across
    distinct requests, and closer than the paraphrases themselves are?
(c) rewriting: when simulated users rewrite their own phrasing toward frequent words (a
    synonym table, or a model asked for plain common words), does output diversity drop?
(d) the paper's test: is the high-frequency variant of an aligned pair easier (lower token
    NLL; higher accuracy on checkable questions)?
Outputs are greedy (temperature 0), so every difference between them comes from the input.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from functools import cache
from itertools import zip_longest
from typing import Any

import numpy as np

from homogeny.experiments.base import Evidence, ExperimentContext, make_evidence
from homogeny.suites.prompt import Prompt

CLAIM = "c1"
QUICK_FAMILIES = 4  # of the suite's quick set: two checkable, two open
QUICK_PAIRS_FROM_FILE = 24
QUICK_PAIRS_FROM_SUITE = 12  # of the suite's checkable families, for the NLL test in quick runs
MAX_TOKENS = {True: 16, False: 32}  # greedy output length, quick / full
REWRITE_MAX_TOKENS = 32  # a rewritten request is one short line
FULL_REWRITE_FAMILIES = 14  # (c) regenerates every phrasing twice; 22 took ~6.6 of the full audit's 90 min
# Zero-shot: with a worked example the small models copy the example instead of rewriting.
REWRITE_INSTRUCTION = (
    "Rewrite the following request using plain, everyday words. "
    "Output only the rewritten request; do not answer it."
)


# ---- similarity on hand-made texts and vectors ---------------------------------------------------
def rouge_l_matrix(texts: Sequence[str]) -> np.ndarray:
    """Pairwise ROUGE-L F1 (Lin 2004; rouge_score tokenisation) as an n x n matrix, the LCS
    done by rapidfuzz in C++; 1 on the diagonal of non-empty texts, 0 for an empty text."""
    from rapidfuzz import process
    from rapidfuzz.distance import LCSseq

    from homogeny.metrics.lexical import rouge_tokens

    vocab: dict[str, int] = {}
    seqs = [[vocab.setdefault(t, len(vocab)) for t in rouge_tokens(x)] for x in texts]
    lengths = np.array([len(s) for s in seqs], dtype=np.float64)
    lcs = process.cdist(seqs, seqs, scorer=LCSseq.similarity, dtype=np.int32).astype(np.float64)
    with np.errstate(divide="ignore", invalid="ignore"):
        f1 = 2 * lcs / (lengths[:, None] + lengths[None, :])
    return np.nan_to_num(f1, nan=0.0)


def cosine_matrix(vectors: np.ndarray) -> np.ndarray:
    """Pairwise cosine similarity of rows."""
    from homogeny.metrics import pairwise_similarity

    return pairwise_similarity(np.asarray(vectors, dtype=np.float64))


def _within_between(sim: np.ndarray, labels: Sequence[str]) -> tuple[np.ndarray, np.ndarray]:
    """Per group: mean similarity of its members' pairs (i != j) and to every other member."""
    lab = np.asarray(labels)
    groups = list(dict.fromkeys(labels))
    within, between = [], []
    for g in groups:
        inside = lab == g
        block = sim[np.ix_(inside, inside)]
        k = int(inside.sum())
        within.append((block.sum() - np.trace(block)) / (k * (k - 1)))
        between.append(sim[np.ix_(inside, ~inside)].mean())
    return np.array(within), np.array(between)


def within_minus_between(sim: np.ndarray, labels: Sequence[str]) -> np.ndarray:
    """Per group (family): mean within-group similarity minus mean similarity to the other
    groups. Positive: members of one request resemble each other more than other requests."""
    within, between = _within_between(sim, labels)
    return within - between


def closeness(sim: np.ndarray, labels: Sequence[str]) -> np.ndarray:
    """Per group: chance-corrected closeness of its members, (within - between) / (1 - between),
    like Cohen's kappa: 0 = no closer than unrelated texts, 1 = identical. Comparable across
    similarity spaces with different baselines (hidden states are anisotropic: unrelated texts
    already have cosine ~0.9; ROUGE-L of unrelated prompts is ~0.05)."""
    within, between = _within_between(sim, labels)
    return (within - between) / np.maximum(1.0 - between, 1e-12)


def cross_user_diversity(vectors: np.ndarray) -> float:
    """Diversity of several users' outputs for one request: 1 - mean pairwise cosine."""
    from homogeny.metrics import mean_pairwise_similarity

    return 1.0 - mean_pairwise_similarity(np.asarray(vectors, dtype=np.float64))


# ---- checkable answers, tests -------------------------------------------------------------------
def is_correct(output: str, answer: str, aliases: Sequence[str] = ()) -> bool:
    """True when the answer or an alias appears in the output as a whole word (case-insensitive)."""
    for option in (answer, *aliases):
        if option and re.search(rf"(?<![\w.]){re.escape(option.lower())}(?![\w]|\.\d)", output.lower()):
            return True
    return False


def sign_test(differences: Sequence[float] | np.ndarray) -> dict[str, float]:
    """Two-sided exact sign test of the median difference (zeros dropped), scipy binomtest."""
    from scipy.stats import binomtest

    d = np.asarray(differences, dtype=np.float64)
    positive, nonzero = int((d > 0).sum()), int((d != 0).sum())
    p = binomtest(positive, nonzero, 0.5).pvalue if nonzero else 1.0
    return {"positive": positive, "nonzero": nonzero, "p": float(p)}


def mcnemar_exact(low_ok: Sequence[bool] | np.ndarray, high_ok: Sequence[bool] | np.ndarray) -> dict[str, float]:
    """McNemar's exact test on paired correctness: b = only the low-frequency variant right,
    c = only the high-frequency one right; p from a two-sided binomial test on b of b + c."""
    from scipy.stats import binomtest

    lo, hi = np.asarray(low_ok, dtype=bool), np.asarray(high_ok, dtype=bool)
    b, c = int((lo & ~hi).sum()), int((~lo & hi).sum())
    p = binomtest(b, b + c, 0.5).pvalue if b + c else 1.0
    return {"only_low_right": b, "only_high_right": c, "p": float(p)}


def frequency_pair(phrasings: Sequence[Prompt]) -> tuple[Prompt, Prompt] | None:
    """The lowest- and highest-frequency phrasing of one request (sentence_frequency of Lu et
    al. 2026); None when they tie."""
    from homogeny.suites.frequency import log_frequency

    ranked = sorted(phrasings, key=lambda p: log_frequency(p.text))
    low, high = ranked[0], ranked[-1]
    return None if log_frequency(low.text) == log_frequency(high.text) else (low, high)


def clean_rewrite(output: str, original: str) -> str:
    """The rewritten request in a rewriter's reply: its first non-empty line that is not a
    preamble ending in ":", without a "Rewritten request:" label or quotes; the original when
    nothing usable is left."""
    lines = [s.strip() for s in output.splitlines() if s.strip() and not s.strip().endswith(":")]
    line = lines[0] if lines else ""
    label, sep, rest = line.partition(":")
    if sep and len(label) < 40 and re.search(r"rewr|request|plain|version", label, re.IGNORECASE) and rest.strip():
        line = rest.strip()
    line = line.strip("\"'“”*` ").strip()
    return line if 0 < len(line) <= 4 * len(original) + 40 else original


def mean_token_nll(backend: Any, text: str) -> float:
    """Mean negative log-likelihood (nats) per token of `text` under the model, teacher-forced
    (the first token is only context), from exact logits (`Backend.score`)."""
    return -float(np.mean(backend.score("", text).logprobs))


# ---- the experiment -----------------------------------------------------------------------------
def balanced_families(families: dict[str, list[Prompt]], count: int) -> list[str]:
    """Up to `count` family names taken in turn from each kind (checkable, open), suite order."""
    by_kind: dict[str, list[str]] = {}
    for name, group in families.items():
        by_kind.setdefault(group[0].meta["kind"], []).append(name)
    turns = [n for layer in zip_longest(*by_kind.values()) for n in layer if n is not None]
    return turns[:count]


@cache
def _info(spec: str) -> Any:
    from homogeny.models import model_info

    return model_info(spec)


def _boot(values: np.ndarray, seed: int) -> tuple[float, tuple[float, float]]:
    from homogeny.metrics import bootstrap_ci

    r = bootstrap_ci(np.mean, np.asarray(values, dtype=np.float64), seed=seed)
    return r.point, (r.low, r.high)


def _short(spec: str) -> str:
    return spec.split(":", 1)[-1].rsplit("/", 1)[-1]


class InputFlattening:
    """C1: are distinct phrasings flattened on the way in? (see module doc)."""

    claim = CLAIM
    title = "Input flattening (Adam's Law)"
    question = "Do models flatten distinct phrasings of a request toward the same comprehension and output?"

    def run(self, ctx: ExperimentContext) -> list[Evidence]:
        from homogeny.suites.catalog import paraphrase_families

        families = paraphrase_families(quick=ctx.quick)
        if ctx.quick:
            families = {n: families[n] for n in balanced_families(families, QUICK_FAMILIES)}
        prompts = [p for group in families.values() for p in group]
        labels = [p.meta["family"] for p in prompts]
        ctx.log(f"c1: {len(families)} paraphrase families x 6 phrasings, models {', '.join(map(_short, ctx.models))}")
        evidence = self.comprehension(ctx, prompts, labels)
        outputs = self.outputs(ctx, prompts)
        evidence += self.output_rows(ctx, prompts, labels, outputs)
        evidence += self.rewriting(ctx, families, outputs)
        evidence += self.frequency_law(ctx, families, outputs)
        self._examples(ctx, families, outputs)
        return evidence

    # (a) ------------------------------------------------------------------------------------
    def comprehension(self, ctx: ExperimentContext, prompts: list[Prompt], labels: list[str]) -> list[Evidence]:
        """Hidden-state closeness of paraphrases minus their surface (ROUGE-L) closeness."""
        from homogeny import models

        texts = [p.text for p in prompts]
        surface = closeness(rouge_l_matrix(texts), labels)
        specs = [m for m in ctx.models if _info(m).backend in ("llamacpp", "hf")]
        if ctx.quick and specs:
            specs = [min(specs, key=lambda m: _info(m).params or 1e18)]
        rows: list[Evidence] = []
        plot: dict[str, list[Any]] = {"labels": [], "values": [], "low": [], "high": []}
        for spec in specs:
            ctx.log(f"c1(a): hidden states of {_short(spec)}")
            with models.open(spec, need="hidden_states") as backend:
                states = backend.hidden_states(texts)
            n_layers = states[0].shape[0]
            for layer_name, layer in (("middle", n_layers // 2), ("last", n_layers - 1)):
                # position 0 is an attention sink with outsized norm; pool the tokens after it
                pooled = np.stack([h[layer][1:].mean(axis=0) if h.shape[1] > 1 else h[layer][0] for h in states])
                per_family = closeness(cosine_matrix(pooled), labels) - surface
                point, ci = _boot(per_family, ctx.seed)
                label = f"{_short(spec)} {layer_name}"
                for key, val in zip(("labels", "values", "low", "high"), (label, point, *ci)):
                    plot[key].append(val)
                rows.append(make_evidence(
                    CLAIM, f"Are paraphrases closer inside {_short(spec)} (layer {layer} of {n_layers - 1}, mean-pooled) than on the surface (ROUGE-L)?",
                    f"hidden - surface closeness {label}",
                    "positive = paraphrases are closer (chance-corrected, vs distinct requests) in hidden states than in wording",
                    point, ci, len(per_family), models=[_info(spec).model_id], quick=ctx.quick,
                ))
        if plot["labels"]:
            ctx.artifact(CLAIM, "comprehension_flattening", plot)
        return rows

    # (b) ------------------------------------------------------------------------------------
    def generate(self, ctx: ExperimentContext, spec: str, prompts: list[Prompt], max_tokens: int | None = None) -> dict[str, str]:
        """Greedy outputs of `spec` for `prompts` (cached by the engine), by prompt id."""
        rows = ctx.sample(spec, prompts, 1, temperature=0.0, max_tokens=max_tokens or MAX_TOKENS[ctx.quick])
        return {pid: (r[0]["text"] if r else "") for pid, r in rows.items()}

    def outputs(self, ctx: ExperimentContext, prompts: list[Prompt]) -> dict[str, dict[str, str]]:
        return {spec: self.generate(ctx, spec, prompts) for spec in ctx.models}

    def output_rows(self, ctx: ExperimentContext, prompts: list[Prompt], labels: list[str], outputs: dict[str, dict[str, str]]) -> list[Evidence]:
        """Outputs within a request vs across requests, and output vs prompt closeness."""
        prompt_close = closeness(rouge_l_matrix([p.text for p in prompts]), labels)
        gaps, flat, per_model = [], [], {}
        for spec, out in outputs.items():
            texts = [out[p.id] for p in prompts]
            gap = within_minus_between(cosine_matrix(ctx.embed(texts)), labels)
            out_close = closeness(rouge_l_matrix(texts), labels)
            gaps.append(gap)
            flat.append(out_close - prompt_close)
            per_model[_short(spec)] = {"within_minus_between": float(gap.mean()), "output_closeness": float(out_close.mean())}
        models = [_info(m).model_id for m in outputs]
        gap_point, gap_ci = _boot(np.mean(gaps, axis=0), ctx.seed)
        flat_point, flat_ci = _boot(np.mean(flat, axis=0), ctx.seed)
        plot = {"labels": list(per_model), "values": [v["within_minus_between"] for v in per_model.values()]}
        ctx.artifact(CLAIM, "output_closeness", {"per_model": per_model, "prompt_closeness": float(prompt_close.mean())})
        return [
            make_evidence(
                CLAIM, "Are outputs across paraphrases of one request more alike than outputs across distinct requests (MiniLM cosine, greedy)?",
                "outputs within - between request",
                "positive = the request, not its wording, decides the output", gap_point, gap_ci,
                len(gaps[0]), plot=plot, models=models, quick=ctx.quick,
            ),
            make_evidence(
                CLAIM, "Are outputs across paraphrases closer than the paraphrases themselves (chance-corrected ROUGE-L)?",
                "output - prompt closeness",
                "positive = outputs flatten the users' distinct wording (output closeness above prompt closeness)",
                flat_point, flat_ci, len(flat[0]), models=models, quick=ctx.quick,
            ),
        ]

    # (c) ------------------------------------------------------------------------------------
    def rewriting(self, ctx: ExperimentContext, families: dict[str, list[Prompt]], outputs: dict[str, dict[str, str]]) -> list[Evidence]:
        """Simulated users (one per phrasing) rewrite toward frequent wording; diversity lost."""
        from homogeny.suites.frequency import log_frequency, rewrite_to_frequent

        names = balanced_families(families, FULL_REWRITE_FAMILIES)
        users = [p for n in names for p in families[n]]
        rewritten = {
            "synonym table": [Prompt(f"{p.id}/rule", rewrite_to_frequent(p.text), meta=p.meta) for p in users],
            "model rewriter": self.model_rewrites(ctx, users),
        }
        evidence: list[Evidence] = []
        plot: dict[str, list[Any]] = {"labels": [], "values": [], "low": [], "high": []}
        models = [_info(m).model_id for m in ctx.models]
        for name, new in rewritten.items():
            after = {spec: self.generate(ctx, spec, new) for spec in ctx.models}
            lost = []
            for n in names:
                idx = [i for i, p in enumerate(users) if p.meta["family"] == n]
                per_model = [
                    cross_user_diversity(ctx.embed([outputs[s][users[i].id] for i in idx]))
                    - cross_user_diversity(ctx.embed([after[s][new[i].id] for i in idx]))
                    for s in ctx.models
                ]
                lost.append(float(np.mean(per_model)))
            # a rewrite without a content word ("7 + 5 = 12") has no textual frequency
            gain = np.array([log_frequency(b.text) - log_frequency(a.text) for a, b in zip(users, new)])
            gain = gain[np.isfinite(gain)]
            point, ci = _boot(np.array(lost), ctx.seed)
            for key, val in zip(("labels", "values", "low", "high"), (name, point, *ci)):
                plot[key].append(val)
            evidence.append(make_evidence(
                CLAIM, f"Does rewriting users' requests toward frequent words ({name}) cut output diversity across users? "
                f"(mean log-frequency gain {(gain.mean() if gain.size else 0.0):+.2f}, {np.mean([a.text != b.text for a, b in zip(users, new)]):.0%} of requests changed)",
                f"diversity lost, {name}",
                "positive = outputs for the rewritten requests are more alike across users (1 - mean cosine) than before",
                point, ci, len(lost), models=models, quick=ctx.quick,
            ))
            if name == "model rewriter" and len(gain) >= 2:
                g_point, g_ci = _boot(gain, ctx.seed)
                evidence.append(make_evidence(
                    CLAIM, "Does a model asked for plain common words move requests toward higher textual frequency? "
                    f"({len(users) - len(gain)} rewrites without a content word left out)",
                    "frequency gain, model rewriter",
                    "positive = rewritten requests score a higher mean log word frequency (Lu et al. 2026)",
                    g_point, g_ci, len(gain), models=[_info(self.rewriter(ctx)).model_id], quick=ctx.quick,
                ))
        ctx.artifact(CLAIM, "rewriting_diversity_lost", plot)
        ctx.artifact(CLAIM, "rewrites", [{"original": u.text, **{k: v[i].text for k, v in rewritten.items()}} for i, u in enumerate(users)])
        return evidence

    def rewriter(self, ctx: ExperimentContext) -> str:
        """The rewriting model: the largest instruct model of ctx.models (the largest model
        when none is instruct); the smaller ones answer the request instead of rewriting it."""
        ranked = sorted(ctx.models, key=lambda m: (_info(m).params, m))
        instruct = [m for m in ranked if _info(m).kind != "base"] or ranked
        return instruct[-1]

    def model_rewrites(self, ctx: ExperimentContext, users: list[Prompt]) -> list[Prompt]:
        asks = [Prompt(f"{p.id}/ask-rewrite", f"{REWRITE_INSTRUCTION}\n\nRequest: {p.text}") for p in users]
        replies = self.generate(ctx, self.rewriter(ctx), asks, REWRITE_MAX_TOKENS)
        return [Prompt(f"{p.id}/model", clean_rewrite(replies[a.id], p.text), meta=p.meta) for p, a in zip(users, asks)]

    # (d) ------------------------------------------------------------------------------------
    def frequency_law(self, ctx: ExperimentContext, families: dict[str, list[Prompt]], outputs: dict[str, dict[str, str]]) -> list[Evidence]:
        """The paper's own test on aligned low/high-frequency pairs: NLL and accuracy."""
        from homogeny.suites.catalog import paraphrase_families

        pairs_opt = ctx.options.get("pairs")
        if pairs_opt:
            from homogeny.suites.files import read_pairs

            text_pairs = read_pairs(*pairs_opt)
            if ctx.quick:
                text_pairs = text_pairs[:QUICK_PAIRS_FROM_FILE]
            source = f"{len(text_pairs)} pairs from {pairs_opt[0]}"
        else:
            all_pairs = [frequency_pair(g) for g in paraphrase_families(quick=False).values() if g[0].meta["kind"] == "checkable"]
            text_pairs = [(lo.text, hi.text) for lo, hi in filter(None, all_pairs)]
            if ctx.quick:
                text_pairs = text_pairs[:QUICK_PAIRS_FROM_SUITE]
            source = f"{len(text_pairs)} checkable paraphrase families (rarest vs most common phrasing)"
        evidence = self.nll_rows(ctx, text_pairs, source)
        found = [frequency_pair(g) for g in families.values() if g[0].meta["kind"] == "checkable"]
        checkable = [p for p in found if p is not None]
        if len(checkable) >= 2:
            evidence += self.accuracy_rows(ctx, checkable, outputs)
        return evidence

    def nll_rows(self, ctx: ExperimentContext, pairs: list[tuple[str, str]], source: str) -> list[Evidence]:
        from homogeny import models

        rows: list[Evidence] = []
        plot: dict[str, list[Any]] = {"labels": [], "values": [], "low": [], "high": []}
        for spec in ctx.models:
            if _info(spec).backend != "llamacpp":
                ctx.log(f"c1(d): {_short(spec)} gives no exact logits here; NLL skipped")
                continue
            with models.open(spec, need="score") as backend:
                diffs = np.array([mean_token_nll(backend, lo) - mean_token_nll(backend, hi) for lo, hi in pairs])
            test = sign_test(diffs)
            point, ci = _boot(diffs, ctx.seed)
            for key, val in zip(("labels", "values", "low", "high"), (_short(spec), point, *ci)):
                plot[key].append(val)
            rows.append(make_evidence(
                CLAIM, f"Is the high-frequency variant easier for {_short(spec)} (lower mean token NLL)? {source}; "
                f"sign test {test['positive']}/{test['nonzero']} pairs, p={test['p']:.3g}",
                f"NLL(low) - NLL(high) {_short(spec)}",
                "positive = the low-frequency wording costs more nats per token than the high-frequency wording",
                point, ci, len(diffs), plot={"sign_test": test}, models=[_info(spec).model_id], quick=ctx.quick,
            ))
        if plot["labels"]:
            ctx.artifact(CLAIM, "nll_low_minus_high", plot)
        return rows

    def accuracy_rows(self, ctx: ExperimentContext, pairs: list[tuple[Prompt, Prompt]], outputs: dict[str, dict[str, str]]) -> list[Evidence]:
        from homogeny.metrics import paired_difference_ci

        rows = []
        def ok(out: dict[str, str], p: Prompt) -> bool:
            return is_correct(out[p.id], str(p.meta.get("answer", "")), p.meta.get("answer_aliases", ()))

        for spec, out in outputs.items():
            low_ok = np.array([ok(out, lo) for lo, _ in pairs], dtype=float)
            high_ok = np.array([ok(out, hi) for _, hi in pairs], dtype=float)
            ci = paired_difference_ci(high_ok, low_ok, seed=ctx.seed)
            test = mcnemar_exact(low_ok.astype(bool), high_ok.astype(bool))
            rows.append(make_evidence(
                CLAIM, f"Is {_short(spec)} more accurate on the high-frequency phrasing of checkable questions? "
                f"(accuracy {low_ok.mean():.0%} low vs {high_ok.mean():.0%} high; McNemar exact p={test['p']:.3g})",
                f"accuracy(high) - accuracy(low) {_short(spec)}",
                "positive = the common wording is answered correctly more often (greedy output contains the answer)",
                ci.point, (ci.low, ci.high), len(pairs), plot={"mcnemar": test},
                models=[_info(spec).model_id], quick=ctx.quick,
            ))
        return rows

    def _examples(self, ctx: ExperimentContext, families: dict[str, list[Prompt]], outputs: dict[str, dict[str, str]]) -> None:
        examples = []
        for group in list(families.values())[:2]:
            for p in (group[0], group[-1]):
                examples.append({"prompt": p.text, "outputs": {_info(s).model_id: [outputs[s][p.id]] for s in outputs}})
        ctx.artifact(CLAIM, "examples", examples)
