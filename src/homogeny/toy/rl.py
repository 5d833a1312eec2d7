"""RL fine-tuning of a toy GPT with a 0/1 correctness reward, logging format collapse.

After Zhao et al. 2025 ("Echo Chamber: RL Post-training Amplifies Behaviors Learned in
Pretraining", arXiv 2504.07912): GRPO (Shao et al. 2024, arXiv 2402.03300) with group
baselines — G samples per prompt, advantage = reward - group mean (optionally / group std) —
and a REINFORCE-style policy gradient on the sampled tokens (one on-policy update per batch,
so the PPO ratio is 1 and needs no clipping), plus an optional KL penalty to the frozen
pretrained reference (the k3 estimator GRPO uses). Every step logs the share of each output
format, pass@1, pass@G, majority@G, distinct outputs and mean reward; periodic evaluations on
held-out prompts log pass@k and majority@k at a larger k.
"""

from __future__ import annotations

import copy
import random
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field
from typing import Any

import numpy as np
import torch

from homogeny.metrics.passk import pass_at_k
from homogeny.toy.arithmetic import FORMATS, Problem, classify_format, extract_answer
from homogeny.toy.gpt import (
    BOS,
    GPT,
    CharTokenizer,
    completion_logprobs,
    completion_mask,
    generate_ids,
)

Reward = Callable[[Problem, str], float]
ALL_FORMATS = (*FORMATS, "other")


def correctness_reward(problem: Problem, text: str) -> float:
    """1.0 when the solution's extracted answer equals the problem's answer, else 0.0."""
    return float(extract_answer(text) == problem.answer)


# ---- metrics over samples ----------------------------------------------------------------


def majority_correct(answers: Sequence[int | None], truth: int) -> bool:
    """Majority vote over the stated answers (None ignored; ties go to the answer seen first)."""
    counts = Counter(a for a in answers if a is not None)
    if not counts:
        return False
    best = max(counts.values())
    winner = next(a for a in answers if a is not None and counts[a] == best)
    return winner == truth


def format_shares(texts: Sequence[str]) -> dict[str, float]:
    """Share of each solution format (classify_format) among `texts`, "other" included."""
    counts = Counter(classify_format(t) for t in texts)
    return {f: counts.get(f, 0) / max(1, len(texts)) for f in ALL_FORMATS}


def group_metrics(
    problems: Sequence[Problem], groups: Sequence[Sequence[str]], k: int
) -> dict[str, Any]:
    """pass@1, pass@k, majority@(all samples), distinct-output ratio, format shares and
    per-format accuracy, averaged over problems; `groups[i]` are the samples of problems[i]."""
    p1, pk, maj, distinct = [], [], [], []
    by_format: dict[str, list[float]] = {f: [] for f in ALL_FORMATS}
    for problem, texts in zip(problems, groups):
        answers = [extract_answer(t) for t in texts]
        correct = [a == problem.answer for a in answers]
        p1.append(sum(correct) / len(texts))
        pk.append(pass_at_k(len(texts), sum(correct), min(k, len(texts))))
        maj.append(float(majority_correct(answers, problem.answer)))
        distinct.append(len(set(texts)) / len(texts))
        for t, ok in zip(texts, correct):
            by_format[classify_format(t)].append(float(ok))
    flat = [t for texts in groups for t in texts]
    return {
        "pass@1": float(np.mean(p1)),
        f"pass@{k}": float(np.mean(pk)),
        "pass@k": float(np.mean(pk)),
        "majority@k": float(np.mean(maj)),
        "distinct": float(np.mean(distinct)),
        "shares": format_shares(flat),
        "accuracy_by_format": {f: (float(np.mean(v)) if v else None) for f, v in by_format.items()},
        "k": k,
    }


# ---- training loop ------------------------------------------------------------------------


