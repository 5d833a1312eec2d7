"""Calibration of the primary rules: how often each says "supported" on null data at its n.

The rule is the one every primary row uses (homogeny.metrics.inference): exact sign-flip
under 10 units, percentile bootstrap over units from 10 on. At every n the quick and full
plans run a primary row with, null data (true mean at the threshold) must give "supported"
at most 5% of the time over 2,000 simulations, with a Monte Carlo upper bound <= 7%; data
built against the claim give "contradicted", data built for it "supported".
"""

from __future__ import annotations

import numpy as np
import pytest

from homogeny.metrics.inference import holm, infer_mean, infer_nested, null_rate

# n in independent units of the primary rows of the quick and full plans, and a margin around
PLAN_NS = (2, 3, 4, 5, 6, 8, 9, 10, 12, 16, 20, 32)
SIMULATIONS = 2000


def _supported_rate(n: int, predicted: str, threshold: float = 0.0) -> tuple[float, float]:
    rng = np.random.default_rng(n)
    hits = 0
    for i in range(SIMULATIONS):
        x = threshold + rng.standard_normal(n)
        res = infer_mean(x, threshold=threshold, predicted=predicted, seed=i, n_resamples=400)
        hits += res.verdict == "supported"
    rate = hits / SIMULATIONS
    upper = rate + 1.96 * np.sqrt(max(rate * (1 - rate), 1e-4) / SIMULATIONS)
    return rate, upper


@pytest.mark.slow
@pytest.mark.parametrize("n", PLAN_NS)
def test_null_data_rarely_supported(n: int) -> None:
    rate, upper = _supported_rate(n, "above")
    assert rate <= 0.05 and upper <= 0.07, (n, rate, upper)


@pytest.mark.parametrize("n", (3, 5, 8))
def test_exact_rule_cannot_support_with_very_few_units(n: int) -> None:
    """Under 6 units the exact one-sided test cannot reach p <= 0.025: never "supported"."""
    res = infer_mean(np.arange(1, n + 1, dtype=float) + 10, predicted="above")
    assert res.method == "sign-flip exact"
    assert res.verdict == ("supported" if n >= 6 else "inconclusive")
    assert res.null_rate == pytest.approx(np.floor(0.025 * 2**n) / 2**n)


@pytest.mark.parametrize("n", (8, 12, 32))
@pytest.mark.parametrize("predicted", ("above", "below"))
def test_direction(n: int, predicted: str) -> None:
    rng = np.random.default_rng(7)
    shift = 2.0 if predicted == "above" else -2.0
    for_claim = infer_mean(shift + 0.5 * rng.standard_normal(n), predicted=predicted)
    against = infer_mean(-shift + 0.5 * rng.standard_normal(n), predicted=predicted)
    assert for_claim.verdict == "supported"
    assert against.verdict == "contradicted"
    assert for_claim.low <= for_claim.point <= for_claim.high


def test_null_rate_matches_simulation_for_the_bootstrap() -> None:
    rate, _ = _supported_rate(16, "below")
    assert abs(null_rate("bootstrap", 16) - rate) < 0.03


def test_nested_counts_outer_units() -> None:
    rng = np.random.default_rng(0)
    groups = [1.0 + rng.standard_normal(5) * 0.1 for _ in range(4)]
    res = infer_nested(groups, predicted="above")
    assert res.n_units == 4 and res.method == "sign-flip exact"
    groups = [1.0 + rng.standard_normal(5) * 0.1 for _ in range(12)]
    res = infer_nested(groups, predicted="above")
    assert res.n_units == 12 and res.method == "hierarchical bootstrap"
    assert res.verdict == "supported"


def test_holm_step_down() -> None:
    # 0.001 < 0.025/3; 0.01 < 0.025/2; 0.03 > 0.025/1
    assert holm([0.01, 0.001, 0.03]) == [True, True, False]
    assert holm([0.02, 0.02]) == [False, False]
