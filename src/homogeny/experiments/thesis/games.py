"""The model game behind claim T's decomposition: players that are interventions on the same
weights (see `stages` for the Shapley values).

  input     users' own phrasings of a request (the six phrasings of a paraphrase family), or
            the same phrasings rewritten toward frequent words (Lu et al. 2026, C1's rule)
  format    the raw prompt, or the same prompt through the model's chat template
  sampling  the full distribution at temperature 1, or greedy decoding
  weights   (only with a declared same-checkpoint pair, plan.pair) the base weights, or the
            post-trained weights of the same checkpoint
C is the mean MiniLM cosine between answers of different users to the same request, on the
instruct models named (or the pair). Role markers alone (a bare "User:/Assistant:" frame on
the raw model) are a third format level, reported beside the game. Pretraining is not a
toggle: the base models' convergence at the all-off setting is reported as the level
convergence starts from, against the random different-prompt floor and against the model's
own resampling of one phrasing.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from homogeny.experiments.presets import INPUT_MAX_TOKENS, require_complete
from homogeny.experiments.thesis.plan import ThesisPlan
from homogeny.experiments.thesis.stages import (
    Decomposition,
    cross_source_similarity,
    decompose,
    mask_coalition,
    random_pair_similarity,
)

FULL_DISTRIBUTION_TEMPERATURE = 1.0
ROLE_FRAME = "User: {text}\nAssistant:"
# What a user would run to identify the weights player (named in the not-identified row).
EXAMPLE_PAIR = "openai:Qwen/Qwen2.5-7B@http://localhost:8000/v1,openai:Qwen/Qwen2.5-7B-Instruct@..."
Outputs = dict[str, list[list[str]]]  # [request][user] -> texts


def request_users(quick: bool, plan: ThesisPlan) -> dict[str, list[Any]]:
    """Open requests (paraphrase families), each with its six users' own phrasings, rare
    first; the quick set is the suite's quick open families (C1 uses the same ones)."""
    from homogeny.suites.catalog import paraphrase_families

    families = paraphrase_families(quick=quick)
    open_ = {n: g for n, g in families.items() if g[0].meta.get("kind") == "open"}
    return dict(list(open_.items())[: plan.requests])


def flattened_users(users: dict[str, list[Any]]) -> dict[str, list[Any]]:
    """Every user's phrasing rewritten toward frequent words (Lu et al. 2026, the C1 rewrite
    rule `rewrite_to_frequent`); ids follow C1's "<id>/rule"."""
    from homogeny.suites.frequency import rewrite_to_frequent
    from homogeny.suites.prompt import Prompt

    return {
        r: [Prompt(f"{p.id}/rule", rewrite_to_frequent(p.text), meta=p.meta) for p in group]
        for r, group in users.items()
    }


def framed_users(users: dict[str, list[Any]]) -> dict[str, list[Any]]:
    """Every phrasing inside a bare role-marker frame ("User: ...\\nAssistant:")."""
    from homogeny.suites.prompt import Prompt

    return {
        r: [Prompt(f"{p.id}/roles", ROLE_FRAME.format(text=p.text), meta=p.meta) for p in group]
        for r, group in users.items()
    }


def sample_users(
    ctx: Any,
    spec: str,
    users: dict[str, list[Any]],
    setting: tuple[bool, bool | None],
    plan: ThesisPlan,
) -> Outputs:
    """Outputs of `spec` for every user's phrasing under (greedy, chat). Identical phrasings
    (two users whose rewrites coincide) are generated once and shared. Greedy outputs use
    C1's lengths (presets.INPUT_MAX_TOKENS), so the cache serves the outputs C1 made."""
    from homogeny.models import model_info

    greedy, chat = setting  # chat None: the model's default (template for instruct models)
    unique = {p.text: p for group in users.values() for p in group}
    k = 1 if greedy else plan.sampled
    temperature = 0.0 if greedy else FULL_DISTRIBUTION_TEMPERATURE
    params = {"temperature": temperature, "max_tokens": INPUT_MAX_TOKENS[bool(ctx.quick)]}
    if chat is not None:
        params["chat"] = chat
    rows = ctx.sample(spec, list(unique.values()), k, **params)
    require_complete(model_info(spec).model_id, rows, k)
    by_text = {text: [r["text"] for r in rows[p.id]] for text, p in unique.items()}
    return {r: [by_text[p.text] for p in group] for r, group in users.items()}


def _flatten(outputs: dict[str, Outputs]) -> tuple[list[str], list[str], list[str]]:
    texts, reqs, srcs = [], [], []
    for source, per_req in outputs.items():
        for r, per_user in per_req.items():
            for u, outs in enumerate(per_user):
                texts += outs
                reqs += [r] * len(outs)
                srcs += [f"{source}/{u}"] * len(outs)
    return texts, reqs, srcs


