"""The shape every claim experiment shares: claim metadata, a typed plan, evidence out.

A claim subclasses `Experiment`: `info` (its ClaimInfo, from experiments/claims.py), `Plan`
(a dataclass of sizes with `quick()`/`full()` and strict overrides), and `measure(ctx, plan)`
yielding Evidence. `ctx.evidence(...)` does the interval, the verdict and the stamping in one
place (homogeny.metrics.inference: exact tests under 10 units, bootstrap above).
"""

from __future__ import annotations

import dataclasses
import inspect
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any, ClassVar, Literal, Self

from homogeny.errors import HomogenyError, did_you_mean
from homogeny.experiments.claims import ClaimInfo
from homogeny.experiments.evidence import (  # noqa: F401  (re-exported: the experiments' API)
    ROLES,
    Evidence,
    Verdict,
    decide,
    make_evidence,
    not_testable,
    rule_text,
)
from homogeny.store import Store


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

    def sample(
        self, model: str, prompts: Sequence[Any], samples: int, **params: Any
    ) -> dict[str, list[dict[str, Any]]]:
        """Generate (or read from cache) `samples` samples per prompt; return rows by prompt id."""
        from homogeny.generate.engine import generate_samples

        return generate_samples(
            model=model,
            prompts=list(prompts),
            samples=samples,
            store=self.store,
            seed=self.seed,
            progress=self.progress,
            executor=self.executor,
            ray_address=self.ray_address,
            **params,
        )

    def embed(self, texts: Sequence[str]) -> Any:
        """Sentence embeddings (zoo:minilm-l6), cached in the store by text hash."""
        from homogeny.embeddings import embed

        return embed(list(texts), store=self.store)

    def artifact(self, claim: str, name: str, data: Any) -> None:
        """Store a named artifact (figure data, a table) of a claim."""
        self.store.put_artifact(claim, name, data)

    def evidence(
        self,
        claim: str,
        metric: str,
        values: Sequence[float] | Any,
        *,
        question: str,
        sign: str,
        predicted: Literal["above", "below"] = "above",
        threshold: float = 0.0,
        unit: str = "",
        role: str = "secondary",
        subject: str = "",
        models: Sequence[str] = (),
        plot: Any = None,
        nested: bool = False,
        min_n: int = 2,
    ) -> Evidence:
        """An Evidence row from per-unit values (one per independent unit; with nested=True
        a list of per-outer-unit arrays): the calibrated interval, p-value and null rate from
        homogeny.metrics.inference, the verdict, and the caller stamped as `source`."""
        from homogeny.metrics.inference import infer_mean, infer_nested

        infer = infer_nested if nested else infer_mean
        res = infer(values, threshold=threshold, predicted=predicted, seed=self.seed)
        caller = inspect.stack()[1]
        source = f"{caller.frame.f_globals.get('__name__', '?')}:{caller.function}"
        verdict = res.verdict if res.n_units >= min_n else "inconclusive"
        return Evidence(
            claim=claim,
            question=question,
            metric=metric,
            sign=sign,
            effect=res.point,
            ci_low=res.low,
            ci_high=res.high,
            n=res.n_units,
            verdict=verdict,  # type: ignore[arg-type]
            rule=rule_text(threshold, predicted, min_n, res.method),
            plot=plot or {},
            models=tuple(models),
            quick=self.quick,
            threshold=float(threshold),
            predicted=predicted,
            unit=unit,
            subject=subject,
            source=source,
            role=role,
            n_units=res.n_units,
            null_rate=res.null_rate,
            p_value=res.p_value,
            method=res.method,
        )


@dataclass(frozen=True)
class Plan:
    """How much an experiment generates. Subclasses declare fields whose defaults are the full
    plan and a `QUICK` dict of the fields that differ in --quick; `override` is strict."""

    QUICK: ClassVar[dict[str, Any]] = {}

    @classmethod
    def full(cls) -> Self:
        """The plan of a full audit."""
        return cls()

    @classmethod
    def quick(cls) -> Self:
        """The plan of --quick."""
        return cls(**cls.QUICK)

    @classmethod
    def for_run(cls, quick: bool, options: dict[str, Any] | None = None) -> Self:
        """The quick or full plan with the user's options applied (unknown names are errors)."""
        return (cls.quick() if quick else cls.full()).override(options or {})

    def override(self, options: dict[str, Any]) -> Self:
        """This plan with `options` replacing fields; an unknown name or a value of the wrong
        type is one clear HomogenyError."""
        names = {f.name: f for f in dataclasses.fields(self)}
        changes: dict[str, Any] = {}
        for key, value in options.items():
            name = key.replace("-", "_")
            if name not in names:
                hint = did_you_mean(name, list(names))
                raise HomogenyError(
                    f"unknown option {key!r} for {type(self).__qualname__}{hint}; "
                    f"options: {', '.join(names) or 'none'}"
                )
            changes[name] = _coerce(name, value, getattr(self, name))
        return dataclasses.replace(self, **changes)


