"""Iterated self-training of a tiny LM on its own samples, with and without external anchors.

After Song et al. 2024, "Mind the Gap: Examining the Self-Improvement Capabilities of Large
Language Models" (arXiv 2412.02674) and Shafayat et al. 2025, "Can Large Reasoning Models
Self-Train?" (arXiv 2505.21444). The task is multi-digit addition whose correct solutions form
a known space (toy/arithmetic.py: four solution styles per problem), so accuracy and diversity
are both exact. Each round the model samples several solutions per fresh problem, a filter
keeps some, and the model is fine-tuned on what was kept. Filters:

  none            pure self-training: keep every sample
  majority        keep samples whose answer is the majority answer (self-reward by vote)
  self_verifier   keep the samples the model itself scores highest (per-token log-prob)
  ground_truth    majority vote, plus a fixed share of ground-truth solutions   [anchor]
  past_checkpoint majority vote over samples pooled with a frozen round-0 model [anchor]
  exact_checker   keep only correct answers (tool feedback)                     [anchor]

Per round, on a fixed evaluation set: pass@1, pass@k, distinct correct solutions per problem,
coverage (the share of each problem's known correct solutions still produced) and the style
shares among correct samples.
"""

from __future__ import annotations

import copy
import random
from collections import Counter
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from typing import Any

import numpy as np

from homogeny.metrics.passk import pass_at_k
from homogeny.toy import arithmetic, gpt

FILTERS = ("none", "majority", "self_verifier", "ground_truth", "past_checkpoint", "exact_checker")
ANCHORS = ("ground_truth", "past_checkpoint", "exact_checker")
ALPHABET = "0123456789+=; ans"


@dataclass(frozen=True)
class SelfTrainConfig:
    """Sizes of one self-training study (defaults: about a minute per seed and filter on 2
    cores)."""

    model_size: str = "small"
    digits: int = 2
    pretrain_texts: int = 4000
    pretrain_steps: int = 800
    pretrain_lr: float = 6e-3
    pretrain_batch: int = 64
    style_mix: tuple[float, ...] = (0.25, 0.25, 0.25, 0.25)  # shares of arithmetic.ADDITION_STYLES
    rounds: int = 5
    problems_per_round: int = 48
    samples_per_problem: int = 8
    train_temperature: float = 0.7
    finetune_steps: int = 50
    finetune_lr: float = 1e-3
    batch_size: int = 32
    eval_problems: int = 40
    eval_samples: int = 8
    eval_temperature: float = 1.0
    ground_truth_share: float = 0.25
    checkpoint_share: float = 0.5
    verifier_keep: float = 0.5

    @property
    def max_new_tokens(self) -> int:
        return 14 * self.digits + 12  # the longest style ("chunks") with room to spare


@dataclass
class RoundMetrics:
    """What one round's model does on the fixed evaluation problems (and what it trained on)."""

    round: int
    pass_at_1: float
    pass_at_k: float
    distinct_correct: float
    coverage: float
    style_shares: dict[str, float] = field(default_factory=dict)
    kept: int = 0
    kept_accuracy: float = float("nan")


def tokenizer() -> gpt.CharTokenizer:
    """The character tokenizer of the addition task (digits, '+', '=', ';', 'ans')."""
    return gpt.CharTokenizer(ALPHABET)


def ground_truth_texts(n: int, config: SelfTrainConfig, seed: int) -> list[str]:
    """`n` documents (prompt + solution) with styles drawn at `config.style_mix`."""
    rng = random.Random(seed)
    problems = arithmetic.addition_problems(n, seed=seed, digits=config.digits)
    styles = rng.choices(arithmetic.ADDITION_STYLES, weights=config.style_mix, k=n)
    return [p.prompt + arithmetic.format_addition(p, s) for p, s in zip(problems, styles)]


def pretrain(config: SelfTrainConfig, seed: int) -> tuple[gpt.GPT, gpt.CharTokenizer, list[float]]:
    """Train the round-0 model on ground-truth solutions in every style; returns the loss
    curve too."""
    tok = tokenizer()
    block = 2 * config.digits + 3 + config.max_new_tokens
    model = gpt.GPT(
        gpt.GPTConfig(
            vocab_size=tok.vocab_size,
            block_size=block,
            init_seed=seed,
            **gpt.SIZES[config.model_size],
        )
    )
    curve = gpt.train_lm(
        model,
        tok,
        ground_truth_texts(config.pretrain_texts, config, seed),
        steps=config.pretrain_steps,
        batch_size=config.pretrain_batch,
        lr=config.pretrain_lr,
        seed=seed,
    )
    return model, tok, curve


