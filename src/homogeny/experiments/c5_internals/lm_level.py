"""C5's language-model levels: tiny GPTs trained here, then (with models named) real models.

Each compares two independently trained models with a weight-noised copy of the first, on the
prompts where all three give the same greedy answer (representation.py).
"""

from __future__ import annotations

import copy
from contextlib import ExitStack
from typing import Any

import numpy as np

from homogeny.errors import HomogenyError
from homogeny.experiments.base import Evidence, ExperimentContext
from homogeny.experiments.c5_internals.representation import (
    comparison_rows,
    ladder_plot,
    matched_agreement_comparison,
)
from homogeny.toy.checkpoints import checkpoint_folder

CLAIM = "c5"


def toy_lm_rows(ctx: ExperimentContext, plan: Any) -> list[Evidence]:
    """Two tiny GPTs trained with different seeds on the same addition data, against a
    weight-noised copy of the first: representation similarity on output-identical prompts."""
    from homogeny.toy import arithmetic

    problems = arithmetic.addition_problems(plan.lm_test, seed=10_000 + ctx.seed, digits=2)
    test = [p.prompt for p in problems]
    ctx.log(f"c5: training two {plan.lm_size} GPTs on addition ({plan.lm_steps} steps each)")
    (model_a, tok), (model_b, _) = (_addition_lm(plan, ctx.seed + i) for i in range(2))
    folder = checkpoint_folder(ctx, CLAIM) if plan.checkpoints else None
    if folder:
        from homogeny.toy.gpt import save_checkpoint

        for seed, model in ((ctx.seed, model_a), (ctx.seed + 1, model_b)):
            save_checkpoint(model, folder / f"addition_lm_seed{seed}.safetensors", tok)
    out_a, out_b = _toy_greedy(model_a, tok, test), _toy_greedy(model_b, tok, test)
    st_a, st_b = _toy_states(model_a, tok, test), _toy_states(model_b, tok, test)
    ladder = []
    for i, scale in enumerate(plan.noise_scales):
        noisy = noised_copy(model_a, scale, ctx.seed + 100 + i)
        ladder.append((scale, _toy_greedy(noisy, tok, test), _toy_states(noisy, tok, test)))
    result = matched_agreement_comparison(out_a, st_a, out_b, st_b, ladder, ctx.seed)
    result["accuracy"] = [
        float(np.mean([o == str(prompt_sum(p)) for o, p in zip(out, test)]))
        for out in (out_a, out_b)
    ]
    ctx.artifact(CLAIM, "toy_lm_output_vs_representation", ladder_plot(result, "toy GPT"))
    subject = f"toy GPT seeds {ctx.seed} and {ctx.seed + 1}"
    return comparison_rows(ctx, result, "toy_lm", subject)


def real_model_rows(ctx: ExperimentContext, plan: Any) -> list[Evidence]:
    """The same comparison on the first two named models (hidden states through
    homogeny.models.open(..., need="hidden_states"), the backend's weight noise). Nothing when
    fewer than two models are named or a backend cannot give hidden states."""
    if len(ctx.models) < 2:
        ctx.log("c5: real-model level needs two named models; skipped")
        return []
    from homogeny import models

    prompts = counting_prompts(plan.real_prompts, ctx.seed)
    with ExitStack() as stack:
        try:
            first, second = (
                stack.enter_context(models.open(m, need="hidden_states")) for m in ctx.models[:2]
            )
        except (HomogenyError, OSError, ImportError) as exc:
            ctx.log(f"c5: real-model level skipped ({str(exc).splitlines()[0]})")
            return []
        if not all(hasattr(first, m) for m in ("greedy", "perturbed")):
            ctx.log(
                "c5: real-model level skipped (the backend cannot decode greedily or add "
                "weight noise)"
            )
            return []
        out_a, st_a = _real_greedy(first, prompts), _real_states(first, prompts)
        ladder = []
        for i, scale in enumerate(plan.real_noise_scales):
            with first.perturbed(scale, seed=ctx.seed + 100 + i):
                ladder.append((scale, _real_greedy(first, prompts), _real_states(first, prompts)))
        out_b, st_b = _real_greedy(second, prompts), _real_states(second, prompts)
    result = matched_agreement_comparison(out_a, st_a, out_b, st_b, ladder, ctx.seed)
    ctx.artifact(CLAIM, "real_output_vs_representation", ladder_plot(result, ctx.models[0]))
    pair = tuple(ctx.models[:2])
    return comparison_rows(ctx, result, "real", subject=" vs ".join(pair), models=pair)


def prompt_sum(prompt: str) -> int:
    """The true sum of an "a+b=" prompt (parsed, never evaluated as code)."""
    a, b = prompt.rstrip("=").split("+")
    return int(a) + int(b)


def _addition_lm(plan: Any, seed: int) -> tuple[Any, Any]:
    from homogeny.toy import arithmetic, gpt

    # the same training data for every seed
    problems = arithmetic.addition_problems(plan.lm_train, seed=1, digits=2)
    texts = [p.prompt + arithmetic.format_addition(p, "direct") for p in problems]
    tok = gpt.CharTokenizer("0123456789+=")
    config = gpt.GPTConfig(
        vocab_size=tok.vocab_size, block_size=16, init_seed=seed, **gpt.SIZES[plan.lm_size]
    )
    model = gpt.GPT(config)
    gpt.train_lm(
        model, tok, texts, steps=plan.lm_steps, batch_size=plan.lm_batch, lr=plan.lm_lr, seed=seed
    )
    return model, tok


def _toy_greedy(model: Any, tok: Any, prompts: list[str]) -> list[str]:
    from homogeny.toy import gpt

    outs = gpt.sample(model, tok, prompts, n=1, temperature=0.0, max_new_tokens=6)
    return [o[0] for o in outs]


def _toy_states(model: Any, tok: Any, prompts: list[str]) -> list[np.ndarray]:
    """Per block: (n_prompts, d) residual stream at each prompt's last token (the '=')."""
    import torch

    ids = [[1] + tok.encode(p) for p in prompts]  # BOS + prompt
    batch = torch.zeros((len(ids), max(len(i) for i in ids)), dtype=torch.long)
    for r, seq in enumerate(ids):
        batch[r, : len(seq)] = torch.tensor(seq)  # right padding: causal attention never sees it
    last = torch.tensor([len(i) - 1 for i in ids])
    states = model.hidden_states(batch)[1:]
    return [h[torch.arange(len(ids)), last].double().numpy() for h in states]


def noised_copy(model: Any, scale: float, seed: int) -> Any:
    """A copy of `model` with Gaussian noise of std scale x (each tensor's std) on every weight,
    as the transformers backend's `perturbed` does."""
    import torch

    noisy = copy.deepcopy(model)
    gen = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for p in noisy.parameters():
            if p.numel() > 1:
                p.add_(torch.randn(p.shape, generator=gen) * float(p.std()) * scale)
    return noisy


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
    """Per layer (embeddings excluded): (n_prompts, d) hidden state at each prompt's last
    token."""
    per_text = backend.hidden_states(prompts)
    layers = range(1, per_text[0].shape[0])
    return [np.stack([h[layer, -1] for h in per_text]).astype(np.float64) for layer in layers]