@dataclass(frozen=True)
class RLConfig:
    """GRPO settings. An epoch is one pass over the RL prompt set."""

    epochs: float = 3.0
    prompts_per_step: int = 8
    group_size: int = 8
    lr: float = 1e-3
    kl_coef: float = 0.0
    # Dividing by the group std (original GRPO) made small toy models degenerate into
    # gibberish; without it (as in Dr. GRPO, Liu et al. 2025, arXiv 2503.20783) they stay stable.
    scale_by_std: bool = False
    temperature: float = 1.0
    max_new_tokens: int = 48
    eval_k: int = 16
    evals_per_epoch: int = 1
    collapse_threshold: float = 0.9
    seed: int = 0


@dataclass
class RLResult:
    """Per-step logs, periodic evaluations, and the collapse summary of one RL run."""

    config: dict[str, Any]
    steps_per_epoch: int
    steps: list[dict[str, Any]] = field(default_factory=list)
    evals: list[dict[str, Any]] = field(default_factory=list)

    def first_crossing(self, threshold: float | None = None) -> dict[str, Any] | None:
        """First step where one format's share of the training samples reaches `threshold`:
        {format, step, epoch_fraction}; None when it never does."""
        thr = self.config["collapse_threshold"] if threshold is None else threshold
        for row in self.steps:
            for fmt in FORMATS:
                if row["shares"][fmt] >= thr:
                    return {
                        "format": fmt,
                        "step": row["step"],
                        "epoch_fraction": row["step"] / self.steps_per_epoch,
                    }
        return None

    def eval_at_epoch(self, epoch: float) -> dict[str, Any]:
        """The evaluation closest to `epoch` (0 = before RL)."""
        return min(self.evals, key=lambda e: abs(e["epoch"] - epoch))

    def as_dict(self) -> dict[str, Any]:
        return {
            "config": self.config,
            "steps_per_epoch": self.steps_per_epoch,
            "steps": self.steps,
            "evals": self.evals,
            "first_crossing": self.first_crossing(),
        }


