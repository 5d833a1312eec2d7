"""Sampling presets several studies share, by name, so their samples hit one cache.

A sample's key includes every sampling parameter, so two studies reuse each other's samples
only when they ask with exactly the same settings. Those settings live here rather than in
one claim module imported by another. Published measurement protocols (`Protocol`, by name in
`PROTOCOLS`; `--protocol srt`) live here too, with the figures their study published as data.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from types import MappingProxyType
from typing import Any

from homogeny.errors import HomogenyError


def _frozen(**params: Any) -> Mapping[str, Any]:
    return MappingProxyType(dict(params))


# Full-distribution sampling (Shypula et al. 2025's setting for distinct@k): nothing truncated.
FULL_DISTRIBUTION = _frozen(temperature=1.0, top_p=1.0, min_p=0.0, top_k=0)
# Artificial Hivemind's default (Jiang et al. 2025): T = 1, top-p 0.9.
HIVEMIND_TOP_P = _frozen(temperature=1.0, top_p=0.9, min_p=0.0, top_k=0)
# Its min-p arm (Nguyen et al. 2024's min-p 0.1 at T = 1).
HIVEMIND_MIN_P = _frozen(temperature=1.0, top_p=1.0, min_p=0.1, top_k=0)
# Greedy decoding: temperature 0, nothing else matters.
GREEDY = _frozen(temperature=0.0, top_p=1.0, min_p=0.0, top_k=0)

# Greedy output length of the input-flattening study (C1) and the stage game's input player,
# quick / full: they must match for the stage game to reuse C1's samples.
INPUT_MAX_TOKENS: Mapping[bool, int] = MappingProxyType({True: 16, False: 32})

PRESETS: Mapping[str, Mapping[str, Any]] = MappingProxyType(
    {
        "full_distribution": FULL_DISTRIBUTION,
        "hivemind_top_p": HIVEMIND_TOP_P,
        "hivemind_min_p": HIVEMIND_MIN_P,
        "greedy": GREEDY,
    }
)


def preset(name: str) -> dict[str, Any]:
    """A copy of the sampling preset `name` (one clear error for an unknown name)."""
    if name not in PRESETS:
        raise HomogenyError(f"unknown sampling preset {name!r}; use one of {', '.join(PRESETS)}")
    return dict(PRESETS[name])


def require_complete(label: str, rows: Mapping[str, list[Any]], k: int) -> None:
    """Stop with one clear line when the engine returned fewer samples than asked (a failed
    batch), so no statistic is computed on a silently short set."""
    short = [pid for pid, rs in rows.items() if len(rs) < k]
    if short:
        raise HomogenyError(
            f"{label} returned fewer than {k} samples for {len(short)} prompt(s) "
            f"(e.g. {short[0]}); rerun the same command to resume the missing ones"
        )


# Answer length of the hivemind study (C4) and the thesis's open tasks, quick / full: they must
# match for the thesis to reuse C4's samples.
HIVEMIND_MAX_TOKENS: Mapping[bool, int] = MappingProxyType({True: 32, False: 40})


# ---- published measurement protocols (`--protocol NAME`, claim C4) -------------------------
SRT_STUDY = (
    '"Where the Hivemind Comes From: Geometry, Tuning and Format, Separated on Open Weights" '
    "(the SRT protocol)"
)


@dataclass(frozen=True)
class Protocol:
    """A published measurement protocol: K samples per prompt at the given sampling settings,
    their mean pairwise cosine under `embedder`, and a floor of `floor_pairs` random pairs of
    answers to different prompts drawn with `floor_seed`."""

    name: str
    study: str
    samples: int
    temperature: float
    top_p: float
    max_tokens: int
    embedder: str
    floor_pairs: int
    floor_seed: int

    def sampling(self) -> dict[str, Any]:
        """The keyword arguments of ctx.sample: every sampling parameter explicit."""
        return dict(
            temperature=self.temperature,
            top_p=self.top_p,
            min_p=0.0,
            top_k=0,
            max_tokens=self.max_tokens,
        )


@dataclass(frozen=True)
class PublishedFigure:
    """One intra-model similarity a study published: its model name, kind (base | instruct),
    prompt format (chat | raw), value, and the model ids (lower case) that are that model."""

    model: str
    kind: str
    fmt: str
    similarity: float
    model_ids: tuple[str, ...]


SRT = Protocol(
    name="srt",
    study=SRT_STUDY,
    samples=8,
    temperature=1.0,
    top_p=0.9,
    max_tokens=48,
    embedder="zoo:minilm-l6",  # all-MiniLM-L6-v2
    floor_pairs=20_000,
    floor_seed=0,
)
PROTOCOLS: Mapping[str, Protocol] = MappingProxyType({"srt": SRT})

_QWEN_CODER = ("qwen2.5-coder-0.5b", "qwen2.5-coder-0.5b-instruct", "qwen/qwen2.5-coder-0.5b")
# The study's published per-model figures (all-MiniLM-L6-v2, K = 8, top-p 0.9, T = 1, 48 tokens).
SRT_PUBLISHED: tuple[PublishedFigure, ...] = (
    PublishedFigure("Qwen2.5-Coder-0.5B", "base", "raw", 0.597, _QWEN_CODER),
    PublishedFigure("Qwen2.5-Coder-0.5B-Instruct", "instruct", "raw", 0.786, _QWEN_CODER),
    PublishedFigure("Qwen2.5-Coder-0.5B-Instruct", "instruct", "chat", 0.865, _QWEN_CODER),
)
# Its effects over all of its models (cosine added to intra-model similarity by each stage).
SRT_PUBLISHED_EFFECTS: Mapping[str, float] = MappingProxyType(
    {"instruction tuning alone": 0.079, "chat template": 0.362, "role markers alone": 0.158}
)


def protocol(name: str) -> Protocol:
    """The published protocol `name` (one clear error for an unknown name)."""
    if name not in PROTOCOLS:
        raise HomogenyError(f"unknown protocol {name!r}; use one of {', '.join(PROTOCOLS)}")
    return PROTOCOLS[name]


def published_figure(model_id: str, kind: str, fmt: str) -> PublishedFigure | None:
    """The SRT study's figure for this model (by id, kind and format), or None when the study
    does not cover it."""
    key = model_id.strip().lower()
    for fig in SRT_PUBLISHED:
        if fig.kind == kind and fig.fmt == fmt and key in fig.model_ids:
            return fig
    return None
