"""Independent toy trainings side by side, one process per core.

The toy models train on one torch thread (their matrices are too small for a second thread
to pay off), so on a 2-core machine a second seed trained in a second process halves the
wall time, and gives the same weights: each job seeds its own generators and runs the same
single-threaded arithmetic as it would in the main process. multiprocessing's Pool is used
(not a hand-written scheduler); `spawn` because torch is not fork-safe once it has threads.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any, TypeVar

T = TypeVar("T")


def workers_for(jobs: int) -> int:
    """Worker processes for `jobs` independent trainings: one per core HOMOGENY_THREADS
    allows, never more than the jobs (1 = run in this process)."""
    from homogeny.config import threads

    return max(1, min(int(jobs), threads()))


def _init_worker(torch_threads: int) -> None:
    import torch

    torch.set_num_threads(max(1, torch_threads))


def run_jobs(
    fn: Callable[..., T], jobs: Sequence[tuple[Any, ...]], torch_threads: int = 1
) -> list[T]:
    """fn(*job) for every job, in job order. With one worker (one core, or one job) they run
    here, one after another; otherwise in a pool of spawned processes that is terminated (not
    waited for) when this process is interrupted. `fn` must be importable (a module-level
    function) and its arguments and result picklable."""
    jobs = list(jobs)
    workers = workers_for(len(jobs))
    if workers == 1:
        return [fn(*job) for job in jobs]
    import multiprocessing

    context = multiprocessing.get_context("spawn")
    with context.Pool(workers, initializer=_init_worker, initargs=(torch_threads,)) as pool:
        pending = [pool.apply_async(fn, job) for job in jobs]
        return [p.get() for p in pending]  # leaving the block terminates the pool
