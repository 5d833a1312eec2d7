"""The backend contract: a model that can generate samples, score texts, and show its insides.

Three methods, as lm-evaluation-harness's `LM` has three: `generate` (K sampled
continuations of one prompt), `hidden_states` (per-layer representations of texts) and
`info` (what the model is: id, sha256, params). A backend that cannot do one raises
NotImplementedError with a line saying which backend can.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Protocol

from homogeny.generate.params import SamplingParams
from homogeny.suites.prompt import Prompt


@dataclass
class Completion:
    """One sampled continuation: its text, tokens, per-token logprobs and top alternatives."""

    text: str
    token_ids: list[int] = field(default_factory=list)
    logprobs: list[float] = field(default_factory=list)
    top_logprobs: list[list[tuple[int | str, float]]] = field(default_factory=list)
    finish_reason: str = "stop"
    n_prompt_tokens: int = 0
    n_tokens: int = 0  # when the backend reports a count but not the ids (HTTP servers)
    seconds: float = 0.0
    entropies: list[float] = field(default_factory=list)  # per step, full distribution (nats)


@dataclass(frozen=True)
class ModelInfo:
    """What a model is: stable id, file sha256 (the cache key), backend and descriptive fields."""

    model_id: str
    sha256: str
    backend: str
    spec: str
    kind: str = "instruct"  # base | instruct
    params: int = 0
    family: str = ""
    extra: dict[str, Any] = field(default_factory=dict, compare=False, hash=False)


class Backend(Protocol):
    """A loaded model. Not thread-safe: one per process (or Ray actor)."""

    info: ModelInfo

    def generate(self, prompt: Prompt, params: SamplingParams, seeds: list[int]) -> list[Completion]:
        """Return len(seeds) samples of `prompt`, sample i drawn with seeds[i]."""
        ...

    def hidden_states(self, texts: list[str]) -> list[Any]:
        """Return, per text, an array (n_layers + 1, n_tokens, d) of hidden states."""
        ...

    def close(self) -> None: ...
