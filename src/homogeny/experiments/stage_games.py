"""The two stage games behind the decomposition of claim T (see `homogeny.experiments.stages`).

Model game, on the named models: C(input, post-training, sampling) where
  input          users' own phrasings of a request (the six phrasings of a paraphrase family)
                 or the same phrasings rewritten toward frequent words (Lu et al. 2026)
  post-training  base models or post-trained (instruct) models among those named
  sampling       the full distribution at temperature 1, or greedy decoding
  model size     (only when every post-training side has models of two known sizes) the
                 side's smallest model, or its largest (Shypula et al. 2025, C3)
and C is the mean MiniLM cosine between answers of different users to the same request.
Toy game, on C2's toy GPTs of different sizes trained on one corpus: C(pretraining, RL,
sampling), C the character-level similarity of two models' answers to the same problem.
"""

from __future__ import annotations

import itertools
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from homogeny.experiments.c1_input import MAX_TOKENS
from homogeny.experiments.stages import (
    Decomposition,
    cross_source_similarity,
    decompose,
    mask_coalition,
    random_pair_similarity,
    text_similarity,
)

# ---- the game on real models: input x post-training x sampling ---------------------------

# Greedy outputs use C1's lengths (quick / full), so the engine's cache serves the greedy
# outputs C1 already made for the same phrasings and rewrites.
GREEDY_TOKENS = MAX_TOKENS
SAMPLED = {True: 1, False: 3}  # samples per phrasing at temperature 1 (quick / full)
QUICK_REQUESTS, FULL_REQUESTS = 3, 8  # open paraphrase families (requests)
FULL_DISTRIBUTION_TEMPERATURE = 1.0
TOY_PROBLEMS = {True: 12, False: 32}  # held-out toy problems measured (quick / full)
TOY_SAMPLES = {True: 4, False: 8}  # answers per problem and model at temperature 1


def request_users(quick: bool) -> dict[str, list[Any]]:
    """Open requests (paraphrase families), each with its six users' own phrasings, rare
    first; the quick set is the suite's quick open families (C1 uses the same ones)."""
    from homogeny.suites.catalog import paraphrase_families

    families = paraphrase_families(quick=quick)
    open_ = {n: g for n, g in families.items() if g[0].meta.get("kind") == "open"}
    return dict(list(open_.items())[: QUICK_REQUESTS if quick else FULL_REQUESTS])


def flattened_users(users: dict[str, list[Any]]) -> dict[str, list[Any]]:
    """Every user's phrasing rewritten toward frequent words (Lu et al. 2026, the C1 rewrite
    rule `rewrite_to_frequent`); ids follow C1's "<id>/rule"."""
    from homogeny.suites.frequency import rewrite_to_frequent
    from homogeny.suites.prompt import Prompt

    return {r: [Prompt(f"{p.id}/rule", rewrite_to_frequent(p.text), meta=p.meta) for p in group]
            for r, group in users.items()}


def _size(spec: str) -> int:
    from homogeny.models import model_info

    return int(model_info(spec).params or 0)


def model_groups(models: Sequence[str]) -> dict[bool, list[str]]:
    """Named models split by post-training: False = base models, True = instruct models."""
    from homogeny.models import model_info

    groups: dict[bool, list[str]] = {False: [], True: []}
    for spec in models:
        groups[model_info(spec).kind != "base"].append(spec)
    return groups


def sample_complete(ctx: Any, spec: str, prompts: list[Any], k: int, **params: Any) -> dict[str, list[dict[str, Any]]]:
    """ctx.sample, stopping with one clear line when a batch failed (a server error): the
    rerun resumes the missing samples."""
    from homogeny.experiments.c3_size import require_complete
    from homogeny.models import model_info

    rows: dict[str, list[dict[str, Any]]] = ctx.sample(spec, prompts, k, **params)
    require_complete(model_info(spec).model_id, rows, k)
    return rows


def sample_users(ctx: Any, spec: str, users: dict[str, list[Any]], greedy: bool) -> dict[str, list[list[str]]]:
    """Outputs of `spec` for every user's phrasing: [request][user] -> texts. Identical
    phrasings (two users whose rewrites coincide) are generated once and shared."""
    unique = {p.text: p for group in users.values() for p in group}
    quick = bool(ctx.quick)
    if greedy:
        rows = sample_complete(ctx, spec, list(unique.values()), 1, temperature=0.0, max_tokens=GREEDY_TOKENS[quick])
    else:
        rows = sample_complete(ctx, spec, list(unique.values()), SAMPLED[quick], temperature=FULL_DISTRIBUTION_TEMPERATURE,
                          max_tokens=GREEDY_TOKENS[quick])
    by_text = {text: [r["text"] for r in rows[p.id]] for text, p in unique.items()}
    return {r: [by_text[p.text] for p in group] for r, group in users.items()}


