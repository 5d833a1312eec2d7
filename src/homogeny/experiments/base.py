"""The interface every claim experiment shares: a context in, Evidence rows out.

An experiment plans its requests, generates through the cached engine (`ctx.sample`),
measures with `homogeny.metrics`, and returns `Evidence`. Verdicts come from
`decide`, a rule written here and stored with every row.
"""

from __future__ import annotations

import hashlib
import json
import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal, Protocol

from homogeny.store import Store

Verdict = Literal["supported", "contradicted", "inconclusive"]


@dataclass(frozen=True)
class Evidence:
    """One measured statistic for a claim, with its interval and the verdict it leads to.

    `effect` follows the sign convention in `sign` (for example "positive = paraphrases are
    closer inside the model than on the surface"); the interval [ci_low, ci_high] contains it.
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
    plot: dict[str, Any] = field(default_factory=dict)
    models: tuple[str, ...] = ()
    quick: bool = False

    def __post_init__(self) -> None:
        for name in ("effect", "ci_low", "ci_high"):
            value = getattr(self, name)
            if not math.isfinite(value):
                raise ValueError(f"evidence {self.claim}/{self.metric}: {name} is not finite ({value})")
        lo, hi = min(self.ci_low, self.ci_high), max(self.ci_low, self.ci_high)
        if not lo - 1e-9 <= self.effect <= hi + 1e-9:
            raise ValueError(
                f"evidence {self.claim}/{self.metric}: effect {self.effect} outside CI [{lo}, {hi}]"
            )

    def as_row(self) -> dict[str, Any]:
        """The store row for this evidence (see homogeny.store.SCHEMA, table evidence)."""
        payload = json.dumps([self.claim, self.metric, self.question], sort_keys=True)
        return {
            "evidence_id": hashlib.sha256(payload.encode()).hexdigest()[:20],
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
            "plot_json": json.dumps(self.plot, default=lambda o: o.tolist() if hasattr(o, "tolist") else str(o)),
        }


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
    side = ">" if predicted == "above" else "<"
    rule = (
        f"supported if the 95% CI lies entirely {side} {threshold:g}; contradicted if it lies "
        f"entirely on the other side; otherwise inconclusive (n >= {min_n} required)"
    )
    if n < min_n:
        return "inconclusive", rule
    if predicted == "above":
        if ci_low > threshold:
            return "supported", rule
        if ci_high < threshold:
            return "contradicted", rule
    else:
        if ci_high < threshold:
            return "supported", rule
        if ci_low > threshold:
            return "contradicted", rule
    return "inconclusive", rule


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
    plot: dict[str, Any] | None = None,
    models: Sequence[str] = (),
    quick: bool = False,
    min_n: int = 2,
) -> Evidence:
    """Build an Evidence row whose verdict comes from `decide` on the given interval."""
    lo, hi = float(min(ci)), float(max(ci))
    eff = float(effect)
    # A degenerate bootstrap (all resamples equal) can round the point just outside; clamp.
    eff = min(max(eff, lo), hi) if lo <= hi else eff
    verdict, rule = decide(eff, lo, hi, threshold, predicted, min_n=min_n, n=n)
    return Evidence(
        claim=claim, question=question, metric=metric, sign=sign, effect=eff,
        ci_low=lo, ci_high=hi, n=int(n), verdict=verdict, rule=rule,
        plot=plot or {}, models=tuple(models), quick=quick,
    )


@dataclass
class ExperimentContext:
    """What an experiment may use: the store, the models named, the size and the seed.

    `sample` and `embed` go through the cached engine, so a rerun generates nothing new.
    """

    store: Store
    models: list[str]
    quick: bool = False
    seed: int = 0
    executor: str = "local"
    ray_address: str | None = None
    progress: bool = True
    log: Callable[[str], None] = print
    options: dict[str, Any] = field(default_factory=dict)

    def sample(self, model: str, prompts: Sequence[Any], samples: int, **params: Any) -> dict[str, list[dict[str, Any]]]:
        """Generate (or read from cache) `samples` samples per prompt; return rows by prompt id."""
        from homogeny.generate.engine import generate_samples

        return generate_samples(
            model=model, prompts=list(prompts), samples=samples, store=self.store,
            seed=self.seed, progress=self.progress, executor=self.executor,
            ray_address=self.ray_address, **params,
        )

    def embed(self, texts: Sequence[str]) -> Any:
        """Sentence embeddings (zoo:minilm-l6), cached in the store by text hash."""
        from homogeny.embeddings import embed

        return embed(list(texts), store=self.store)

    def artifact(self, claim: str, name: str, data: Any) -> None:
        self.store.put_artifact(claim, name, data)


class Experiment(Protocol):
    """A claim experiment: `run` measures the claim and returns its evidence rows."""

    claim: str
    title: str
    question: str

    def run(self, ctx: ExperimentContext) -> list[Evidence]: ...
