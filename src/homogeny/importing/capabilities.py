"""What imported texts can and cannot feed: the capability side of a claim's needs.

A study needs one of: texts only, log-probabilities, hidden states, or generation on demand.
Imported samples (`imported:NAME`) are texts only: studies that need only texts run on them;
the others are "not testable on imported texts", with the reason from `why_not`.
"""

from __future__ import annotations

NEEDS = ("texts", "logprobs", "hidden_states", "generate")
IMPORTED_HAS = frozenset({"texts"})
_REASON = {
    "logprobs": "it needs token log-probabilities, which imported texts do not carry",
    "hidden_states": "it needs the model's hidden states, and the weights are not here",
    "generate": "it needs new samples on demand, and an imported model cannot be run",
}


def is_imported(model: str) -> bool:
    """Whether a model spec or stored model id names imported texts (`imported:NAME`)."""
    return model.strip().startswith("imported:")


def can(model: str, need: str) -> bool:
    """Whether a study needing `need` can run on `model` as far as importing is concerned
    (a model homogeny runs itself may still lack a capability its backend does not have)."""
    if need not in NEEDS:
        raise ValueError(f"need must be one of {NEEDS}, not {need!r}")
    return need in IMPORTED_HAS or not is_imported(model)


def why_not(model: str, need: str) -> str:
    """The reason a study needing `need` is not testable on `model`, or "" when it is."""
    if can(model, need):
        return ""
    return f"not testable on imported texts ({model}): {_REASON[need]}"
