"""C6: temperature 0 gives consistency, not reliability (after Schroeder & Wood-Doughty 2024,
"Can You Trust LLM Judgments? Reliability of LLM-as-a-Judge", arXiv 2412.12509).

Their protocol: a judge picks the best of five candidate answers ("Best Response: [[X]]"),
100 replications per question at temperatures 1, 0.75, 0.5, 0.25 and ~0, and McDonald's
omega and Cronbach's alpha over the replications x questions matrix (a question whose 100
verdicts agree counts as fully reliable). Here the judge is the largest installed model; its
verdict-letter distribution is read once per question (the prompt ends with "Best Response:
[[", so the next token is the letter) and the 100 replications are drawn from that
distribution tempered at each temperature with a seeded numpy RNG. tests/test_c6.py checks
that this gives the same verdict distribution as sampling through the engine.
"""

from __future__ import annotations

import hashlib
import json
import math
import zipfile
import zlib
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from homogeny.experiments.base import Evidence, ExperimentContext, make_evidence
from homogeny.suites.prompt import Prompt

CLAIM = "c6"
REPLICATIONS = 100
# The paper's "temperature 0" is machine epsilon (its tables print 2.220446049250313e-16).
T_ZERO = float(np.finfo(float).eps)
TEMPERATURES = (1.0, 0.75, 0.5, 0.25, T_ZERO)
LETTERS = ("A", "B", "C", "D", "E")
NO_VERDICT_CODE = 6  # the paper's code for an output without a verdict (A-E are 1-5)
CACHE_ARTIFACT = "judge_distribution_cache"
CACHE_VERSION = "1"
PAPER_TOLERANCE = 1e-4  # the tables print 16 digits; agreement to 4 decimals is a reproduction


# ---- reading the judge's verdict distribution ------------------------------------------------
def verdict_prefix() -> str:
    from homogeny.suites.catalog import JUDGE_VERDICT_PREFIX

    return JUDGE_VERDICT_PREFIX


def raw_judge_prompt(item: Prompt) -> Prompt:
    """The judging prompt as raw text ending in "Best Response: [[" (for base models, and for
    checking the drawn verdicts against engine sampling, which renders exactly this text)."""
    return Prompt(id=item.id, text=f"{item.display}\n{verdict_prefix()}", meta=item.meta)


def judge_logprobs(backend: Any, item: Prompt, chat: bool) -> np.ndarray:
    """The judge's next-token log distribution after the judging prompt (chat template when
    `chat`) followed by "Best Response: [[", so the next token is the verdict letter."""
    if not chat:
        return backend.score(raw_judge_prompt(item), "", next_token=True).next_logprobs
    return backend.score(item, verdict_prefix(), chat=True, next_token=True).next_logprobs


def letter_token_ids(backend: Any) -> list[list[int]]:
    """Per letter A-E, the single tokens that start a "[[X]]" verdict right after "[[": the
    letter alone and, where the vocabulary merges them, "X]" or "X]]"."""
    tok = backend.tokenize
    prefix = verdict_prefix()
    base = tok(prefix)
    ids: list[list[int]] = []
    for letter in LETTERS:
        found: list[int] = []
        for tail in (letter, letter + "]", letter + "]]"):
            full = tok(prefix + tail)
            if full[: len(base)] == base and len(full) > len(base) and full[len(base)] not in found:
                first = full[len(base)]
                piece = backend.detokenize([first]).strip()
                if piece.startswith(letter) and set(piece[1:]) <= {"]"}:
                    found.append(first)
        if not found:
            from homogeny.errors import ModelFileError

            raise ModelFileError(f"{backend.info.model_id}: no single token for verdict letter {letter}; use another judge")
        ids.append(found)
    return ids


