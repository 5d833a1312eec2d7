"""Quality measures for the counter-pressures (claim T): a simple judge, answer checks, and a
fixed reference model's log-probability of an answer.

The judge follows what diversity studies use as a cheap utility filter (NoveltyBench counts
only answers that pass a quality bar; Zhang et al. 2025 check coherence): an answer counts
when it has words, stays on topic (cosine to its request, all-MiniLM-L6-v2) and is not a
degenerate loop (gzip compression ratio, Shaib et al. 2024). The reference log-probability is
teacher-forced through llama.cpp on one fixed model, so costs compare across settings and runs.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

import numpy as np

from homogeny.suites.prompt import Prompt

# Cosine between an output and its request (all-MiniLM-L6-v2) below which the output is off
# topic; unrelated sentence pairs score around 0.0-0.1 with this model.
ON_TOPIC_THRESHOLD = 0.15
# gzip compression ratio of one output above which it counts as degenerate (a loop of the
# same words); ordinary prose of this length stays well under 2.
DEGENERATE_RATIO = 2.5
MIN_WORDS = 2
REFERENCE_MODEL = "zoo:smollm2-135m"


def diversity(embeddings: np.ndarray) -> float:
    """1 - mean pairwise cosine similarity (ordered pairs i != j) of one prompt's outputs."""
    from homogeny.metrics.semantic import mean_pairwise_similarity

    return 1.0 - mean_pairwise_similarity(embeddings)


def acceptable(text: str, on_topic_similarity: float) -> bool:
    """The simple judge: the output has words, stays on topic (cosine to its request at least
    ON_TOPIC_THRESHOLD) and is not a degenerate loop (gzip ratio at most DEGENERATE_RATIO)."""
    from homogeny.metrics.lexical import compression_ratio

    if len(re.findall(r"\w+", text)) < MIN_WORDS:
        return False
    if on_topic_similarity < ON_TOPIC_THRESHOLD:
        return False
    return compression_ratio([text], digits=None) <= DEGENERATE_RATIO


def answer_correct(text: str, answer: str, aliases: Sequence[str] = ()) -> bool:
    """Whether the output states the expected answer (or an alias) as a whole word, any case."""
    for a in (answer, *aliases):
        a = str(a).strip()
        if a and re.search(rf"(?<![\w.]){re.escape(a)}(?![\w])", text, re.IGNORECASE):
            return True
    return False


class ReferenceScorer:
    """Mean token log-probability of an answer given its plain request under a fixed reference
    model, by teacher forcing (`Backend.score`; the request rendered with the model's chat
    template when it has one, as generation would see it)."""

    def __init__(self, spec: str) -> None:
        from homogeny import models

        self.spec = spec
        self._opened = models.open(spec, need="score")
        self.backend = self._opened.__enter__()

    def score(self, request: str, answer: str) -> float | None:
        """Mean natural-log probability per answer token; None for an empty answer."""
        scores = self.backend.score(Prompt("reference", request), answer, chat=True)
        return scores.mean if scores.tokens else None

    def close(self) -> None:
        """Let the reference model go (the registry may keep it loaded for reuse)."""
        self._opened.__exit__(None, None, None)


def reference_spec(models: Sequence[str]) -> str | None:
    """The reference model: zoo:smollm2-135m when installed (fixed, so costs compare across
    audits), else the smallest named local model; None when only servers are named."""
    from homogeny.models import model_info
    from homogeny.models import zoo

    if zoo.is_installed(REFERENCE_MODEL.removeprefix("zoo:")):
        return REFERENCE_MODEL
    local = [m for m in models if model_info(m).backend == "llamacpp"]
    return min(local, key=lambda m: model_info(m).params or 0) if local else None