def per_request(ctx: Any, outputs: dict[str, list[list[str]]]) -> tuple[dict[str, float], dict[str, float]]:
    """(same-request cross-user similarity, random-pair similarity) per request, for one
    model's outputs [request][user] -> texts."""
    texts, reqs, users = [], [], []
    for r, per_user in outputs.items():
        for u, outs in enumerate(per_user):
            texts += outs
            reqs += [r] * len(outs)
            users += [u] * len(outs)
    emb = ctx.embed(texts)
    return cross_source_similarity(emb, reqs, users), random_pair_similarity(emb, reqs, users)  # type: ignore[return-value]


def cross_model(ctx: Any, outputs: dict[str, dict[str, list[list[str]]]]) -> tuple[dict[str, float], dict[str, float]]:
    """(same-request, different-request) similarity between outputs of different models, per
    request: the Hivemind comparison (Jiang et al. 2025). outputs: [model][request][user]."""
    texts, reqs, srcs = [], [], []
    for m, per_req in outputs.items():
        for r, per_user in per_req.items():
            for outs in per_user:
                texts += outs
                reqs += [r] * len(outs)
                srcs += [m] * len(outs)
    emb = ctx.embed(texts)
    return cross_source_similarity(emb, reqs, srcs), random_pair_similarity(emb, reqs, srcs)  # type: ignore[return-value]


@dataclass
class ModelGame:
    """The measured model game: its decomposition, and the cross-model comparison at default."""

    decomposition: Decomposition
    base_models: list[str]
    cross_model_same: dict[str, float]
    cross_model_other: dict[str, float]
    cross_by: str  # "model" (pairs from different models) or "user" (one model named)
    examples: list[dict[str, Any]]


def model_game(ctx: Any) -> ModelGame:
    """Measure C(input, post-training, sampling) on the named models (see module doc) and
    decompose it. A stage whose toggle the models cannot provide (no base model, or no
    instruct model) is left out of the game rather than guessed."""
    from homogeny.models import model_info

    users = request_users(ctx.quick)
    flat = flattened_users(users)
    groups = model_groups(ctx.models)
    players = []
    if any(a.text != b.text for r in users for a, b in zip(users[r], flat[r])):
        players.append("input")
    if groups[False] and groups[True]:
        players.append("post-training")
    players.append("sampling")
    sides = [groups[False], groups[True]] if "post-training" in players else [list(ctx.models)]
    if all(len({_size(s) for s in side if _size(s) > 0}) >= 2 for side in sides):
        players.append("model size")
    conv: dict[tuple[str, bool, bool], dict[str, float]] = {}
    chance: dict[str, dict[str, float]] = {}
    outputs: dict[str, dict[str, list[list[str]]]] = {}
    for spec in ctx.models:
        for flattened in ([False, True] if "input" in players else [False]):
            for greedy in (False, True):
                ctx.log(f"T: stage game {model_info(spec).model_id}: {'flattened' if flattened else 'own'} phrasings, "
                        f"{'greedy' if greedy else 'T=1'}")
                out = sample_users(ctx, spec, flat if flattened else users, greedy)
                conv[spec, flattened, greedy], other = per_request(ctx, out)
                if not flattened and not greedy:
                    chance[spec], outputs[spec] = other, out
    requests = list(users)
    m = len(players)
    values = np.zeros((len(requests), 1 << m))
    for mask in range(1 << m):
        on = mask_coalition(players, mask)
        specs = groups["post-training" in on] if "post-training" in players else list(ctx.models)
        if "model size" in players:  # off: the side's smallest model, on: its largest
            known = sorted((s for s in specs if _size(s) > 0), key=_size)
            specs = [known[-1] if "model size" in on else known[0]]
        for i, r in enumerate(requests):
            values[i, mask] = np.mean([conv[s, "input" in on, "sampling" in on][r] for s in specs])
    base_specs = groups[False] if "post-training" in players else list(ctx.models)
    if "model size" in players:
        base_specs = [min((s for s in base_specs if _size(s) > 0), key=_size)]
    baseline = np.array([np.mean([chance[s][r] for s in base_specs]) for r in requests])
    label = "pretraining (base level)" if "post-training" in players else "all-off level"
    decomposition = decompose(players, values, baseline, base_label=label, seed=ctx.seed)
    by = "model" if len(ctx.models) > 1 else "user"
    if by == "model":
        same, other = cross_model(ctx, {model_info(s).model_id: o for s, o in outputs.items()})
    else:
        same, other = conv[ctx.models[0], False, False], chance[ctx.models[0]]
    examples = [{"prompt": users[r][0].text,
                 "outputs": {model_info(s).model_id: outputs[s][r][0] for s in ctx.models}} for r in requests[:3]]
    return ModelGame(decomposition, [model_info(s).model_id for s in groups[False]], same, other, by, examples)


