"""The generation engine: plan keys, skip what is stored, sample the rest, store as it goes.

Every sample's key is a hash of (model file sha256, prompt, params, seed) with the seed derived
from (run seed, model, prompt, sample index). Keys already in the store are never generated
again; samples are committed as soon as the backend hands them back (a prompt's samples as
soon as its own sequences finish), one transaction each, so a run killed at any moment loses
at most the prompts still in flight and resumes with nothing duplicated or half-written.
"""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any

from homogeny.generate.keys import sample_key, sample_seed
from homogeny.models.base import Completion, ModelInfo
from homogeny.models.params import SamplingParams
from homogeny.models.spec import model_info
from homogeny.store import SampleRow, Store
from homogeny.suites.prompt import Prompt

log = logging.getLogger("homogeny.generate")

MAX_PARALLEL_SEQUENCES = 32  # samples of one prompt in one request (backends pack requests)


@dataclass
class PlannedPrompt:
    """One prompt's planned samples: every index with its seed and key, and which are missing."""

    prompt: Prompt
    seeds: list[int]
    keys: list[str]
    missing: list[int] = field(default_factory=list)


@dataclass
class GenerationSummary:
    """What a generation call did: samples asked, found in cache, made now, tokens and time."""

    model_id: str
    requested: int = 0
    cached: int = 0
    generated: int = 0
    tokens: int = 0
    seconds: float = 0.0
    failed: int = 0
    errors: list[str] = field(default_factory=list)
    keys: dict[str, list[str]] = field(default_factory=dict)

    @property
    def tokens_per_second(self) -> float:
        return self.tokens / self.seconds if self.seconds > 0 else 0.0


def plan(
    info: ModelInfo, prompts: Sequence[Prompt], params: SamplingParams, samples: int, seed: int
) -> list[PlannedPrompt]:
    """Seeds and keys of every requested sample, in prompt then index order."""
    planned = []
    for prompt in prompts:
        seeds = [sample_seed(seed, info.sha256, prompt.hash, i) for i in range(samples)]
        keys = [sample_key(info.sha256, prompt, params, s) for s in seeds]
        planned.append(PlannedPrompt(prompt, seeds, keys))
    return planned


def mark_missing(store: Store, planned: list[PlannedPrompt]) -> int:
    """Fill each PlannedPrompt.missing with the indices not yet stored; return how many."""
    all_keys = [k for p in planned for k in p.keys]
    have: set[str] = set()
    for start in range(0, len(all_keys), 50_000):
        have |= store.existing_keys(all_keys[start : start + 50_000])
    total = 0
    for p in planned:
        p.missing = [i for i, k in enumerate(p.keys) if k not in have]
        total += len(p.missing)
    return total


def to_row(
    info: ModelInfo, p: PlannedPrompt, index: int, params: SamplingParams, c: Completion
) -> SampleRow:
    """The store row for completion `c` of sample `index` of planned prompt `p`."""
    return SampleRow(
        key=p.keys[index],
        model_id=info.model_id,
        model_sha256=info.sha256,
        prompt_hash=p.prompt.hash,
        prompt_id=p.prompt.id,
        sample_index=index,
        seed=p.seeds[index],
        temperature=params.temperature,
        top_p=params.top_p,
        min_p=params.min_p,
        top_k=params.top_k,
        max_tokens=params.max_tokens,
        chat=bool(params.chat),
        params_json=params.canonical(),
        text=c.text,
        token_ids=list(c.token_ids),
        logprobs=list(c.logprobs),
        top_logprobs_json=json.dumps({"top": c.top_logprobs, "entropy": c.entropies}),
        finish_reason=c.finish_reason,
        n_prompt_tokens=c.n_prompt_tokens,
        n_tokens=len(c.token_ids) or c.n_tokens,
        gen_seconds=c.seconds,
    )


def work_items(planned: list[PlannedPrompt]) -> Iterator[tuple[PlannedPrompt, list[int]]]:
    """(prompt, indices) groups to decode together: a prompt's missing samples, capped."""
    for p in planned:
        for start in range(0, len(p.missing), MAX_PARALLEL_SEQUENCES):
            yield p, p.missing[start : start + MAX_PARALLEL_SEQUENCES]


