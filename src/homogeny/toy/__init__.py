"""Tiny language models trained here from scratch (torch, CPU), synthetic tasks, RL and
self-training loops: the training-stage claims (C2, C5, C7) need models whose training we
control. See `gpt` (the model), `arithmetic` (tasks and formats), `rl` (GRPO fine-tuning)."""

from collections.abc import Iterator
from contextlib import contextmanager


@contextmanager
def torch_threads(n: int) -> Iterator[None]:
    """Run torch on `n` threads, then restore. The toy models' matrices are too small for a
    second thread to pay off, and on a busy machine two threads thrash (measured: >5x slower)."""
    import torch

    before = torch.get_num_threads()
    torch.set_num_threads(max(1, int(n)))
    try:
        yield
    finally:
        torch.set_num_threads(before)