def is_correct(problem: arithmetic.AdditionProblem, solution: str) -> bool:
    """The exact checker: the stated sum equals a + b."""
    return arithmetic.extract_addition_answer(solution) == problem.answer


def evaluate(
    model: gpt.GPT,
    tok: gpt.CharTokenizer,
    problems: Sequence[arithmetic.AdditionProblem],
    config: SelfTrainConfig,
    seed: int,
    round_index: int = 0,
) -> RoundMetrics:
    """pass@1, pass@k (k = samples per problem), distinct correct solutions per problem, and
    coverage (per problem, the share of its known correct solutions, one per style in
    ADDITION_STYLES, that the samples contain; averaged) at the evaluation temperature."""
    k = config.eval_samples
    outs = gpt.sample(
        model,
        tok,
        [p.prompt for p in problems],
        n=k,
        temperature=config.eval_temperature,
        max_new_tokens=config.max_new_tokens,
        seed=seed,
    )
    p1, pk, distinct, covered, styles = [], [], [], [], Counter()
    for problem, samples in zip(problems, outs):
        correct = [s for s in samples if is_correct(problem, s)]
        p1.append(len(correct) / k)
        pk.append(pass_at_k(k, len(correct), k))
        distinct.append(len(set(correct)))
        known = set(arithmetic.addition_solutions(problem).values())
        covered.append(len(known & set(correct)) / len(known))
        styles.update(arithmetic.classify_addition_style(s) for s in correct)
    total = sum(styles.values())
    shares = {s: styles.get(s, 0) / total if total else 0.0 for s in arithmetic.ADDITION_STYLES}
    return RoundMetrics(
        round_index,
        float(np.mean(p1)),
        float(np.mean(pk)),
        float(np.mean(distinct)),
        float(np.mean(covered)),
        shares,
    )


# ---- filters ------------------------------------------------------------------------------


def majority_vote(samples: Sequence[str]) -> list[str]:
    """Samples whose extracted answer is the most common one (ties: the answer seen first)."""
    answers = [arithmetic.extract_addition_answer(s) for s in samples]
    counts = Counter(a for a in answers if a is not None)
    if not counts:
        return []
    top = max(counts.values())
    winner = next(a for a in answers if a is not None and counts[a] == top)
    return [s for s, a in zip(samples, answers) if a == winner]


def self_verified(
    model: gpt.GPT, tok: gpt.CharTokenizer, prompt: str, samples: Sequence[str], keep: float
) -> list[str]:
    """The model as its own verifier: keep the `keep` share of samples with the highest mean
    per-token log-probability under the model (end-of-text included)."""
    import torch

    if not samples:
        return []
    ids = [tok.encode(s) + [gpt.EOS] for s in samples]
    prompts = [[gpt.BOS] + tok.encode(prompt)] * len(samples)
    with torch.no_grad():
        logp = gpt.completion_logprobs(model, prompts, ids)
        mask = gpt.completion_mask(ids)
        score = ((logp * mask).sum(1) / mask.sum(1)).tolist()
    n_keep = max(1, round(keep * len(samples)))
    order = sorted(range(len(samples)), key=lambda i: (-score[i], i))
    return [samples[i] for i in sorted(order[:n_keep])]


def _draw(
    model: gpt.GPT,
    tok: gpt.CharTokenizer,
    problems: Sequence[arithmetic.AdditionProblem],
    n: int,
    config: SelfTrainConfig,
    seed: int,
) -> list[list[str]]:
    if n <= 0:
        return [[] for _ in problems]
    return gpt.sample(
        model,
        tok,
        [p.prompt for p in problems],
        n=n,
        temperature=config.train_temperature,
        max_new_tokens=config.max_new_tokens,
        seed=seed,
    )


