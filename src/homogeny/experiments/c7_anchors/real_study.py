"""C7's real-model level: self-verification and a novelty-judged self-refinement loop.

Self-verification (Song et al. 2024): each model answers arithmetic word problems and factual
questions, rates each of its answers itself (P(yes) against P(no) of its first reply token
when asked whether the answer is correct), and keeps per question the answers it rates best.
If those are more often right than all its answers, the model has a generation-verification
gap that self-improvement could climb without an anchor, which argues against C7.

Self-refinement: "improve your answer" for a few rounds, keeping the model's first reply
(self loop) or the reply an external judge finds most novel against earlier answers (judged
loop). The judge is lexical (word n-gram overlap); the outcome, how alike a prompt's answers
across rounds are, is measured with sentence embeddings, so the judge cannot be graded by
the yardstick it optimised.
"""

from __future__ import annotations

import json
import math
from collections.abc import Iterator, Sequence
from typing import TYPE_CHECKING, Any

import numpy as np

from homogeny.experiments.base import Evidence, ExperimentContext
from homogeny.metrics.answers import mentions_answer, states_number
from homogeny.suites.prompt import Prompt

if TYPE_CHECKING:
    from homogeny.experiments.c7_anchors.plan import AnchorsPlan

CLAIM = "c7"
VERIFY = (
    "Question: {question}\nProposed answer: {answer}\n"
    "Is the proposed answer correct? Reply with only yes or no."
)
IMPROVE = "Improve your answer. Reply with the improved answer only."
# Tiny models ramble past any token budget; asking for the bare answer makes accuracy measurable.
ANSWER_ONLY = "\nReply with the final answer only."
MAX_MODELS = 3


def real_rows(ctx: ExperimentContext, plan: AnchorsPlan) -> Iterator[Evidence]:
    """Per named model (the first three): the self-verification row and the refinement row;
    nothing when no model is named."""
    if not ctx.models:
        return
    from homogeny.suites.catalog import (
        factual_qa_prompts,
        math_problem_prompts,
        open_ended_prompts,
    )

    questions = [(p, "arithmetic") for p in math_problem_prompts()[: plan.gap_questions]] + [
        (p, "factual") for p in factual_qa_prompts()[: plan.gap_questions]
    ]
    open_q = open_ended_prompts()[: plan.refine_prompts]
    for model in ctx.models[:MAX_MODELS]:
        yield verification_row(ctx, plan, model, questions)
        if len(open_q) >= 2:
            yield refinement_row(ctx, plan, model, open_q)


# ---- self-verification -------------------------------------------------------------------


def math_correct(prompt: Prompt, text: str) -> bool:
    """The last number in the reply equals the problem's answer."""
    return states_number(text, prompt.meta["answer"])


def fact_correct(prompt: Prompt, text: str) -> bool:
    """The answer or one of its aliases appears in the reply as a whole word (any case)."""
    return mentions_answer(text, prompt.meta["answer"], prompt.meta.get("aliases", []))


CHECKS = {"arithmetic": math_correct, "factual": fact_correct}


def self_verification(
    ctx: ExperimentContext, plan: AnchorsPlan, model: str, questions: Sequence[tuple[Prompt, str]]
) -> dict[str, Any]:
    """Per question (with its task, "arithmetic" or "factual"): accuracy of all the model's
    answers, accuracy of the answers it rates best itself (best-of-n by `verifier_score`; ties
    all kept, so a verifier that rates every answer alike changes nothing), and the mean
    verifier score."""
    prompts = [p for p, _ in questions]
    asked = [Prompt(id=p.id, text=p.text + ANSWER_ONLY, meta=p.meta) for p in prompts]
    answers = ctx.sample(model, asked, plan.gap_samples, temperature=0.7, max_tokens=32, chat=True)
    asks = [
        Prompt(
            id=f"{p.id}/verify{i}",
            text=VERIFY.format(question=p.text, answer=row["text"].strip()[:400]),
        )
        for p in prompts
        for i, row in enumerate(answers[p.id])
    ]
    verdicts = ctx.sample(model, asks, 1, temperature=0.0, max_tokens=3, chat=True)
    out: dict[str, list[Any]] = {"id": [], "task": [], "all": [], "verified": [], "score": []}
    for p, task in questions:
        correct = [CHECKS[task](p, row["text"]) for row in answers[p.id]]
        rated = [
            verifier_score(model, verdicts[f"{p.id}/verify{i}"][0]) for i in range(len(correct))
        ]
        kept = [c for c, r in zip(correct, rated) if r == max(rated)]
        out["id"].append(p.id)
        out["task"].append(task)
        out["all"].append(float(np.mean(correct)))
        out["verified"].append(float(np.mean(kept)))
        out["score"].append(float(np.mean(rated)))
    return out


def verification_row(
    ctx: ExperimentContext, plan: AnchorsPlan, model: str, questions: Sequence[tuple[Prompt, str]]
) -> Evidence:
    """Accuracy of all answers minus accuracy of the self-verified ones, per question (> 0 =
    the model's own verifier picks worse answers: nothing for self-improvement to climb)."""
    res = self_verification(ctx, plan, model, questions)
    shortfall = np.array(res["all"]) - np.array(res["verified"])
    ctx.artifact(CLAIM, f"self_verification/{model}", res)
    return ctx.evidence(
        CLAIM,
        "self_verification_shortfall",
        shortfall,
        role="secondary",
        unit="share of answers correct, per question",
        subject=model,
        models=(model,),
        question="Does the model's own verifier fail to pick better answers than it generates?",
        sign="accuracy of all sampled answers minus accuracy of the answers the model rates "
        "best itself (P(yes) vs P(no)), per question, arithmetic and factual pooled; > 0 = "
        "self-verification picks worse answers, for the claim; < 0 = a generation-"
        "verification gap that self-improvement without an anchor could climb (Song et al. "
        "2024), against it",
        plot={
            "labels": ["all answers", "self-verified"],
            "values": [float(np.mean(res["all"])), float(np.mean(res["verified"]))],
        },
    )