def tempered_class_probs(logits: np.ndarray, letter_ids: Sequence[Sequence[int]], temperature: float) -> np.ndarray:
    """Probabilities of verdicts A-E and "no verdict" (last) when the next token is sampled
    from softmax(logits / temperature) over the whole vocabulary, as the engine samples
    (top-p 1, min-p 0, no top-k). temperature ~0 puts all mass on the argmax token."""
    z = (np.asarray(logits, dtype=np.float64) - float(np.max(logits))) / temperature
    w = np.exp(z)
    w /= w.sum()
    letters = np.array([w[list(ids)].sum() for ids in letter_ids])
    other = max(0.0, 1.0 - float(letters.sum()))
    probs = np.append(letters, other)
    return probs / probs.sum()


def _cache_key(model_sha: str, item: Prompt, chat: bool) -> str:
    payload = json.dumps([CACHE_VERSION, model_sha, item.hash, chat, verdict_prefix()])
    return hashlib.sha256(payload.encode()).hexdigest()[:24]


def judge_distributions(ctx: ExperimentContext, judge: str, items: Sequence[Prompt], chat: bool) -> tuple[dict[str, dict[float, np.ndarray]], int]:
    """Per item, the judge's verdict distribution (A-E, none) at every protocol temperature.

    Read once per question from the model and cached in the store (artifact
    judge_distribution_cache), so a rerun loads no model. Returns (distributions, how many
    were computed now)."""
    from homogeny.models import model_info

    info = model_info(judge)
    cache: dict[str, Any] = ctx.store.artifact(CLAIM, CACHE_ARTIFACT) or {}
    keys = {it.id: _cache_key(info.sha256, it, chat) for it in items}
    missing = [it for it in items if keys[it.id] not in cache]
    if missing:
        from homogeny import models

        with models.open(judge, need="score") as backend:
            letter_ids = letter_token_ids(backend)
            for it in missing:
                logits = judge_logprobs(backend, it, chat)
                cache[keys[it.id]] = {
                    repr(t): tempered_class_probs(logits, letter_ids, t).tolist() for t in TEMPERATURES
                }
                ctx.log(f"c6: read verdict distribution of {it.id} from {info.model_id}")
        ctx.artifact(CLAIM, CACHE_ARTIFACT, cache)
    out = {it.id: {t: np.asarray(cache[keys[it.id]][repr(t)]) for t in TEMPERATURES} for it in items}
    return out, len(missing)


# ---- the protocol on a verdict distribution ---------------------------------------------------
def draw_verdicts(probs: np.ndarray, replications: int, seed: int, temperature_index: int, item_ids: Sequence[str]) -> np.ndarray:
    """Replications x questions matrix of verdict codes (A-E = 1-5, none = 6), each column
    drawn from that question's verdict distribution with its own seeded numpy RNG."""
    cols = []
    for q, item_id in enumerate(item_ids):
        rng = np.random.default_rng([seed, temperature_index, zlib.crc32(item_id.encode())])
        cols.append(rng.choice(len(probs[q]), size=replications, p=probs[q]) + 1)
    return np.column_stack(cols)


def fully_consistent(verdicts: np.ndarray) -> np.ndarray:
    """Per question (column): 1.0 when every replication gave the same verdict, else 0.0."""
    return np.all(verdicts == verdicts[:1], axis=0).astype(float)


def modal_correct(verdicts: np.ndarray, correct_codes: np.ndarray) -> np.ndarray:
    """Per question: 1.0 when the most frequent verdict (ties: the lowest code) is right."""
    modes = np.array([np.bincount(col, minlength=NO_VERDICT_CODE + 1).argmax() for col in verdicts.T])
    return (modes == correct_codes).astype(float)


def share_and_rank(p_zero: np.ndarray, p_one: np.ndarray) -> tuple[float, int]:
    """Where the temperature-~0 verdict falls in the temperature-1 distribution: its
    probability there and its rank (1 = most likely) among the six outcomes."""
    pick = int(np.argmax(p_zero))
    rank = 1 + int(np.sum(p_one > p_one[pick]))
    return float(p_one[pick]), rank