def per_request(ctx: Any, outputs: Outputs) -> tuple[dict[str, float], dict[str, float]]:
    """(same-request cross-user similarity, random different-request floor) per request."""
    texts, reqs, users = _flatten({"m": outputs})
    emb = ctx.embed(texts)
    return cross_source_similarity(emb, reqs, users), random_pair_similarity(emb, reqs, users)  # type: ignore[return-value]


def resample_similarity(ctx: Any, outputs: Outputs) -> dict[str, float]:
    """Per request, the mean similarity of one model's samples for the SAME phrasing (its
    own resampling); empty when each phrasing has one sample."""
    out: dict[str, float] = {}
    for r, per_user in outputs.items():
        sims = []
        for outs in per_user:
            if len(outs) > 1:
                x = np.asarray(ctx.embed(outs), dtype=float)
                x /= np.maximum(np.linalg.norm(x, axis=1, keepdims=True), 1e-12)
                s = x @ x.T
                sims.append(float(s[~np.eye(len(outs), dtype=bool)].mean()))
        if sims:
            out[r] = float(np.mean(sims))
    return out


def cross_model(ctx: Any, outputs: dict[str, Outputs]) -> tuple[dict[str, float], dict[str, float]]:
    """(same-request, different-request) similarity between outputs of different models, per
    request: the Hivemind comparison (Jiang et al. 2025). outputs: [model][request][user]."""
    texts, reqs, srcs = _flatten(outputs)
    models = [s.rsplit("/", 1)[0] for s in srcs]
    emb = ctx.embed(texts)
    return cross_source_similarity(emb, reqs, models), random_pair_similarity(emb, reqs, models)  # type: ignore[return-value]


@dataclass
class ModelGame:
    """The measured model game: players, per-request values of every coalition, the floor,
    the pretraining level of the base models, and the cross-model comparison at default."""

    players: list[str]
    requests: list[str]
    values: np.ndarray  # (requests, 2^players)
    decomposition: Decomposition
    game_models: list[str]
    base_models: list[str]
    weights_pair: tuple[str, str] | None
    base_level: dict[str, dict[str, float]] = field(default_factory=dict)
    role_markers: dict[str, float] = field(default_factory=dict)  # per request, frame - raw
    cross_same: dict[str, float] = field(default_factory=dict)
    cross_other: dict[str, float] = field(default_factory=dict)
    cross_by: str = "model"
    examples: list[dict[str, Any]] = field(default_factory=list)


def game_models(models: Sequence[str], plan: ThesisPlan) -> tuple[list[str], list[str]]:
    """(models in the game, base models whose level is reported). With a declared pair the
    game is the pair (weights player); else the instruct models named (all when none is),
    the smallest `plan.game_models` of them when that is set."""
    from homogeny.models import model_info

    if plan.pair_specs:
        return list(plan.pair_specs), [plan.pair_specs[0]]
    base = [m for m in models if model_info(m).kind == "base"]
    tuned = [m for m in models if model_info(m).kind != "base"] or list(models)
    if plan.game_models > 0:
        tuned = sorted(tuned, key=lambda m: model_info(m).params or 0)[: plan.game_models]
    return tuned, base


def choose_players(
    ctx: Any, users: dict, flat: dict, specs: list[str], plan: ThesisPlan
) -> list[str]:
    """The players this run can toggle on the same weights (see module doc)."""
    from homogeny.models import model_info

    players = []
    if any(a.text != b.text for r in users for a, b in zip(users[r], flat[r])):
        players.append("input")
    if plan.raw_format and all(model_info(s).kind != "base" for s in specs[-1:]):
        players.append("format")
    players.append("sampling")
    if plan.pair_specs:
        players.append("weights")
    return players


