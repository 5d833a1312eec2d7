"""Evidence rows: one measured statistic of a claim, its interval, its role and its verdict.

A verdict is a claim about the world, so its rule is fixed before the data (the claim's
metadata says which row is primary, its direction, threshold and unit) and calibrated: every
row stores `null_rate`, how often its rule says "supported" on null data at its n.
"""

from __future__ import annotations

import hashlib
import json
import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

Verdict = Literal["supported", "contradicted", "inconclusive", "not testable"]
Role = Literal["primary", "secondary", "precondition", "sanity", "check"]
ROLES: tuple[str, ...] = ("primary", "secondary", "precondition", "sanity", "check")
ONE_SIDED_ALPHA = 0.025  # a two-sided 95% interval clearing the threshold on one side


@dataclass(frozen=True)
class Evidence:
    """One measured statistic for a claim, with its interval and the verdict it leads to.

    `effect` follows the sign convention in `sign`; [ci_low, ci_high] contains it. `subject`
    names the model (or pair) the row is about, so `metric` stays a fixed snake_case id.
    """

    claim: str
    question: str
    metric: str
    sign: str
    effect: float
    ci_low: float
    ci_high: float
    n: int
    verdict: Verdict
    rule: str
    plot: Any = field(default_factory=dict)
    models: tuple[str, ...] = ()
    quick: bool = False
    threshold: float = 0.0
    predicted: str = "above"
    unit: str = ""
    subject: str = ""
    source: str = ""
    role: str = "secondary"
    n_units: int = 0
    null_rate: float | None = None
    p_value: float | None = None
    method: str = "bootstrap"

    def __post_init__(self) -> None:
        for name in ("effect", "ci_low", "ci_high"):
            value = getattr(self, name)
            if not math.isfinite(value):
                raise ValueError(
                    f"evidence {self.claim}/{self.metric}: {name} is not finite ({value})"
                )
        lo, hi = min(self.ci_low, self.ci_high), max(self.ci_low, self.ci_high)
        if not lo - 1e-9 <= self.effect <= hi + 1e-9:
            raise ValueError(
                f"evidence {self.claim}/{self.metric}: effect {self.effect} outside CI [{lo}, {hi}]"
            )
        if self.role not in ROLES:
            raise ValueError(f"evidence {self.claim}/{self.metric}: unknown role {self.role!r}")

    @property
    def evidence_id(self) -> str:
        """Stable across runs: the claim, the metric id and the subject, never measured text."""
        payload = json.dumps([self.claim, self.metric, self.subject])
        return hashlib.sha256(payload.encode()).hexdigest()[:20]

    def as_row(self) -> dict[str, Any]:
        """The store row for this evidence (see homogeny.store, table evidence)."""
        return {
            "evidence_id": self.evidence_id,
            "claim": self.claim,
            "question": self.question,
            "metric": self.metric,
            "sign": self.sign,
            "effect": float(self.effect),
            "ci_low": float(self.ci_low),
            "ci_high": float(self.ci_high),
            "n": int(self.n),
            "verdict": self.verdict,
            "rule": self.rule,
            "models": ",".join(self.models),
            "quick": bool(self.quick),
            "plot_json": json.dumps(self.plot, default=_jsonable),
            "threshold": float(self.threshold),
            "predicted": self.predicted,
            "unit": self.unit,
            "subject": self.subject,
            "source": self.source,
            "role": self.role,
            "n_units": int(self.n_units or self.n),
            "null_rate": self.null_rate,
            "p_value": self.p_value,
            "method": self.method,
        }


def _jsonable(o: Any) -> Any:
    if hasattr(o, "tolist"):
        return o.tolist()
    if hasattr(o, "__dataclass_fields__"):
        from dataclasses import asdict

        return asdict(o)
    return str(o)


def rule_text(threshold: float, predicted: str, min_n: int, method: str = "") -> str:
    """The verdict rule as one readable line."""
    side = ">" if predicted == "above" else "<"
    how = f" ({method})" if method else ""
    if method.startswith("sign-flip"):
        return (
            f"supported if the exact one-sided sign-flip test of the mean {side} {threshold:g} "
            f"gives p <= 0.025; contradicted if the opposite test does; otherwise inconclusive "
            f"(n >= {min_n} required; under 6 units it cannot reach p <= 0.025)"
        )
    return (
        f"supported if the 95% interval{how} lies entirely {side} {threshold:g}; contradicted "
        f"if it lies entirely on the other side; otherwise inconclusive (n >= {min_n} required)"
    )


def decide(
    effect: float,
    ci_low: float,
    ci_high: float,
    threshold: float = 0.0,
    predicted: Literal["above", "below"] = "above",
    min_n: int = 2,
    n: int = 2,
) -> tuple[Verdict, str]:
    """Decide a verdict from an interval: the claim predicts the effect lies above (or below)
    `threshold`. Supported when the whole CI is on the predicted side, contradicted when the
    whole CI is on the other side, inconclusive when it straddles or n < min_n.
    Returns (verdict, the rule as one readable line)."""
    rule = rule_text(threshold, predicted, min_n)
    if n < min_n:
        return "inconclusive", rule
    above, below = ci_low > threshold, ci_high < threshold
    if predicted == "above":
        return ("supported" if above else "contradicted" if below else "inconclusive"), rule
    return ("supported" if below else "contradicted" if above else "inconclusive"), rule


def make_evidence(
    claim: str,
    question: str,
    metric: str,
    sign: str,
    effect: float,
    ci: tuple[float, float],
    n: int,
    threshold: float = 0.0,
    predicted: Literal["above", "below"] = "above",
    plot: Any = None,
    models: Sequence[str] = (),
    quick: bool = False,
    min_n: int = 2,
    **extra: Any,
) -> Evidence:
    """Build an Evidence row whose verdict comes from `decide` on the given interval.
    `extra` sets the typed fields (role, unit, subject, source, n_units, null_rate, ...)."""
    lo, hi = float(min(ci)), float(max(ci))
    eff = float(effect)
    # A degenerate bootstrap (all resamples equal) can round the point just outside; clamp.
    eff = min(max(eff, lo), hi) if lo <= hi else eff
    verdict, rule = decide(eff, lo, hi, threshold, predicted, min_n=min_n, n=n)
    if extra.get("method"):
        rule = rule_text(threshold, predicted, min_n, extra["method"])
    return Evidence(
        claim=claim,
        question=question,
        metric=metric,
        sign=sign,
        effect=eff,
        ci_low=lo,
        ci_high=hi,
        n=int(n),
        verdict=verdict,
        rule=rule,
        plot=plot or {},
        models=tuple(models),
        quick=quick,
        threshold=float(threshold),
        predicted=predicted,
        **extra,
    )


def not_testable(claim: str, question: str, metric: str, reason: str, **extra: Any) -> Evidence:
    """A row whose study cannot run here (too few models, a missing capability): it carries
    the reason in `sign` and is never evidence either way."""
    return Evidence(
        claim=claim,
        question=question,
        metric=metric,
        sign=reason,
        effect=0.0,
        ci_low=0.0,
        ci_high=0.0,
        n=0,
        verdict="not testable",
        rule=f"not testable here: {reason}",
        **extra,
    )
