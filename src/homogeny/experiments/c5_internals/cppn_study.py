"""C5's CPPN level: do SGD-trained networks respond to weight sweeps more fracturedly than
networks found by search for the same picture?

Per seed, a target face (the hand-factored CPPN's image, jittered by the seed), one network
trained by Adam and one found by a separable CMA-ES (toy/cppn_fit.py), both of the same dense
architecture and from the same random starts. Every weight of each is swept; per network the
sweep measures are averaged over the weights whose sweep changes the image. The seed is the
independent unit (weights within a network are not independent).
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import numpy as np

from homogeny.experiments.base import Evidence, ExperimentContext, PrimaryRule, not_testable
from homogeny.toy import cppn, cppn_fit

CLAIM = "c5"
# Two networks draw "the same picture" when their images differ by less than this pixel RMSE
# (images in [0, 1]): the same face to the eye, not pixel-identical. Fixed before any data;
# Adam reaches ~0.03 from the target and the search ~0.1 in the --quick budget.
SAME_PICTURE_RMSE = 0.15
MEASURES = ("asymmetry", "extent", "units")
SWEEP_QUESTION = (
    "Does sweeping one weight change an SGD-trained network's picture more fracturedly than "
    "that of a network found by search for the same picture?"
)
UNITS = {
    "asymmetry": "asymmetry index (0 to 1)",
    "extent": "share of pixels",
    "units": "share of hidden units",
}
MEASURE_TEXT = {
    "asymmetry": "left-right asymmetry of a single-weight sweep's image change "
    "(||dI - mirror(dI)||_1 / 2||dI||_1: 0 = mirror-symmetric, 1 = one-sided)",
    "extent": "share of pixels a single-weight sweep changes by > 10% of its largest change",
    "units": "share of hidden units whose activation map a single-weight sweep changes",
}


@dataclass
class SeedNets:
    """One seed's target and networks, with each network's mean sweep measures."""

    seed: int
    target: np.ndarray
    nets: dict[str, cppn.CPPN]  # "sgd", "search", "handbuilt"
    measures: dict[str, dict[str, float]]  # network -> measure -> mean over live weights

    def rmse(self, a: str, b: str | None = None) -> float:
        """Pixel RMSE between network a's image and network b's (or the target)."""
        size = self.target.shape[0]
        other = self.target if b is None else cppn.render(self.nets[b], size)
        return float(np.sqrt(np.mean((cppn.render(self.nets[a], size) - other) ** 2)))


def fit_seeds(ctx: ExperimentContext, plan: Any) -> list[SeedNets]:
    """Targets, SGD and search networks, and sweep measures for every seed of the plan."""
    seeds = [ctx.seed + i for i in range(plan.seeds)]
    handbuilt = [cppn.compositional_face(cppn.face_params(sd)) for sd in seeds]
    targets = [cppn.render(net, plan.image_size) for net in handbuilt]
    ctx.log(
        f"c5: fitting {len(seeds)} face CPPNs by Adam ({plan.sgd_steps} steps) and by "
        f"evolution ({plan.search_generations} generations of {plan.search_population})"
    )
    sgd = cppn_fit.train_sgd_cppns(
        targets,
        seeds,
        steps=plan.sgd_steps,
        restarts=plan.restarts,
        restart_steps=plan.restart_steps,
    )
    search = cppn_fit.search_cppns(
        targets,
        seeds,
        generations=plan.search_generations,
        population=plan.search_population,
        sigma=plan.search_sigma,
        restarts=plan.restarts,
    )
    out = []
    for i, seed in enumerate(seeds):
        nets = {"sgd": sgd[i][0], "search": search[i][0], "handbuilt": handbuilt[i]}
        measures = {name: _mean_measures(net, plan) for name, net in nets.items()}
        out.append(SeedNets(seed, targets[i], nets, measures))
    return out


def _mean_measures(net: cppn.CPPN, plan: Any) -> dict[str, float]:
    summary = cppn.sweep_summary(net, plan.deltas, plan.image_size)
    means = {m: float(np.mean(summary[m])) if len(summary[m]) else 0.0 for m in MEASURES}
    return means | {"inert_share": float(summary["inert_share"])}


def cppn_rows(
    ctx: ExperimentContext, plan: Any, fits: list[SeedNets], rule: PrimaryRule
) -> Iterator[Evidence]:
    """Precondition (same picture), the primary asymmetry row over the seeds whose networks
    draw the same picture, the extent and units rows, and the hand-built check row."""
    pair_rmse = [f.rmse("sgd", "search") for f in fits]
    yield ctx.evidence(
        CLAIM,
        "cppn_output_rmse",
        pair_rmse,
        role="precondition",
        unit="pixel RMSE",
        question="Do the SGD-trained and the searched CPPN draw the same picture?",
        sign=f"pixel RMSE between the SGD and the searched network's images, per seed (a seed "
        f"counts toward the sweep rows when it is below {SAME_PICTURE_RMSE:g})",
        predicted="below",
        threshold=SAME_PICTURE_RMSE,
        plot={"labels": [f"seed {f.seed}" for f in fits], "values": pair_rmse},
    )
    kept = [f for f, r in zip(fits, pair_rmse) if r < SAME_PICTURE_RMSE]
    yield _primary_row(ctx, kept, len(fits), rule)
    for m in ("extent", "units"):
        if len(kept) >= 2:
            yield _difference_row(
                ctx, kept, m, "search", "secondary", f"sweep_{m}_sgd_minus_search"
            )
    yield _difference_row(
        ctx, fits, "asymmetry", "handbuilt", "check", "sweep_asymmetry_sgd_minus_handbuilt"
    )


def _primary_row(
    ctx: ExperimentContext, kept: list[SeedNets], total: int, rule: PrimaryRule
) -> Evidence:
    if len(kept) < 2:
        return not_testable(
            CLAIM,
            SWEEP_QUESTION,
            rule.metric,
            f"only {len(kept)} of {total} seeds' SGD and searched networks draw the same "
            f"picture (pixel RMSE < {SAME_PICTURE_RMSE:g}); at least 2 are needed",
            role="primary",
            unit=UNITS["asymmetry"],
            source=f"{__name__}:_primary_row",
            threshold=rule.threshold,
            predicted=rule.predicted,
        )
    return _difference_row(
        ctx, kept, "asymmetry", "search", "primary", rule.metric, min_n=rule.min_n
    )


def _difference_row(
    ctx: ExperimentContext,
    fits: list[SeedNets],
    measure: str,
    other: str,
    role: str,
    metric: str,
    min_n: int = 2,
) -> Evidence:
    diffs = [f.measures["sgd"][measure] - f.measures[other][measure] for f in fits]
    label = "searched" if other == "search" else "hand-built compositional"
    return ctx.evidence(
        CLAIM,
        metric,
        diffs,
        role=role,
        unit=UNITS[measure],
        min_n=min_n,
        question=SWEEP_QUESTION
        if other == "search"
        else "Does the sweep measure separate SGD networks from a hand-factored one (by design)?",
        sign=f"{MEASURE_TEXT[measure]}, mean over the weights of a network, SGD network minus "
        f"{label} network, per seed; > 0 = the SGD network responds more fracturedly",
        predicted="above",
        threshold=0.0,
        plot={
            "labels": [label, "SGD"],
            "values": [
                float(np.mean([f.measures[other][measure] for f in fits])),
                float(np.mean([f.measures["sgd"][measure] for f in fits])),
            ],
        },
    )


def store_artifacts(ctx: ExperimentContext, plan: Any, fits: list[SeedNets]) -> None:
    """The sweep measures per network kind and example sweeps of the first seed's networks."""
    kinds = ("handbuilt", "search", "sgd")
    ctx.artifact(
        CLAIM,
        "cppn_sweep_measures",
        {
            "labels": [f"{m} {k}" for m in MEASURES for k in kinds],
            "values": [
                float(np.mean([f.measures[k][m] for f in fits])) for m in MEASURES for k in kinds
            ],
            "title": "Weight sweeps: mean change measures per network",
        },
    )
    first = fits[0]
    ctx.artifact(
        CLAIM,
        "cppn_sweep_images",
        {
            "size": plan.image_size,
            "rmse_to_target": {k: [f.rmse(k) for f in fits] for k in ("sgd", "search")},
            "inert_share": {k: [f.measures[k]["inert_share"] for f in fits] for k in kinds},
            "nets": {k: cppn.example_sweeps(first.nets[k], size=plan.image_size) for k in kinds},
            "activations": [list(a) for a in cppn.FACE_LAYERS],
            "weights": {k: [[w.tolist() for w in f.nets[k].weights] for f in fits] for k in kinds},
        },
    )