def reliability_by_temperature(dists: dict[str, dict[float, np.ndarray]], item_ids: Sequence[str], correct_codes: np.ndarray, seed: int, replications: int = REPLICATIONS) -> list[dict[str, Any]]:
    """The paper's table for one judge: per temperature omega, alpha (homogeny.metrics
    judge_reliability), share of fully consistent questions and modal-pick correctness."""
    from homogeny.metrics import judge_reliability

    rows = []
    for ti, t in enumerate(TEMPERATURES):
        probs = np.array([dists[i][t] for i in item_ids])
        verdicts = draw_verdicts(probs, replications, seed, ti, item_ids)
        rel = judge_reliability(verdicts)
        rows.append({
            "temperature": t, "omega": _finite(rel.omega), "alpha": _finite(rel.alpha),
            "n_constant": rel.n_constant, "consistent": fully_consistent(verdicts),
            "modal_correct": modal_correct(verdicts, correct_codes),
            "draw_accuracy": float(np.mean(verdicts == correct_codes[None, :])),
        })
    return rows


def _finite(x: float) -> float | None:
    return float(x) if math.isfinite(x) else None


def _fmt(x: float | None) -> str:
    return "n/a" if x is None else f"{x:.2f}"


def random_judge_floor(n_questions: int, seed: int, replications: int = REPLICATIONS) -> dict[str, float | None]:
    """Omega and alpha of a judge that picks A-E uniformly at random on every replication.
    The paper's procedure correlates absolute values, so noise does not score 0: this is the
    floor to read the judge's own values against."""
    from homogeny.metrics import judge_reliability

    rng = np.random.default_rng([seed, 7919])
    rel = judge_reliability(rng.integers(1, 6, size=(replications, n_questions)).astype(float))
    return {"omega": _finite(rel.omega), "alpha": _finite(rel.alpha)}


# ---- the paper's own tables ---------------------------------------------------------------------
def paper_data_dir(ctx: ExperimentContext) -> Path | None:
    """The folder holding the paper's released judgments (full_judgments.zip and its
    judge_reliab_* tables): option reliability_data, else ../shared/data/llm-reliability
    beside a source checkout. None when absent."""
    given = ctx.options.get("reliability_data")
    candidates = [Path(given)] if given else [Path(__file__).resolve().parents[4] / "shared" / "data" / "llm-reliability"]
    return next((p for p in candidates if (p / "full_judgments.zip").exists()), None)


def paper_table(path: Path) -> dict[str, float]:
    """One judge_reliab_* table: temperature -> the paper's value for all benchmarks ("Full")."""
    lines = path.read_text(encoding="utf-8").splitlines()[2:]
    return {line.split(",")[0].split(":")[1].strip(): float(line.split(",")[4]) for line in lines if line.strip()}


def paper_check(folder: Path, max_judges: int | None = None) -> list[dict[str, Any]]:
    """Recompute the paper's omega and alpha ("Full" column) from its released judgments with
    homogeny's judge_reliability; one row per judge, temperature and statistic."""
    from homogeny.metrics import judge_reliability
    from homogeny.metrics.reliability import parse_verdict

    rows = []
    with zipfile.ZipFile(folder / "full_judgments.zip") as zf:
        names = sorted(n for n in zf.namelist() if n.startswith("full_judgements_") and n.endswith(".json"))
        for name in names[:max_judges]:
            data = json.loads(zf.read(name))
            for judge, by_temp in data.items():
                stem = judge.replace("/", "_")
                tables = {s: paper_table(folder / f"judge_reliab_{stem}_{s}.txt") for s in ("omega", "alpha")
                          if (folder / f"judge_reliab_{stem}_{s}.txt").exists()}
                for temp_key, questions in by_temp.items():
                    temp = temp_key.split(":")[1].strip()
                    coded = {q: [parse_verdict(v) for v in verdicts] for q, verdicts in questions.items()}
                    rel = judge_reliability(coded)
                    for stat, table in tables.items():
                        if temp in table:
                            ours = rel.omega if stat == "omega" else rel.alpha
                            rows.append({"judge": judge, "temperature": float(temp), "statistic": stat,
                                         "paper": table[temp], "homogeny": float(ours)})
    return rows