def verifier_score(model: str, row: dict[str, Any]) -> float:
    """P(yes) / (P(yes) + P(no)) of the verifier's first reply token, from the top
    log-probabilities the engine stored with the greedy verdict; when neither word is among
    them, 1.0 if the reply starts with "yes", else 0.0. A graded score: greedy replies of the
    small models are "No" to nearly every answer, right or wrong, which no filter can use."""
    try:
        first = json.loads(row.get("top_logprobs_json") or "{}").get("top", [[]])[0]
    except (TypeError, ValueError, IndexError):
        first = []
    mass = {"yes": 0.0, "no": 0.0}
    for token, logprob in first:
        word = token_text(model, token).strip().lower()
        if word in mass:
            mass[word] += math.exp(float(logprob))
    if mass["yes"] + mass["no"] > 0:
        return mass["yes"] / (mass["yes"] + mass["no"])
    return 1.0 if str(row.get("text", "")).strip().lower().startswith("yes") else 0.0


def token_text(model: str, token: int | str) -> str:
    """A stored top token as text: servers store strings, llama.cpp stores vocabulary ids
    (turned into text by the model's own tokenizer, through homogeny.models)."""
    if isinstance(token, str):
        return token
    from homogeny import models

    with models.open(model, need="score") as backend:
        return backend.detokenize([int(token)])


# ---- self-refinement with and without an external novelty judge ------------------------------


def ngram_overlap(a: str, b: str, n: int = 2) -> float:
    """Jaccard overlap of the word 1..n-grams of two texts (ROUGE tokenisation; 0 when both
    are empty): the external judge's notion of sameness, independent of any embedding."""
    from homogeny.metrics.lexical import rouge_tokens

    def grams(text: str) -> set[tuple[str, ...]]:
        toks = rouge_tokens(text)
        return {tuple(toks[i : i + k]) for k in range(1, n + 1) for i in range(len(toks) - k + 1)}

    ga, gb = grams(a), grams(b)
    return len(ga & gb) / len(ga | gb) if ga | gb else 0.0


def most_novel(candidates: Sequence[str], earlier: Sequence[str]) -> str:
    """The candidate whose highest n-gram overlap with any earlier answer is lowest (the
    first such on ties)."""
    worst = [max(ngram_overlap(c, e) for e in earlier) for c in candidates]
    return candidates[int(np.argmin(worst))]


def refinement_trajectories(
    ctx: ExperimentContext, plan: AnchorsPlan, model: str, prompts: list[Prompt], judge: bool
) -> dict[str, list[str]]:
    """Answers chosen over `refine_rounds` rounds of "improve your answer". Each round samples
    `refine_candidates` replies; the self loop keeps the model's first reply, the judged loop
    the one `most_novel` picks against every earlier answer."""
    loop = "judged" if judge else "self"
    chosen: dict[str, list[str]] = {p.id: [] for p in prompts}
    for r in range(plan.refine_rounds + 1):
        asks = [
            p
            if r == 0
            else Prompt(
                id=f"{p.id}/{loop}/r{r}",
                messages=(("user", p.text), ("assistant", chosen[p.id][-1]), ("user", IMPROVE)),
            )
            for p in prompts
        ]
        replies = ctx.sample(
            model, asks, plan.refine_candidates, temperature=1.0, max_tokens=96, chat=True
        )
        for p, ask in zip(prompts, asks):
            texts = [row["text"].strip() for row in replies[ask.id]] or [""]
            pick = most_novel(texts, chosen[p.id]) if judge and chosen[p.id] else texts[0]
            chosen[p.id].append(pick)
    return chosen


def refinement_row(
    ctx: ExperimentContext, plan: AnchorsPlan, model: str, prompts: list[Prompt]
) -> Evidence:
    """Mean pairwise embedding cosine of a prompt's answers across refinement rounds: the self
    loop minus the novelty-judged loop, per prompt (> 0 = without the judge answers converge)."""
    sims = {}
    for judge in (False, True):
        chosen = refinement_trajectories(ctx, plan, model, prompts, judge)
        per_prompt = []
        for p in prompts:
            emb = np.asarray(ctx.embed(chosen[p.id]))
            per_prompt.append(float((emb @ emb.T)[np.triu_indices(len(emb), 1)].mean()))
        sims[judge] = np.array(per_prompt)
    return ctx.evidence(
        CLAIM,
        "refinement_similarity_self_minus_judged",
        sims[False] - sims[True],
        role="secondary",
        unit="cosine, per prompt",
        subject=model,
        models=(model,),
        question="Does an external novelty judge keep a self-refinement loop from converging?",
        sign="mean pairwise MiniLM cosine of a prompt's answers across refinement rounds, self "
        "loop minus the loop whose candidates a lexical n-gram judge picks; > 0 = without "
        "the external judge answers converge",
        plot={
            "labels": ["self loop", "novelty judge"],
            "values": [float(sims[False].mean()), float(sims[True].mean())],
        },
    )
