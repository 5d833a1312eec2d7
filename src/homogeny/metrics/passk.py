"""pass@k: the chance that at least one of k samples is correct (one definition for homogeny).

Chen et al. 2021 ("Evaluating Large Language Models Trained on Code", arXiv 2107.03374): from n
samples of which c are correct, the unbiased estimate of pass@k is 1 - C(n-c, k) / C(n, k),
computed as a product so large n does not overflow. Hand-written: three lines, and no
maintained package exposes it on its own.
"""

from __future__ import annotations

import math


def pass_at_k(n: int, c: int, k: int) -> float:
    """Unbiased pass@k from `n` samples with `c` correct: 1 - C(n-c, k) / C(n, k).

    A k above n, or a c outside [0, n], is a ValueError."""
    if not 0 < k <= n:
        raise ValueError(f"pass@k needs 0 < k <= n, got k={k}, n={n}")
    if not 0 <= c <= n:
        raise ValueError(f"pass@k needs 0 <= c <= n, got c={c}, n={n}")
    if n - c < k:
        return 1.0
    return 1.0 - math.prod(1.0 - k / i for i in range(n - c + 1, n + 1))
