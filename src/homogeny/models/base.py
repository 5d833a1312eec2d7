"""The backend contract: a model that can generate samples, score texts, and show its insides.

Three methods, as lm-evaluation-harness's `LM` has three: `generate` (K sampled
continuations of one prompt), `score` (teacher-forced token log-probabilities of a
continuation given a context) and `hidden_states` (per-layer representations of texts),
plus `info` (what the model is) and `close()`. Each backend declares what it can do in
`capabilities`; asking for what it lacks raises CapabilityError, one line naming the backend
that can. Backends are opened with `homogeny.models.open(spec, need=...)`, never built here.
"""

from __future__ import annotations

import abc
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, ClassVar

from homogeny.errors import HomogenyError
from homogeny.models.params import SamplingParams
from homogeny.suites.prompt import Prompt

if TYPE_CHECKING:
    import numpy as np

CAPABILITIES = ("generate", "score", "hidden_states")
# Which backends have each capability, for the error raised by one that lacks it.
WHO_HAS = {
    "generate": "the llama.cpp backend (zoo:ID, gguf:PATH), the transformers backend on a "
    "model folder (hf:FOLDER) or an OpenAI-compatible server (openai:URL#MODEL)",
    "score": "the llama.cpp backend (zoo:ID or gguf:PATH)",
    "hidden_states": "the transformers backend (zoo:ID, gguf:PATH or hf:PATH)",
}

VERBS = {
    "generate": "generate text",
    "score": "score text (token log-probabilities)",
    "hidden_states": "give hidden states",
}


class CapabilityError(HomogenyError):
    """A backend was asked for something it cannot do (see WHO_HAS for who can)."""


def lacks(backend_name: str, need: str, model: str = "") -> CapabilityError:
    """The one-line error for `backend_name` lacking capability `need`."""
    about = f" ({model})" if model else ""
    return CapabilityError(
        f"the {backend_name} backend{about} cannot {VERBS[need]}; that needs {WHO_HAS[need]}"
    )


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


@dataclass
class TokenScores:
    """Teacher-forced scores of a continuation: its token ids and, per token, the natural-log
    probability of that token given the context and the tokens before it (float64). A token
    with nothing before it (an empty context on a model without BOS) is not scored.
    `next_logprobs`, when asked for, is the full next-token log distribution after the text."""

    tokens: list[int]
    logprobs: np.ndarray
    next_logprobs: np.ndarray | None = None

    @property
    def mean(self) -> float:
        """Mean log-probability per scored token (nan when none was scored)."""
        return float(self.logprobs.mean()) if len(self.logprobs) else float("nan")


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


# One request of a batch: a prompt and the seeds of the samples wanted from it.
Request = tuple[Prompt, list[int]]
# What generate_batch yields: (request index, positions in its seeds, samples or the error).
Result = tuple[int, list[int], "list[Completion] | Exception"]


class Backend(abc.ABC):
    """A loaded model. Not thread-safe unless it says so: one per process (or Ray actor)."""

    name: ClassVar[str] = "abstract"
    capabilities: ClassVar[frozenset[str]] = frozenset()
    info: ModelInfo

    def can(self, need: str) -> bool:
        """Whether this backend has capability `need` (generate, score, hidden_states)."""
        return need in self.capabilities

    def _lacks(self, need: str) -> CapabilityError:
        return lacks(self.name, need, getattr(getattr(self, "info", None), "spec", ""))

    def generate(
        self, prompt: Prompt, params: SamplingParams, seeds: list[int]
    ) -> list[Completion]:
        """Return len(seeds) samples of `prompt`, sample i drawn with seeds[i]."""
        raise self._lacks("generate")

    def generate_batch(
        self, requests: Sequence[Request], params: SamplingParams
    ) -> Iterator[Result]:
        """Yield (request index, positions in its seeds, those samples) as samples finish, in
        any order, so the caller can store them at once; samples that failed for good yield
        their exception instead. This default runs the requests one after another."""
        for i, (prompt, seeds) in enumerate(requests):
            yield i, list(range(len(seeds))), self.generate(prompt, params, seeds)

    def score(
        self,
        context: Prompt | str,
        continuation: str,
        *,
        chat: bool = False,
        next_token: bool = False,
    ) -> TokenScores:
        """Token log-probabilities of `continuation` after `context` (a Prompt rendered with
        the chat template when `chat`, or raw text), by teacher forcing; with `next_token`,
        also the full next-token distribution after the continuation."""
        raise self._lacks("score")

    def tokenize(self, text: str) -> list[int]:
        """Token ids of `text` as a continuation (no BOS, special tokens as plain text)."""
        raise self._lacks("score")

    def detokenize(self, ids: Sequence[int]) -> str:
        """The text of token ids."""
        raise self._lacks("score")

    def hidden_states(self, texts: list[str]) -> list[Any]:
        """Return, per text, an array (n_layers + 1, n_tokens, d) of hidden states."""
        raise self._lacks("hidden_states")

    @abc.abstractmethod
    def close(self) -> None:
        """Free the model (closing twice is harmless)."""
