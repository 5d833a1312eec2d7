"""Models: one string names a model (`spec`), one contract (`Backend`), one way to open it.

    from homogeny import models
    with models.open("zoo:smollm2-135m", need="score") as backend:
        backend.score("The capital of France is", " Paris").logprobs

Specs: `zoo:ID` (or a bare zoo id), `gguf:PATH`, `hf:PATH`, `openai:URL#MODEL` (see spec.py).
Importing this package loads no backend library; each is imported when first opened.
"""

from __future__ import annotations

from homogeny.models.base import (
    CAPABILITIES,
    Backend,
    CapabilityError,
    Completion,
    ModelInfo,
    TokenScores,
)
from homogeny.models.params import SamplingParams
from homogeny.models.registry import close_all, load, loaded, open_backend
from homogeny.models.spec import ModelSpec, describe, model_info, parse_spec, redact

# `models.open(spec, need=...)`; left out of __all__ so `import *` never hides builtins.open
open = open_backend

__all__ = [
    "CAPABILITIES",
    "Backend",
    "CapabilityError",
    "Completion",
    "ModelInfo",
    "ModelSpec",
    "SamplingParams",
    "TokenScores",
    "close_all",
    "describe",
    "load",
    "loaded",
    "model_info",
    "open_backend",
    "parse_spec",
    "redact",
]