def training_set(
    filter_name: str,
    model: gpt.GPT,
    frozen: gpt.GPT,
    tok: gpt.CharTokenizer,
    problems: Sequence[arithmetic.AdditionProblem],
    config: SelfTrainConfig,
    seed: int,
) -> tuple[list[str], float]:
    """Sample this round's solutions and apply the filter; returns the documents to fine-tune
    on and the share of kept self-generated solutions that are correct."""
    n = config.samples_per_problem
    n_past = round(n * config.checkpoint_share) if filter_name == "past_checkpoint" else 0
    own = _draw(model, tok, problems, n - n_past, config, seed)
    past = _draw(frozen, tok, problems, n_past, config, seed + 1)
    kept: list[tuple[arithmetic.AdditionProblem, str]] = []
    for problem, mine, old in zip(problems, own, past):
        pool = list(mine) + list(old)
        if filter_name == "none":
            chosen = pool
        elif filter_name == "self_verifier":
            chosen = self_verified(model, tok, problem.prompt, pool, config.verifier_keep)
        elif filter_name == "exact_checker":
            chosen = [s for s in pool if is_correct(problem, s)]
        elif filter_name in ("majority", "ground_truth", "past_checkpoint"):
            chosen = majority_vote(pool)
        else:
            raise ValueError(f"unknown filter {filter_name!r}; use one of {', '.join(FILTERS)}")
        kept.extend((problem, s) for s in chosen)
    accuracy = float(np.mean([is_correct(p, s) for p, s in kept])) if kept else float("nan")
    docs = [p.prompt + s for p, s in kept]
    if filter_name == "ground_truth" and docs:
        share = config.ground_truth_share
        docs += ground_truth_texts(round(len(docs) * share / (1 - share)), config, seed + 2)
    return docs, accuracy


def self_train(
    model: gpt.GPT,
    tok: gpt.CharTokenizer,
    filter_name: str,
    config: SelfTrainConfig,
    seed: int,
    eval_problems: Sequence[arithmetic.AdditionProblem] | None = None,
    initial: RoundMetrics | None = None,
) -> tuple[gpt.GPT, list[RoundMetrics]]:
    """Run `config.rounds` rounds of sample -> filter -> fine-tune from a copy of `model` (left
    untouched, and the frozen checkpoint for past_checkpoint). Returns the final model and the
    metrics of rounds 0..rounds on the evaluation problems (the same problems every round);
    `initial` is the round-0 evaluation when the caller already has it."""
    if filter_name not in FILTERS:
        raise ValueError(f"unknown filter {filter_name!r}; use one of {', '.join(FILTERS)}")
    problems_eval = list(
        eval_problems
        or arithmetic.addition_problems(
            config.eval_problems, seed=10_000 + seed, digits=config.digits
        )
    )
    current = copy.deepcopy(model)
    history = [
        initial if initial is not None else evaluate(current, tok, problems_eval, config, seed=seed)
    ]
    for r in range(1, config.rounds + 1):
        round_seed = seed * 1000 + r
        problems = arithmetic.addition_problems(
            config.problems_per_round, seed=20_000 + round_seed, digits=config.digits
        )
        docs, kept_accuracy = training_set(
            filter_name, current, model, tok, problems, config, round_seed
        )
        if docs:
            gpt.train_lm(
                current,
                tok,
                docs,
                steps=config.finetune_steps,
                batch_size=config.batch_size,
                lr=config.finetune_lr,
                seed=round_seed,
                warmup=5,
            )
        metrics = evaluate(current, tok, problems_eval, config, seed=seed, round_index=r)
        metrics.kept, metrics.kept_accuracy = len(docs), kept_accuracy
        history.append(metrics)
    return current, history


def loss_per_round(history: Sequence[RoundMetrics], metric: str) -> float:
    """How much of `metric` is lost per round: minus the least-squares slope over rounds 0..R
    (positive = the metric falls)."""
    xs = np.array([m.round for m in history], dtype=float)
    ys = np.array([getattr(m, metric) for m in history], dtype=float)
    return float(-np.polyfit(xs, ys, 1)[0])


def history_rows(history: Sequence[RoundMetrics]) -> list[dict[str, Any]]:
    """JSON-ready rows of a history (NaN becomes None)."""
    rows = []
    for m in history:
        row = asdict(m)
        row["kept_accuracy"] = None if not np.isfinite(m.kept_accuracy) else m.kept_accuracy
        rows.append(row)
    return rows
