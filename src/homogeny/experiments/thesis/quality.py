"""Quality measures for the counter-pressures (claim T): answers checked against the known
answer, a simple judge for open prompts, a fixed reference model's log-probability, and the
paired costs of a setting against the default.

Closed tasks: each sample is scored right or wrong against the task's answer
(`homogeny.metrics.answers`); a numeric answer counts only when every number the sample
states, other than numbers copied from the question, is the answer, so "12 / 17 / 22" to
"What is 7 plus 5?" is wrong. Open tasks: the judge follows what diversity studies use as a
cheap utility filter (NoveltyBench counts only answers that pass a quality bar; Zhang et
al. 2025 check coherence): an answer counts when it has words, stays on topic (cosine to
its request, all-MiniLM-L6-v2) and is not a degenerate loop (gzip compression ratio,
Shaib et al. 2024). The reference log-probability is teacher-forced on one fixed model, so
costs compare across settings and runs.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from homogeny.metrics.answers import mentions_answer
from homogeny.suites.prompt import Prompt

# Cosine between an output and its request (all-MiniLM-L6-v2) below which the output is off
# topic; unrelated sentence pairs score around 0.0-0.1 with this model.
ON_TOPIC_THRESHOLD = 0.15
# gzip compression ratio of one output above which it counts as degenerate (a loop of the
# same words); ordinary prose of this length stays well under 2.
DEGENERATE_RATIO = 2.5
MIN_WORDS = 2
REFERENCE_MODEL = "zoo:smollm2-135m"
_NUMBER = re.compile(r"-?\d+(?:\.\d+)?")


def diversity(embeddings: np.ndarray) -> float:
    """1 - mean pairwise cosine similarity (ordered pairs i != j) of one prompt's outputs."""
    from homogeny.metrics.semantic import mean_pairwise_similarity

    return 1.0 - mean_pairwise_similarity(embeddings)


def acceptable(text: str, on_topic_similarity: float) -> bool:
    """The simple judge: the output has words, stays on topic (cosine to its request at least
    ON_TOPIC_THRESHOLD) and is not a degenerate loop (gzip ratio at most DEGENERATE_RATIO)."""
    from homogeny.metrics.lexical import compression_ratio

    if len(re.findall(r"\w+", text)) < MIN_WORDS:
        return False
    if on_topic_similarity < ON_TOPIC_THRESHOLD:
        return False
    return compression_ratio([text], digits=None) <= DEGENERATE_RATIO


def answer_correct(text: str, answer: str, aliases: Sequence[str] = (), question: str = "") -> bool:
    """Whether one sample gives the known answer. A numeric answer: every number the sample
    states, other than numbers copied from the question, equals it (a list of guesses such as
    "12 / 17 / 22" commits to no answer); otherwise the answer or an alias appears as a whole
    word, any case."""
    answer = str(answer).strip()
    if _NUMBER.fullmatch(answer):
        copied = set(_NUMBER.findall(question))
        stated = [n for n in _NUMBER.findall(text.replace(",", "")) if n not in copied]
        if stated:
            return all(float(n) == float(answer) for n in stated)
        words = [a for a in aliases if not _NUMBER.fullmatch(str(a).strip())]
        return mentions_answer(text, words[0], words[1:]) if words else False
    return mentions_answer(text, answer, aliases)


class ReferenceScorer:
    """Mean token log-probability of an answer given its plain request under a fixed reference
    model, by teacher forcing (`Backend.score`; the request rendered with the model's chat
    template when it has one, as generation would see it)."""

    def __init__(self, spec: str) -> None:
        from homogeny import models

        self.spec = spec
        self._opened = models.open(spec, need="score")
        self.backend = self._opened.__enter__()

    def score(self, request: str, answer: str) -> float | None:
        """Mean natural-log probability per answer token; None for an empty answer."""
        scores = self.backend.score(Prompt("reference", request), answer, chat=True)
        return scores.mean if scores.tokens else None

    def close(self) -> None:
        """Let the reference model go (the registry may keep it loaded for reuse)."""
        self._opened.__exit__(None, None, None)


