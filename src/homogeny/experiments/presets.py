"""Sampling presets several studies share, by name, so their samples hit one cache.

A sample's key includes every sampling parameter, so two studies reuse each other's samples
only when they ask with exactly the same settings. Those settings live here rather than in
one claim module imported by another.
"""

from __future__ import annotations

from collections.abc import Mapping
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
