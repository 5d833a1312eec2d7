"""Sampling parameters, every one explicit and range-checked (llama.cpp's defaults truncate)."""

from __future__ import annotations

import json
import math
from dataclasses import asdict, dataclass

from homogeny.errors import ParameterError


@dataclass(frozen=True)
class SamplingParams:
    """Everything that shapes a sample besides the seed. All of it enters the sample key.

    temperature 0 means greedy decoding. top_k 0 means no top-k cut. `chat` chooses the
    model's chat template (True) or raw completion (False).
    """

    temperature: float = 1.0
    top_p: float = 1.0
    min_p: float = 0.0
    top_k: int = 0
    max_tokens: int = 128
    chat: bool | None = None  # None: the chat template for instruct models, raw text for base
    stop: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        check_range("temperature", self.temperature, 0.0, 5.0)
        check_range("top-p", self.top_p, 0.0, 1.0, low_open=True)
        check_range("min-p", self.min_p, 0.0, 1.0, high_open=True)
        check_range("top-k", self.top_k, 0, 1_000_000)
        check_range("max-tokens", self.max_tokens, 1, 32_768)

    def resolved(self, kind: str) -> SamplingParams:
        """These parameters with `chat` decided for a model of `kind` (base | instruct)."""
        if self.chat is not None:
            return self
        from dataclasses import replace

        return replace(self, chat=kind != "base")

    def canonical(self) -> str:
        """Canonical JSON of the parameters, part of each sample's key."""
        d = asdict(self)
        d["stop"] = list(self.stop)
        return json.dumps(d, sort_keys=True)


def check_range(
    name: str,
    value: float,
    low: float,
    high: float,
    low_open: bool = False,
    high_open: bool = False,
) -> None:
    """Raise ParameterError (one line, naming the parameter and its range) when out of range."""
    ok_low = value > low if low_open else value >= low
    ok_high = value < high if high_open else value <= high
    if not (ok_low and ok_high) or math.isnan(value):
        lo = "(" if low_open else "["
        hi = ")" if high_open else "]"
        raise ParameterError(
            f"--{name} {value} is out of range; it must be in {lo}{low:g}, {high:g}{hi}"
        )
