"""Content keys: a sample is identified by what determines it, so it is never made twice."""

from __future__ import annotations

import hashlib
import json

from homogeny.models.params import SamplingParams
from homogeny.suites.prompt import Prompt


def sample_seed(run_seed: int, model_sha256: str, prompt_hash: str, index: int) -> int:
    """The seed of sample `index`: derived from (run seed, model, prompt, index), 60 bits.

    llama.cpp silently replaces seed 0 and chains unseeded calls; deriving and storing every
    seed makes each sample reproducible on its own."""
    payload = f"{run_seed}|{model_sha256}|{prompt_hash}|{index}".encode()
    return int(hashlib.sha256(payload).hexdigest()[:15], 16)


def sample_key(model_sha256: str, prompt: Prompt, params: SamplingParams, seed: int) -> str:
    """The sample's key: sha256 of (model file sha256, prompt, sampling params, seed)."""
    payload = json.dumps(
        [model_sha256, prompt.canonical(), params.canonical(), seed], ensure_ascii=False
    )
    return hashlib.sha256(payload.encode("utf-8")).hexdigest()
