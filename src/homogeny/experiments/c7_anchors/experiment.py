"""C7's experiment class: the toy self-training study, then the real-model level."""

from __future__ import annotations

from collections.abc import Iterator

from homogeny.experiments.base import Evidence, Experiment, ExperimentContext, PrimaryRule
from homogeny.experiments.c7_anchors.plan import AnchorsPlan
from homogeny.experiments.claims import CLAIMS


class SelfImprovementAnchors(Experiment):
    """C7 experiment: self-training loops with and without external anchors."""

    info = CLAIMS["c7"]
    Plan = AnchorsPlan
    primary = PrimaryRule(
        metric="toy_anchors_coverage_saving",
        statistic="per pretraining seed: coverage of the known correct solutions lost per "
        "round (minus the least-squares slope over rounds 0-R) by the majority-vote loop, "
        "minus the mean of that lost by the three anchored loops (ground truth, past "
        "checkpoint, exact checker); > 0 = without an anchor the loop loses more diversity",
        predicted="above",
        threshold=0.0,
        unit="pretraining seed",
        min_n=6,
    )

    def measure(self, ctx: ExperimentContext, plan: AnchorsPlan) -> Iterator[Evidence]:
        """The toy study's rows, then (without --quick, with models) the real-model rows."""
        from homogeny import toy
        from homogeny.experiments.c7_anchors import toy_study

        with toy.torch_threads(plan.torch_threads):
            histories = toy_study.toy_histories(ctx, plan)
        yield from toy_study.toy_rows(ctx, plan, histories, self.primary)
        if ctx.quick:
            ctx.log("c7: --quick measures the toy loops; the real-model level runs without it")
            return
        from homogeny.experiments.c7_anchors import real_study

        yield from real_study.real_rows(ctx, plan)
