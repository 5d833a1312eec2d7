"""Ray executor: actors that each hold one model generate; the driver alone writes the store.

Work items are the same (prompt, sample indices) groups the local executor decodes, with the
same seeds, so a Ray run gives the same samples as a local one. Actors restart and retry their
task when a worker dies (max_restarts / max_task_retries), so a killed worker costs time, not
samples.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from typing import Any

from homogeny.errors import HomogenyError
from homogeny.models.base import Completion
from homogeny.models.params import SamplingParams


def _ray() -> Any:
    try:
        import ray
    except ImportError:
        raise HomogenyError("--executor ray needs Ray: pip install 'homogeny[ray]'") from None
    return ray


def connect(address: str | None) -> Any:
    """Connect to a Ray cluster at `address` (or start a local one); one clear error if not."""
    ray = _ray()
    if ray.is_initialized():
        return ray
    try:
        ray.init(
            address=address or None,
            ignore_reinit_error=True,
            include_dashboard=False,
            log_to_driver=False,
            logging_level="ERROR",
        )
    except (ConnectionError, RuntimeError, ValueError) as exc:
        raise HomogenyError(
            f"cannot connect to Ray at {address or 'a local cluster'!r}: "
            f"{str(exc).splitlines()[0]}; "
            "start one with `ray start --head` or drop --ray-address"
        ) from None
    return ray


def _actor_class(ray: Any) -> Any:
    @ray.remote(num_cpus=1, max_restarts=3, max_task_retries=3)
    class GenerationActor:
        """Holds one loaded backend (not thread-safe: one per actor)."""

        def __init__(self, model: str) -> None:
            from homogeny import models

            self.backend = models.load(model, need="generate")  # owned by the actor

        def pid(self) -> int:
            return os.getpid()

        def generate(
            self, prompt: Any, params: SamplingParams, seeds: list[int]
        ) -> list[Completion]:
            return self.backend.generate(prompt, params, seeds)

    return GenerationActor


def n_workers(ray: Any) -> int:
    """Actors to start: HOMOGENY_RAY_WORKERS, else the cluster's CPUs (at least 1)."""
    from homogeny import config

    workers = config.ray_workers()
    if workers:
        return workers
    return max(1, int(ray.cluster_resources().get("CPU", 1)))


def run_on_ray(
    model: str, items: list[tuple[Any, list[int]]], params: SamplingParams, address: str | None
) -> Iterator[tuple[Any, list[int], list[Completion]]]:
    """Yield (planned prompt, indices, completions) as Ray actors finish them (any order)."""
    ray = connect(address)
    actor_cls = _actor_class(ray)
    actors = [actor_cls.remote(model) for _ in range(min(n_workers(ray), max(1, len(items))))]
    queue = list(reversed(items))
    in_flight: dict[Any, tuple[Any, list[int], Any]] = {}

    def submit(actor: Any) -> None:
        p, idx = queue.pop()
        ref = actor.generate.remote(p.prompt, params, [p.seeds[i] for i in idx])
        in_flight[ref] = (p, idx, actor)

    for actor in actors:
        for _ in range(2):  # two items per actor keep it busy while the driver stores results
            if queue:
                submit(actor)
    try:
        while in_flight:
            done, _ = ray.wait(list(in_flight), num_returns=1)
            ref = done[0]
            p, idx, actor = in_flight.pop(ref)
            completions = ray.get(ref)
            yield p, idx, completions
            if queue:
                submit(actor)
    finally:
        for actor in actors:
            ray.kill(actor)