# ---- the game on toy models: pretraining x RL post-training x sampling ---------------------


def toy_models(ctx: Any) -> tuple[dict[str, list[Any]], list[str], Any]:
    """C2's toy GPTs of every size it trains (different shapes and initial weights, the same
    mixed-format corpus: independent models of one data distribution), untrained, pretrained,
    and after GRPO without KL (seed = the run seed). C2's checkpoints are reused when C2 ran
    against this store; what is missing is trained here with C2's settings and saved where C2
    keeps them. Returns (models by stage, sizes, C2's settings).

    RL from an untrained model is not run: it earns no reward, so every GRPO advantage is zero
    and the update changes nothing; that configuration is the untrained models."""
    from dataclasses import replace

    from homogeny.experiments import c2_training as c2
    from homogeny.toy import arithmetic as ar
    from homogeny.toy import gpt, rl

    s = c2.settings_for(ctx)
    tok = gpt.CharTokenizer(ar.ALPHABET)
    out: dict[str, list[Any]] = {"untrained": [], "pretrained": [], "rl": []}
    with c2._checkpoint_dir(ctx) as folder:
        rl_set = ar.make_problems(s.rl_prompts, seed=ctx.seed + 1, max_operand=s.max_operand)
        eval_set = ar.make_problems(s.eval_prompts, seed=ctx.seed + 2, max_operand=s.max_operand)
        for size in s.sizes:
            path, _, key = c2.pretrained(folder, tok, s, size, ctx.seed, ctx.log)
            rl_path = folder / f"rl-{size}-seed{ctx.seed}-kl0-{key}.safetensors"  # C2's name for this run
            if not rl_path.exists():
                ctx.log(f"T: RL of the {size} toy model (C2's settings, no KL)")
                model = gpt.load_checkpoint(path)
                rl.rl_finetune(model, tok, rl_set, eval_set, replace(s.rl, kl_coef=0.0, seed=ctx.seed))
                gpt.save_checkpoint(model, rl_path, tok)
            shape = gpt.GPTConfig(vocab_size=tok.vocab_size, block_size=s.block_size, init_seed=ctx.seed, **gpt.SIZES[size])
            out["untrained"].append(gpt.GPT(shape).eval())
            out["pretrained"].append(gpt.load_checkpoint(path))
            out["rl"].append(gpt.load_checkpoint(rl_path))
    return out, list(s.sizes), s


def toy_game(ctx: Any) -> tuple[Decomposition, dict[str, Any]]:
    """C(pretraining, RL, sampling) on C2's toy models: the mean similarity between two
    models' answers to the same held-out problem, over every pair of model sizes, against
    answers to different problems as the random-pair baseline. Also returns, per
    configuration, each model's share of solution formats (what converged)."""
    from homogeny.toy import arithmetic as ar
    from homogeny.toy import gpt
    from homogeny.toy.rl import format_shares

    models, sizes, s = toy_models(ctx)
    tok = gpt.CharTokenizer(ar.ALPHABET)
    problems = ar.make_problems(TOY_PROBLEMS[bool(ctx.quick)], seed=ctx.seed + 3, max_operand=s.max_operand)
    prompts = [p.prompt for p in problems]
    players = ["pretraining", "post-training (RL)", "sampling"]
    n, k_sampled = len(problems), TOY_SAMPLES[bool(ctx.quick)]
    values, baseline = np.zeros((n, 8)), np.zeros(n)
    formats: dict[str, Any] = {}
    for mask in range(8):
        on = mask_coalition(players, mask)
        stage = "untrained" if "pretraining" not in on else ("rl" if "post-training (RL)" in on else "pretrained")
        greedy = "sampling" in on
        k = 1 if greedy else k_sampled
        outs = [[t for group in gpt.sample(m, tok, prompts, n=k, temperature=0.0 if greedy else 1.0,
                                           max_new_tokens=s.rl.max_new_tokens, seed=ctx.seed + i) for t in group]
                for i, m in enumerate(models[stage])]
        same, other = np.zeros(n), np.zeros(n)
        pairs = list(itertools.combinations(range(len(outs)), 2))
        for a, b in pairs:
            block = text_similarity(outs[a], outs[b]).reshape(n, k, n, k).mean(axis=(1, 3))
            same += np.diag(block) / len(pairs)
            other += (block.sum(axis=1) - np.diag(block)) / (n - 1) / len(pairs)
        values[:, mask] = same
        if mask == 0:
            baseline = other
        label = ", ".join(f"{p} {'on' if p in on else 'off'}" for p in players)
        formats[label] = dict(zip(sizes, (format_shares(o) for o in outs)))
    return decompose(players, values, baseline, base_label="untrained level", seed=ctx.seed), formats