def rl_finetune(
    model: GPT,
    tokenizer: CharTokenizer,
    problems: Sequence[Problem],
    eval_problems: Sequence[Problem],
    config: RLConfig,
    reward: Reward = correctness_reward,
    log: Callable[[str], None] | None = None,
) -> RLResult:
    """Fine-tune `model` in place with GRPO on `problems`; evaluate on `eval_problems`.

    Deterministic for a fixed `config.seed`: prompt order, sampling and evaluation draw from
    seeded generators."""
    steps_per_epoch = max(1, len(problems) // config.prompts_per_step)
    total = max(1, round(config.epochs * steps_per_epoch))
    eval_every = max(1, steps_per_epoch // max(1, config.evals_per_epoch))
    result = RLResult(config=asdict(config), steps_per_epoch=steps_per_epoch)
    reference = _frozen_copy(model) if config.kl_coef > 0 else None
    opt = torch.optim.Adam(model.parameters(), lr=config.lr)
    gen = torch.Generator().manual_seed(config.seed)
    order = _prompt_order(len(problems), total * config.prompts_per_step, config.seed)
    result.evals.append(
        evaluate(model, tokenizer, eval_problems, config, step=0, steps_per_epoch=steps_per_epoch)
    )
    for step in range(total):
        batch = [
            problems[i]
            for i in order[step * config.prompts_per_step : (step + 1) * config.prompts_per_step]
        ]
        row = grpo_step(model, reference, opt, tokenizer, batch, config, reward, gen)
        row.update(step=step + 1, epoch=(step + 1) / steps_per_epoch)
        result.steps.append(row)
        if (step + 1) % eval_every == 0 or step + 1 == total:
            result.evals.append(
                evaluate(model, tokenizer, eval_problems, config, step + 1, steps_per_epoch)
            )
            if log:
                e = result.evals[-1]
                log(
                    f"  step {step + 1}/{total} pass@1 {e['pass@1']:.2f} shares "
                    + " ".join(f"{f}={e['shares'][f]:.2f}" for f in ALL_FORMATS)
                )
    model.eval()
    return result


def _frozen_copy(model: GPT) -> GPT:
    ref = copy.deepcopy(model)
    ref.eval()
    for p in ref.parameters():
        p.requires_grad_(False)
    return ref


def _prompt_order(n: int, needed: int, seed: int) -> list[int]:
    """Epoch-wise shuffles of range(n), concatenated until `needed` indices."""
    rng = random.Random(seed)
    order: list[int] = []
    while len(order) < needed:
        perm = list(range(n))
        rng.shuffle(perm)
        order.extend(perm)
    return order[:needed]


def grpo_step(
    model: GPT,
    reference: GPT | None,
    opt: torch.optim.Optimizer,
    tokenizer: CharTokenizer,
    batch: Sequence[Problem],
    config: RLConfig,
    reward: Reward,
    gen: torch.Generator,
) -> dict[str, Any]:
    """Sample G completions per prompt, score them, take one policy-gradient step; return logs."""
    G = config.group_size
    prompts = [[BOS] + tokenizer.encode(p.prompt) for p in batch for _ in range(G)]
    comps = generate_ids(model, prompts, config.temperature, config.max_new_tokens, gen)
    texts = [tokenizer.decode(c) for c in comps]
    rewards = torch.tensor(
        [reward(p, t) for p, t in zip((p for p in batch for _ in range(G)), texts)]
    )
    advantages = _group_advantages(rewards.view(len(batch), G), config.scale_by_std).reshape(-1)
    model.train()
    logp = completion_logprobs(model, prompts, comps)
    mask = completion_mask(comps)
    tokens = mask.sum().clamp(min=1.0)
    pg_loss = -(advantages[:, None] * logp * mask).sum() / tokens
    kl = torch.zeros(())
    if reference is not None:
        with torch.no_grad():
            ref_logp = completion_logprobs(reference, prompts, comps)
        diff = ref_logp - logp
        kl = ((torch.exp(diff) - diff - 1.0) * mask).sum() / tokens
    loss = pg_loss + config.kl_coef * kl
    opt.zero_grad(set_to_none=True)
    loss.backward()
    torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
    opt.step()
    model.eval()
    groups = [texts[i * G : (i + 1) * G] for i in range(len(batch))]
    metrics = group_metrics(batch, groups, k=G)
    return {
        "mean_reward": float(rewards.mean()),
        "pass@1": metrics["pass@1"],
        "pass@G": metrics["pass@k"],
        "majority@G": metrics["majority@k"],
        "distinct": metrics["distinct"],
        "shares": metrics["shares"],
        "kl": float(kl.detach()),
        "loss": float(loss.detach()),
    }


def _group_advantages(rewards: torch.Tensor, scale_by_std: bool) -> torch.Tensor:
    """GRPO advantages: reward minus its group's mean, optionally over the group's std."""
    centred = rewards - rewards.mean(dim=1, keepdim=True)
    if scale_by_std:
        centred = centred / (rewards.std(dim=1, keepdim=True, unbiased=False) + 1e-4)
    return centred


@torch.no_grad()
def evaluate(
    model: GPT,
    tokenizer: CharTokenizer,
    problems: Sequence[Problem],
    config: RLConfig,
    step: int,
    steps_per_epoch: int,
) -> dict[str, Any]:
    """eval_k samples per held-out problem at the training temperature; the same generator
    seed at every evaluation, so differences come from the model, not the draw."""
    gen = torch.Generator().manual_seed(10_007 + config.seed)
    k = config.eval_k
    prompts = [[BOS] + tokenizer.encode(p.prompt) for p in problems for _ in range(k)]
    texts = [
        tokenizer.decode(c)
        for c in generate_ids(model, prompts, config.temperature, config.max_new_tokens, gen)
    ]
    groups = [texts[i * k : (i + 1) * k] for i in range(len(problems))]
    metrics = group_metrics(problems, groups, k=k)
    metrics.update(step=step, epoch=step / steps_per_epoch, examples=[g[0] for g in groups[:3]])
    return metrics