def reference_spec(models: Sequence[str]) -> str | None:
    """The reference model: zoo:smollm2-135m when installed (fixed, so costs compare across
    audits), else the smallest named local model; None when only servers are named."""
    from homogeny.models import model_info, zoo

    if zoo.is_installed(REFERENCE_MODEL.removeprefix("zoo:")):
        return REFERENCE_MODEL
    local = [m for m in models if model_info(m).backend == "llamacpp"]
    return min(local, key=lambda m: model_info(m).params or 0) if local else None


# ---- one setting's scores and its costs against the default -------------------------------


@dataclass
class Scores:
    """Per-prompt measurements of one setting: diversity and log-probability on open
    prompts, the judge's share of acceptable outputs on open prompts, the share of right
    answers (per sample) on closed prompts."""

    diversity: dict[str, float]
    quality: dict[str, float]
    logprob: dict[str, float]
    accuracy: dict[str, float]


def score_setting(
    ctx: Any,
    outputs: dict[str, list[str]],
    prompts: tuple[list[Prompt], list[Prompt]],
    scorer: ReferenceScorer | None,
) -> Scores:
    """Measure one setting's outputs on (open prompts, closed prompts)."""
    open_, closed = prompts
    div, qual, lp, acc = {}, {}, {}, {}
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
        aliases = [str(a) for a in p.meta.get("answer_aliases") or []]
        right = [answer_correct(t, str(p.meta["answer"]), aliases, p.text) for t in outputs[p.id]]
        acc[p.id] = float(np.mean(right))
    return Scores(div, qual, lp, acc)


def paired_values(before: dict[str, float], after: dict[str, float]) -> np.ndarray:
    """after - before per prompt, over the prompts both measured (finite differences only)."""
    diffs = [after[k] - before[k] for k in before if k in after]
    return np.array([d for d in diffs if np.isfinite(d)], dtype=float)


def frontier_point(name: str, default: Scores, s: Scores, seed: int, model: str) -> dict[str, Any]:
    """One counter-pressure's row of the ("T", "counter_pressures") artifact: diversity gain,
    accuracy cost (closed prompts), judge cost (open prompts) and log-probability cost under
    the reference model, each a paired difference over prompts with its calibrated interval
    (exact sign-flip under 10 prompts, bootstrap above)."""
    from homogeny.metrics.inference import infer_mean

    row: dict[str, Any] = {"name": name, "model": model}
    parts = {
        ("diversity_gain", "gain"): paired_values(default.diversity, s.diversity),
        ("accuracy_cost", "accuracy_cost"): paired_values(s.accuracy, default.accuracy),
        ("judge_cost", "judge_cost"): paired_values(s.quality, default.quality),
        ("logprob_cost", "logprob"): paired_values(s.logprob, default.logprob),
    }
    for (key, prefix), values in parts.items():
        if len(values) == 0:
            continue
        if len(values) == 1:
            row.update({key: float(values[0]), f"{prefix}_low": float(values[0])})
            row[f"{prefix}_high"] = float(values[0])
            continue
        r = infer_mean(values, seed=seed)
        row.update({key: r.point, f"{prefix}_low": r.low, f"{prefix}_high": r.high})
    row["quality_cost"] = row.get("accuracy_cost", row.get("judge_cost", 0.0))
    row["cost_low"] = row.get("accuracy_cost_low", row.get("judge_cost_low", 0.0))
    row["cost_high"] = row.get("accuracy_cost_high", row.get("judge_cost_high", 0.0))
    row["diversity"] = float(np.mean(list(s.diversity.values()))) if s.diversity else 0.0
    row["accuracy"] = float(np.mean(list(s.accuracy.values()))) if s.accuracy else None
    row["acceptable"] = float(np.mean(list(s.quality.values()))) if s.quality else None
    return row