def model_game(ctx: Any, plan: ThesisPlan) -> ModelGame:
    """Measure C over every coalition of the players on the game's models and decompose it;
    then the base models' level and the role-marker level (see module doc)."""
    from homogeny.models import model_info

    users = request_users(ctx.quick, plan)
    flat = flattened_users(users)
    specs, bases = game_models(ctx.models, plan)
    players = choose_players(ctx, users, flat, specs, plan)
    conv, floor, defaults = {}, {}, {}
    default_chat = True if "format" in players else None
    for key in _configs(players, specs):
        spec, flattened, chat, greedy = key
        ctx.log(
            f"T: stage game {model_info(spec).model_id}: "
            f"{'flattened' if flattened else 'own'} phrasings, {'chat' if chat else 'raw'}, "
            f"{'greedy' if greedy else 'T=1'}"
        )
        out = sample_users(ctx, spec, flat if flattened else users, (greedy, chat), plan)
        conv[key], floor[key] = per_request(ctx, out)
        if not flattened and not greedy and chat == default_chat:
            defaults[spec] = out
    requests = list(users)
    values = _game_values(players, specs, conv, requests)
    off = [k for k in conv if not any(k[1:])]  # own phrasings, raw or default, T=1
    baseline = np.array([np.mean([floor[k][r] for k in off]) for r in requests])
    decomposition = decompose(players, values, baseline, base_label="all-off level", seed=ctx.seed)
    game = ModelGame(
        players,
        requests,
        values,
        decomposition,
        [model_info(s).model_id for s in specs],
        [model_info(s).model_id for s in bases],
        plan.pair_specs,
    )
    game.base_level = base_level(ctx, bases, users, plan)
    if plan.role_markers and "format" in players:
        game.role_markers = role_marker_effect(ctx, specs, users, conv, plan)
    _cross(ctx, game, defaults, conv, floor, specs)
    game.examples = [
        {
            "prompt": users[r][0].text,
            "outputs": {model_info(s).model_id: defaults[s][r][0] for s in defaults},
        }
        for r in requests[:3]
    ]
    return game


def _configs(players: list[str], specs: list[str]) -> list[tuple[str, bool, bool | None, bool]]:
    """(spec, flattened, chat, greedy) of every configuration the game needs (chat None: the
    model's default, when format is not a player)."""
    out = []
    for spec in specs:
        for flattened in [False, True] if "input" in players else [False]:
            for chat in [False, True] if "format" in players else [None]:
                for greedy in (False, True):
                    out.append((spec, flattened, chat, greedy))
    return out


def _game_values(
    players: list[str], specs: list[str], conv: dict, requests: list[str]
) -> np.ndarray:
    m = len(players)
    values = np.zeros((len(requests), 1 << m))
    for mask in range(1 << m):
        on = mask_coalition(players, mask)
        chosen = [specs[1 if "weights" in on else 0]] if "weights" in players else specs
        chat = ("format" in on) if "format" in players else None
        keys = [(s, "input" in on, chat, "sampling" in on) for s in chosen]
        for i, r in enumerate(requests):
            values[i, mask] = np.mean([conv[k][r] for k in keys])
    return values


def base_level(
    ctx: Any, bases: list[str], users: dict, plan: ThesisPlan
) -> dict[str, dict[str, float]]:
    """Per base model and request: its cross-user similarity at the all-off setting (own
    phrasings, raw prompt, temperature 1), the random different-prompt floor, and its own
    resampling of one phrasing (when plan.sampled >= 2)."""
    from homogeny.models import model_info

    out: dict[str, dict[str, float]] = {}
    same: list[dict[str, float]] = []
    other: list[dict[str, float]] = []
    resample: list[dict[str, float]] = []
    for spec in bases:
        ctx.log(f"T: pretraining level of {model_info(spec).model_id}")
        outs = sample_users(ctx, spec, users, (False, None), plan)
        s, o = per_request(ctx, outs)
        same.append(s)
        other.append(o)
        resample.append(resample_similarity(ctx, outs))
    for r in users:
        if not same:
            break
        out[r] = {
            "same": float(np.mean([s[r] for s in same])),
            "floor": float(np.mean([o[r] for o in other])),
        }
        if all(r in x for x in resample):
            out[r]["resample"] = float(np.mean([x[r] for x in resample]))
    return out


def role_marker_effect(
    ctx: Any, specs: list[str], users: dict, conv: dict, plan: ThesisPlan
) -> dict[str, float]:
    """Per request: cross-user similarity with a bare role-marker frame on the raw prompt minus
    the raw prompt alone (own phrasings, temperature 1), averaged over the game's models."""
    framed = framed_users(users)
    per: list[dict[str, float]] = []
    for spec in specs:
        same, _ = per_request(ctx, sample_users(ctx, spec, framed, (False, False), plan))
        raw = conv[spec, False, False, False]
        per.append({r: same[r] - raw[r] for r in users if r in same and r in raw})
    return {r: float(np.mean([p[r] for p in per])) for r in users if all(r in p for p in per)}


def _cross(ctx: Any, game: ModelGame, defaults: dict, conv: dict, floor: dict, specs: list) -> None:
    from homogeny.models import model_info

    if len(defaults) > 1:
        game.cross_by = "model"
        game.cross_same, game.cross_other = cross_model(
            ctx, {model_info(s).model_id: o for s, o in defaults.items()}
        )
    else:
        chat = True if "format" in game.players else None
        key = (specs[0], False, chat, False)
        game.cross_by, game.cross_same, game.cross_other = "user", conv[key], floor[key]