def _coerce(name: str, value: Any, current: Any) -> Any:
    if current is None or isinstance(value, type(current)):
        return value
    try:
        if isinstance(current, bool):
            return str(value).lower() in ("1", "true", "yes", "on")
        if isinstance(current, tuple):
            items = value.split(",") if isinstance(value, str) else list(value)
            kind = type(current[0]) if current else str
            return tuple(kind(v) for v in items)
        return type(current)(value)
    except (TypeError, ValueError):
        raise HomogenyError(f"option {name}={value!r} is not a {type(current).__name__}") from None


@dataclass(frozen=True)
class PrimaryRule:
    """The one pre-registered test of a claim, declared before any data: which row (metric id),
    what it measures in words, the predicted direction against a threshold, the independent
    unit resampled, and the fewest units at which a verdict is allowed."""

    metric: str
    statistic: str
    predicted: Literal["above", "below"]
    threshold: float
    unit: str
    min_n: int = 2


class Experiment:
    """A claim experiment. Subclasses set `info`, `primary` and `Plan` and implement
    `measure`, which must yield exactly one row with role "primary" matching `primary`."""

    info: ClassVar[ClaimInfo]
    primary: ClassVar[PrimaryRule]
    Plan: ClassVar[type[Plan]] = Plan

    @property
    def claim(self) -> str:
        """The claim id (c1..c7, T)."""
        return self.info.id

    @property
    def title(self) -> str:
        """The claim's short title."""
        return self.info.title

    @property
    def question(self) -> str:
        """The question the claim asks."""
        return self.info.question

    def plan(self, ctx: ExperimentContext) -> Plan:
        """The plan for this run: quick or full, with the context's options applied."""
        return self.Plan.for_run(ctx.quick, claim_options(ctx.options, self.claim))

    def measure(self, ctx: ExperimentContext, plan: Any) -> Iterator[Evidence]:
        """Generate (through ctx.sample), measure and yield this claim's evidence rows."""
        raise NotImplementedError

    def run(self, ctx: ExperimentContext) -> list[Evidence]:
        """All evidence rows of this claim under ctx's plan; checks the primary contract."""
        rows = list(self.measure(ctx, self.plan(ctx)))
        check_primary(self, rows)
        return rows


def claim_options(options: dict[str, Any], claim: str) -> dict[str, Any]:
    """The options meant for `claim`: `{claim: {...}}` when options are given per claim (an
    audit), else the flat options of a single-claim run."""
    from homogeny.experiments.claims import CLAIM_IDS, THESIS

    ids = {*CLAIM_IDS, THESIS.id, THESIS.id.lower()}
    if any(k in ids for k in options):
        mine = options.get(claim) or options.get(claim.lower()) or options.get(claim.upper())
        return dict(mine) if isinstance(mine, dict) else {}
    return dict(options)


def check_primary(exp: Experiment, rows: Sequence[Evidence]) -> None:
    """Exactly one primary row, the one the claim declared (metric, direction, threshold)."""
    rule = getattr(type(exp), "primary", None)
    if rule is None:
        return
    primaries = [r for r in rows if r.role == "primary"]
    if len(primaries) != 1:
        raise RuntimeError(f"{exp.claim}: {len(primaries)} primary rows; exactly one is declared")
    row = primaries[0]
    if (row.metric, row.predicted, row.threshold) != (rule.metric, rule.predicted, rule.threshold):
        raise RuntimeError(
            f"{exp.claim}: primary row {row.metric}/{row.predicted}/{row.threshold:g} differs "
            f"from the declared {rule.metric}/{rule.predicted}/{rule.threshold:g}"
        )
