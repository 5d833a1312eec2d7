"""Quality measures for the counter-pressures (claim T): a simple judge, answer checks, and a
fixed reference model's log-probability of an answer.

The judge follows what diversity studies use as a cheap utility filter (NoveltyBench counts
only answers that pass a quality bar; Zhang et al. 2025 check coherence): an answer counts
when it has words, stays on topic (cosine to its request, all-MiniLM-L6-v2) and is not a
degenerate loop (gzip compression ratio, Shaib et al. 2024). The reference log-probability is
teacher-forced through llama.cpp on one fixed model, so costs compare across settings and runs.
"""

from __future__ import annotations

import os
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
    model, by teacher forcing in llama.cpp (one forward pass; the request's prefix is decoded
    once per request and reused)."""

    def __init__(self, spec: str, n_ctx: int = 1024) -> None:
        from llama_cpp import Llama

        from homogeny.models import parse_spec
        from homogeny.models.loaders import gguf_path_and_info

        self.spec = spec
        path = gguf_path_and_info(parse_spec(spec))[0]
        self.llm = Llama(model_path=str(path), n_ctx=n_ctx, n_batch=256, logits_all=True,
                         n_threads=max(1, os.cpu_count() or 1), verbose=False)
        self._prefix: tuple[str, int] = ("", 0)

    def render(self, request: str) -> list[int]:
        """The request as the reference model's prompt (its chat template when it has one),
        rendered by the generation backend so scoring sees what generation would."""
        from homogeny.models import load_backend

        backend = load_backend(self.spec)  # shared and cached by the engine; never closed here
        return list(backend.render(Prompt("reference", request), chat=bool(backend.chat_template())))

    def score(self, request: str, answer: str) -> float | None:
        """Mean natural-log probability per answer token; None for an empty answer."""
        ids = self.llm.tokenize(answer.encode("utf-8"), add_bos=False, special=False)
        if not ids:
            return None
        if self._prefix[0] != request:
            prompt = self.render(request)
            self.llm.reset()
            self.llm.eval(prompt)
            self._prefix = (request, len(prompt))
        n = self._prefix[1]
        ids = ids[: self.llm.n_ctx() - n - 1]
        self.llm.n_tokens = n
        self.llm.eval(ids)
        logits = np.asarray(self.llm.scores[n - 1 : n - 1 + len(ids)], dtype=np.float64)
        top = logits.max(axis=1, keepdims=True)
        logz = top[:, 0] + np.log(np.exp(logits - top).sum(axis=1))
        return float(np.mean(logits[np.arange(len(ids)), ids] - logz))

    def close(self) -> None:
        self.llm.close()


def reference_spec(models: Sequence[str]) -> str | None:
    """The reference model: zoo:smollm2-135m when installed (fixed, so costs compare across
    audits), else the smallest named local model; None when only servers are named."""
    from homogeny.generate.engine import model_info
    from homogeny.models import zoo

    if zoo.is_installed(REFERENCE_MODEL.removeprefix("zoo:")):
        return REFERENCE_MODEL
    local = [m for m in models if model_info(m).backend == "llamacpp"]
    return min(local, key=lambda m: model_info(m).params or 0) if local else None
