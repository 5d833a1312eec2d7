"""How concentrated a model's next-token distribution is, from the logprobs a backend returns.

A step's alternatives may come as [(token, logprob), ...], {token: logprob}, OpenAI-style
[{"token": t, "logprob": lp}, ...] or a bare list of logprobs. Backends usually return only
the top-k alternatives; each function says exactly what it computes then. When a backend
gives the full-distribution entropy per step (Completion.entropies), prefer that.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import Any

import numpy as np

from homogeny.errors import ParameterError


def _step_logprobs(step: Any) -> np.ndarray:
    """The logprobs of one step's listed alternatives, whatever shape the backend used."""
    if isinstance(step, Mapping):
        if "logprob" in step and not isinstance(step.get("logprob"), Mapping):
            return np.array([float(step["logprob"])])
        return np.array([float(v) for v in step.values()], dtype=np.float64)
    values = []
    for alt in step:
        if isinstance(alt, Mapping):
            values.append(float(alt["logprob"]))
        elif isinstance(alt, (tuple, list)):
            values.append(float(alt[-1]))
        else:
            values.append(float(alt))
    return np.array(values, dtype=np.float64)


def _steps(top_logprobs: Iterable[Any]) -> list[np.ndarray]:
    steps = [_step_logprobs(s) for s in top_logprobs]
    for i, lp in enumerate(steps):
        if lp.size == 0:
            raise ParameterError(f"step {i} lists no alternatives")
        if np.any(lp > 1e-6):
            raise ParameterError(
                f"step {i} has a logprob above 0 ({lp.max():.3g}); pass log-probabilities"
            )
    return steps


def token_entropy(top_logprobs: Iterable[Any]) -> np.ndarray:
    """Per-step entropy in nats (Shannon 1948) of the next-token distribution, one value per step.

    With only the top-k alternatives known, this is the entropy of the top-k probabilities
    renormalised to sum to 1: H(p~), p~_i = p_i / sum_topk p. It is exact when k covers the
    vocabulary and otherwise a lower bound on the full entropy H: the tail tokens each have
    p <= p_min of the top-k, so H >= m H(p~) + h(m) + (1-m) log((1-m)/p_min) >= H(p~), with m the
    top-k mass and h the binary entropy."""
    out = []
    for lp in _steps(top_logprobs):
        shifted = lp - lp.max()
        p = np.exp(shifted) / np.exp(shifted).sum()
        nz = p[p > 0]
        out.append(float(-(nz * np.log(nz)).sum()))
    return np.array(out, dtype=np.float64)


def top1_mass(top_logprobs: Iterable[Any]) -> np.ndarray:
    """Per-step probability of the most likely next token, exp(max logprob) (as in the
    probability-concentration analyses of Shypula et al. 2025, arXiv 2504.12522).

    Exact from top-k alternatives (the top token is always listed) as long as the logprobs
    are the model's own, not renormalised over the top-k."""
    return np.array([float(np.exp(lp.max())) for lp in _steps(top_logprobs)], dtype=np.float64)


def sequence_logprob(logprobs: Sequence[float] | np.ndarray, per_token: bool = False) -> float:
    """Log-probability of a sampled sequence: the sum of its tokens' logprobs (chain rule),
    or their mean with per_token=True (the log of the geometric-mean token probability).
    Exact: it needs only the sampled tokens' own logprobs."""
    lp = np.asarray(logprobs, dtype=np.float64)
    if lp.ndim != 1:
        raise ParameterError(f"logprobs must be 1-d, got shape {lp.shape}")
    if lp.size == 0:
        if per_token:
            raise ParameterError("per-token logprob of an empty sequence is undefined")
        return 0.0
    return float(lp.mean() if per_token else lp.sum())