# ---- the experiment ---------------------------------------------------------------------------
def pick_judge(models: Sequence[str]) -> str:
    """The judge: the largest installed model (zoo parameter count), instruct models first."""
    from homogeny.errors import ParameterError
    from homogeny.models import model_info

    usable = []
    for spec in models:
        info = model_info(spec)
        if info.backend == "llamacpp":
            usable.append((info.kind != "base", info.params, spec))
    if not usable:
        raise ParameterError("c6 needs a local GGUF judge (zoo: or gguf: model) to read verdict probabilities; add one to --models")
    return max(usable)[2]


class ConsistencyReliability:
    """C6: is a judge that repeats itself at temperature ~0 also right? (see module doc)."""

    claim = CLAIM
    title = "Temperature 0 gives consistency, not reliability"
    question = "Does temperature ~0 make an LLM judge reliable, or only consistent?"

    def run(self, ctx: ExperimentContext) -> list[Evidence]:
        from homogeny.models import model_info
        from homogeny.suites.catalog import judging_items

        judge = pick_judge(ctx.models)
        info = model_info(judge)
        items = judging_items(quick=ctx.quick)
        chat = info.kind != "base"
        ctx.log(f"c6: judge {info.model_id} ({'chat' if chat else 'raw text'}), {len(items)} questions x {REPLICATIONS} replications x {len(TEMPERATURES)} temperatures")
        dists, computed = judge_distributions(ctx, judge, items, chat)
        ids = [it.id for it in items]
        correct = np.array([LETTERS.index(it.meta["correct"]) + 1 for it in items])
        rows = reliability_by_temperature(dists, ids, correct, ctx.seed)
        ctx.artifact(CLAIM, "judge", {"model": info.model_id, "chat": chat, "questions": len(items), "computed_now": computed})
        self._store_curves(ctx, rows)
        self._store_examples(ctx, info.model_id, items, dists)
        evidence = [self._consistency_row(ctx, info.model_id, rows[-1]), self._hidden_mass_row(ctx, info.model_id, dists, ids)]
        evidence += self._paper_rows(ctx)
        return evidence

    def _store_curves(self, ctx: ExperimentContext, rows: list[dict[str, Any]]) -> None:
        from homogeny.metrics import bootstrap_ci

        temps = [r["temperature"] for r in rows]
        floor = random_judge_floor(len(rows[0]["consistent"]), ctx.seed)
        ctx.artifact(CLAIM, "reliability_by_temperature", {
            "x": temps, "x_label": "temperature (last = machine epsilon)",
            "series": {
                "McDonald's omega": [r["omega"] for r in rows],
                "Cronbach's alpha": [r["alpha"] for r in rows],
                "omega of a uniform random judge": [floor["omega"]] * len(rows),
                "share fully consistent": [float(r["consistent"].mean()) for r in rows],
                "modal pick correct": [float(r["modal_correct"].mean()) for r in rows],
                "single draws correct": [r["draw_accuracy"] for r in rows],
            },
        })
        cis = [bootstrap_ci(np.mean, r["modal_correct"], seed=ctx.seed) for r in rows]
        ctx.artifact(CLAIM, "modal_accuracy_by_temperature", {
            "labels": [f"T={t:g}" for t in temps], "values": [c.point for c in cis],
            "low": [c.low for c in cis], "high": [c.high for c in cis],
        })

    def _consistency_row(self, ctx: ExperimentContext, judge_id: str, zero: dict[str, Any]) -> Evidence:
        from homogeny.metrics import bootstrap_ci

        diff = zero["consistent"] - zero["modal_correct"]
        ci = bootstrap_ci(np.mean, diff, seed=ctx.seed)
        acc = bootstrap_ci(np.mean, zero["modal_correct"], seed=ctx.seed)
        return make_evidence(
            CLAIM,
            f"At temperature ~0, is the judge more consistent than correct? (omega {_fmt(zero['omega'])}, "
            f"{zero['consistent'].mean():.0%} of questions fully consistent, modal pick right on "
            f"{acc.point:.0%} [{acc.low:.0%}, {acc.high:.0%}])",
            "consistency_minus_accuracy_t0",
            "positive = share of questions whose 100 verdicts agree exceeds the share the judge gets right",
            ci.point, (ci.low, ci.high), len(diff), threshold=0.0, predicted="above",
            plot={"labels": ["fully consistent", "modal pick correct"],
                  "values": [float(zero["consistent"].mean()), acc.point],
                  "low": [float(zero["consistent"].mean()), acc.low], "high": [float(zero["consistent"].mean()), acc.high]},
            models=[judge_id], quick=ctx.quick,
        )

    def _hidden_mass_row(self, ctx: ExperimentContext, judge_id: str, dists: dict[str, dict[float, np.ndarray]], ids: list[str]) -> Evidence:
        from homogeny.metrics import bootstrap_ci

        placed = [share_and_rank(dists[i][T_ZERO], dists[i][1.0]) for i in ids]
        hidden = np.array([1.0 - share for share, _ in placed])
        ranks = [rank for _, rank in placed]
        ci = bootstrap_ci(np.mean, hidden, seed=ctx.seed)
        ctx.artifact(CLAIM, "t0_verdict_in_t1_distribution", {
            "labels": ids, "values": [share for share, _ in placed], "ranks": ranks,
        })
        return make_evidence(
            CLAIM,
            "How much of the temperature-1 verdict distribution does the temperature-~0 verdict leave out? "
            f"(its rank at T=1: {np.mean(np.array(ranks) == 1):.0%} of questions rank 1)",
            "t1_mass_outside_t0_verdict",
            "positive = probability mass at temperature 1 on verdicts other than the one temperature ~0 repeats",
            ci.point, (ci.low, ci.high), len(hidden), threshold=0.0, predicted="above",
            models=[judge_id], quick=ctx.quick,
        )

    def _paper_rows(self, ctx: ExperimentContext) -> list[Evidence]:
        folder = paper_data_dir(ctx)
        if folder is None:
            ctx.log("c6: the paper's released judgments are not here; skipping the table check")
            return []
        judges = 1 if ctx.quick else None  # each judge costs seconds of factor analysis
        digest = hashlib.sha256((folder / "full_judgments.zip").read_bytes()).hexdigest()
        cached = ctx.store.artifact(CLAIM, "paper_table_check") or {}
        if cached.get("zip_sha256") == digest and (cached.get("judges") is None or cached.get("judges") == judges):
            rows = cached["rows"]
        else:
            rows = paper_check(folder, judges)
            ctx.artifact(CLAIM, "paper_table_check", {"zip_sha256": digest, "judges": judges, "rows": rows})
        if not rows:
            return []
        worst = max(abs(r["paper"] - r["homogeny"]) for r in rows)
        return [make_evidence(
            CLAIM,
            f"Does homogeny's omega/alpha reproduce the paper's own tables from its released judgments? ({len({r['judge'] for r in rows})} judges, all temperatures)",
            "paper_table_max_abs_difference",
            "largest |homogeny - paper| over judges x temperatures x {omega, alpha}; smaller is better",
            worst, (worst, worst), len(rows), threshold=PAPER_TOLERANCE, predicted="below", min_n=1, quick=ctx.quick,
        )]

    def _store_examples(self, ctx: ExperimentContext, judge_id: str, items: Sequence[Prompt], dists: dict[str, dict[float, np.ndarray]]) -> None:
        examples = []
        for it in items[:3]:
            zero, one = dists[it.id][T_ZERO], dists[it.id][1.0]
            names = [*LETTERS, "none"]
            examples.append({"prompt": it.display, "outputs": {judge_id: [
                f"T~0 verdict: [[{names[int(np.argmax(zero))]}]] (correct: [[{it.meta['correct']}]])",
                "T=1 verdict shares: " + ", ".join(f"{n} {p:.0%}" for n, p in zip(names, one)),
            ]}})
        ctx.artifact(CLAIM, "examples", examples)
