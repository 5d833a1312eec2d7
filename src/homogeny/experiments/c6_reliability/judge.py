"""Reading the judge: its verdict-letter distribution after "Best Response: [[", read once per
question through the backend's `score` (teacher forcing) and cached in the store."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Sequence
from typing import Any

import numpy as np

from homogeny.experiments.base import ExperimentContext
from homogeny.suites.prompt import Prompt

CLAIM = "c6"
# The paper's "temperature 0" is machine epsilon (its tables print 2.220446049250313e-16).
T_ZERO = float(np.finfo(float).eps)
TEMPERATURES = (1.0, 0.75, 0.5, 0.25, T_ZERO)
LETTERS = ("A", "B", "C", "D", "E")
NO_VERDICT_CODE = 6  # the paper's code for an output without a verdict (A-E are 1-5)
CACHE_ARTIFACT = "judge_distribution_cache"
CACHE_VERSION = "1"

Distributions = dict[str, dict[float, np.ndarray]]


def verdict_prefix() -> str:
    """The text that ends every judging prompt, so the next token is the verdict letter."""
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
    from homogeny.errors import ModelFileError

    prefix = verdict_prefix()
    base = backend.tokenize(prefix)
    ids: list[list[int]] = []
    for letter in LETTERS:
        found: list[int] = []
        for tail in (letter, letter + "]", letter + "]]"):
            full = backend.tokenize(prefix + tail)
            if full[: len(base)] != base or len(full) <= len(base) or full[len(base)] in found:
                continue
            first = full[len(base)]
            piece = backend.detokenize([first]).strip()
            if piece.startswith(letter) and set(piece[1:]) <= {"]"}:
                found.append(first)
        if not found:
            raise ModelFileError(
                f"{backend.info.model_id}: no single token for verdict letter {letter}; "
                "use another judge"
            )
        ids.append(found)
    return ids


def tempered_class_probs(
    logits: np.ndarray, letter_ids: Sequence[Sequence[int]], temperature: float
) -> np.ndarray:
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


def judge_distributions(
    ctx: ExperimentContext, judge: str, items: Sequence[Prompt], chat: bool
) -> tuple[Distributions, int]:
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
                    repr(t): tempered_class_probs(logits, letter_ids, t).tolist()
                    for t in TEMPERATURES
                }
                ctx.log(f"c6: read verdict distribution of {it.id} from {info.model_id}")
        ctx.artifact(CLAIM, CACHE_ARTIFACT, cache)
    out = {
        it.id: {t: np.asarray(cache[keys[it.id]][repr(t)]) for t in TEMPERATURES} for it in items
    }
    return out, len(missing)


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
        raise ParameterError(
            "c6 needs a local GGUF judge (zoo: or gguf: model) to read verdict probabilities; "
            "add one to --models"
        )
    return max(usable)[2]