def generate(
    model: str,
    prompts: Sequence[Prompt],
    samples: int,
    store: Store,
    params: SamplingParams | None = None,
    seed: int = 0,
    progress: bool = True,
    executor: str = "local",
    ray_address: str | None = None,
) -> GenerationSummary:
    """Make sure `samples` samples of every prompt from `model` are in `store`; return a summary.

    Only missing samples are generated (cache and resume by key)."""
    info = model_info(model)
    params = (params or SamplingParams()).resolved(info.kind)
    planned = plan(info, prompts, params, samples, seed)
    summary = GenerationSummary(model_id=info.model_id, requested=len(planned) * samples)
    summary.keys = {p.prompt.id: p.keys for p in planned}
    missing = mark_missing(store, planned)
    summary.cached = summary.requested - missing
    if missing == 0:
        return summary
    for p in planned:
        store.upsert_prompt(
            p.prompt.hash, p.prompt.id, p.prompt.display, json.dumps(p.prompt.as_messages())
        )
    store.upsert_model(
        info.sha256,
        info.model_id,
        info.spec,
        info.backend,
        {"kind": info.kind, "params": info.params, "family": info.family},
    )
    started = time.perf_counter()
    with _progress(progress, info.model_id, missing) as advance:
        for p, indices, completions in _run(model, planned, params, executor, ray_address):
            if isinstance(completions, Exception):
                summary.failed += len(indices)
                summary.errors.append(str(completions))
                advance(0, summary.tokens)
                continue
            rows = [to_row(info, p, i, params, c) for i, c in zip(indices, completions)]
            store.add_samples(rows)
            log.info("stored %d samples of prompt %s (%s)", len(rows), p.prompt.id, info.model_id)
            summary.generated += len(rows)
            summary.tokens += sum(r.n_tokens for r in rows)
            advance(len(rows), summary.tokens)
    summary.seconds = time.perf_counter() - started
    return summary


def _run(
    model: str,
    planned: list[PlannedPrompt],
    params: SamplingParams,
    executor: str,
    ray_address: str | None,
) -> Iterator[tuple[PlannedPrompt, list[int], list[Completion] | Exception]]:
    """(planned prompt, sample indices, their completions or the error) as samples finish."""
    if executor == "ray":
        from homogeny.generate.ray_executor import run_on_ray

        yield from run_on_ray(model, list(work_items(planned)), params, ray_address)
        return
    if executor != "local":
        from homogeny.errors import ParameterError

        raise ParameterError(f"--executor {executor!r} is unknown; use local or ray")
    from homogeny import models

    items = list(work_items(planned))
    requests = [(p.prompt, [p.seeds[i] for i in indices]) for p, indices in items]
    with models.open(model, need="generate") as backend:
        for n, positions, result in backend.generate_batch(requests, params):
            p, indices = items[n]
            yield p, [indices[k] for k in positions], result


class _progress:
    """A rich progress bar with samples/s and ETA (silent when disabled)."""

    def __init__(self, enabled: bool, label: str, total: int) -> None:
        self.enabled, self.label, self.total = enabled, label, total
        self._bar: Any = None

    def __enter__(self) -> Any:
        if not self.enabled:
            return lambda n, tokens: None
        from rich.progress import (
            BarColumn,
            MofNCompleteColumn,
            Progress,
            TaskProgressColumn,
            TextColumn,
            TimeElapsedColumn,
            TimeRemainingColumn,
        )

        self._bar = Progress(
            TextColumn("[bold]{task.description}"),
            BarColumn(),
            MofNCompleteColumn(),
            TaskProgressColumn(),
            TextColumn("{task.fields[rate]}"),
            TimeElapsedColumn(),
            TextColumn("ETA"),
            TimeRemainingColumn(),
            transient=False,
        )
        self._bar.start()
        task = self._bar.add_task(f"generate {self.label}", total=self.total, rate="")
        start = time.perf_counter()

        def advance(n: int, tokens: int) -> None:
            dt = max(time.perf_counter() - start, 1e-9)
            done = self._bar.tasks[0].completed + n
            self._bar.update(
                task, advance=n, rate=f"{done / dt:.1f} samples/s {tokens / dt:.0f} tok/s"
            )

        return advance

    def __exit__(self, *exc: object) -> None:
        if self._bar is not None:
            self._bar.stop()


def generate_samples(
    model: str,
    prompts: list[Prompt],
    samples: int,
    store: Store,
    seed: int = 0,
    progress: bool = True,
    executor: str = "local",
    ray_address: str | None = None,
    **params: Any,
) -> dict[str, list[dict[str, Any]]]:
    """Generate (or reuse) samples and return the stored rows, by prompt id, in index order."""
    summary = generate(
        model,
        prompts,
        samples,
        store,
        SamplingParams(**params),
        seed=seed,
        progress=progress,
        executor=executor,
        ray_address=ray_address,
    )
    all_keys = [k for keys in summary.keys.values() for k in keys]
    rows = {r["key"]: r for r in store.samples(keys=all_keys)}
    return {pid: [rows[k] for k in keys if k in rows] for pid, keys in summary.keys.items()}
