"""C7's toy level: self-training loops with and without anchors, per pretraining seed.

Every seed pretrains its own tiny GPT (toy/selftrain.py), evaluates it on problems of its own
and runs all six filters from that same round-0 model, so the filters are compared within a
seed and the seeds are the independent units of every row.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from homogeny.experiments.base import Evidence, ExperimentContext, PrimaryRule
from homogeny.toy import selftrain
from homogeny.toy.checkpoints import checkpoint_folder

if TYPE_CHECKING:
    from homogeny.experiments.c7_anchors.plan import AnchorsPlan

CLAIM = "c7"
UNANCHORED = ("none", "majority", "self_verifier")
BASELINE = "majority"  # the loop the ground-truth and checkpoint anchors are added to
CURVE_METRICS = ("pass_at_1", "pass_at_k", "distinct_correct", "coverage")
COVERAGE = "coverage (share of each problem's known correct solutions produced)"
Histories = dict[str, list[list[selftrain.RoundMetrics]]]


def seeds(ctx: ExperimentContext, plan: AnchorsPlan) -> list[int]:
    """The pretraining seeds of this run."""
    return list(range(ctx.seed, ctx.seed + plan.seeds))


SeedRun = tuple[list[float], dict[str, list[selftrain.RoundMetrics]]]


def run_seed(
    config: selftrain.SelfTrainConfig,
    seed: int,
    folder: Path | None,
    log: Callable[[str], None] = lambda m: None,
    pretrained: tuple | None = None,
) -> tuple[SeedRun, tuple]:
    """One seed: pretrain (unless `pretrained` = (model, tok) is given), evaluate on the seed's
    own problems and run every filter from that round-0 model. Returns (the pretraining curve
    and each filter's history, (model, tok))."""
    from homogeny.toy import arithmetic, gpt

    curve: list[float] = []
    if pretrained is None:
        log(f"c7: seed {seed}: pretraining a {config.model_size} GPT")
        model, tok, curve = selftrain.pretrain(config, seed)
        if folder:
            gpt.save_checkpoint(model, folder / f"seed{seed}_round0.safetensors", tok)
    else:
        model, tok = pretrained
    problems = arithmetic.addition_problems(
        config.eval_problems, seed=10_000 + seed, digits=config.digits
    )
    start = selftrain.evaluate(model, tok, problems, config, seed=seed)
    histories: dict[str, list[selftrain.RoundMetrics]] = {}
    for name in selftrain.FILTERS:
        log(f"c7: seed {seed}: {config.rounds} rounds of self-training, filter {name}")
        final, histories[name] = selftrain.self_train(
            model, tok, name, config, seed, problems, initial=start
        )
        if folder:
            path = folder / f"seed{seed}_{name}_round{config.rounds}.safetensors"
            gpt.save_checkpoint(final, path, tok)
    return (curve, histories), (model, tok)


def _seed_job(config: selftrain.SelfTrainConfig, seed: int, folder: Path | None) -> SeedRun:
    """run_seed in a worker process (toy.parallel): the histories, not the model."""
    return run_seed(config, seed, folder)[0]


def toy_histories(ctx: ExperimentContext, plan: AnchorsPlan) -> Histories:
    """Per filter, per seed: the round-by-round metrics. Stores curves and checkpoints.
    Independently pretrained seeds run side by side, one process per core (toy.parallel:
    the same single-threaded arithmetic, so the same numbers as one after another)."""
    from homogeny.toy.parallel import run_jobs, workers_for

    config = plan.toy_config()
    folder = checkpoint_folder(ctx, CLAIM) if plan.checkpoints else None
    all_seeds = seeds(ctx, plan)
    runs: list[SeedRun] = []
    workers = 1 if plan.shared_pretraining else workers_for(len(all_seeds))
    if workers > 1:
        ctx.log(
            f"c7: {len(all_seeds)} seeds (pretraining and {len(selftrain.FILTERS)} "
            f"self-training loops each) in {workers} processes"
        )
        runs = run_jobs(_seed_job, [(config, s, folder) for s in all_seeds], plan.torch_threads)
    else:
        shared = None
        for seed in all_seeds:
            run, model = run_seed(config, seed, folder, ctx.log, shared)
            shared = model if plan.shared_pretraining else None
            runs.append(run)
    histories: Histories = {f: [run[1][f] for run in runs] for f in selftrain.FILTERS}
    curves = {f"seed {s}": run[0] for s, run in zip(all_seeds, runs) if run[0]}
    store_curves(ctx, plan, histories, curves, folder)
    return histories


def store_curves(
    ctx: ExperimentContext,
    plan: AnchorsPlan,
    histories: Histories,
    pretrain_curves: dict[str, list[float]],
    folder: Path | None,
) -> None:
    """Artifacts: mean curves per filter, pretraining loss, every round of every history."""
    rounds = list(range(plan.rounds + 1))

    def mean_curve(runs: list[list[selftrain.RoundMetrics]], metric: str) -> list[float]:
        return [float(np.mean([getattr(h[r], metric) for h in runs])) for r in rounds]

    ctx.artifact(
        CLAIM,
        "self_training_curves",
        {
            metric: {
                "x": rounds,
                "xlabel": "self-training round",
                "ylabel": metric.replace("_", " "),
                "series": {name: mean_curve(runs, metric) for name, runs in histories.items()},
            }
            for metric in CURVE_METRICS
        },
    )
    length = len(next(iter(pretrain_curves.values())))
    step = max(1, length // 100)
    ctx.artifact(
        CLAIM,
        "pretraining_loss",
        {
            "x": list(range(0, length, step)),
            "xlabel": "step",
            "ylabel": "loss",
            "series": {k: v[::step] for k, v in pretrain_curves.items()},
        },
    )
    ctx.artifact(
        CLAIM,
        "self_training_histories",
        {
            "filters": {
                name: [selftrain.history_rows(h) for h in runs] for name, runs in histories.items()
            },
            "config": dict(vars(plan.toy_config())),
            "seeds": seeds(ctx, plan),
            "shared_pretraining": plan.shared_pretraining,
            "checkpoints": str(folder) if folder else None,
        },
    )


def losses(histories: Histories, name: str, metric: str) -> np.ndarray:
    """Per seed: how much of `metric` filter `name` loses per round (minus the slope)."""
    return np.array([selftrain.loss_per_round(h, metric) for h in histories[name]])


def anchors_saving(histories: Histories, metric: str = "coverage") -> np.ndarray:
    """Per seed: `metric` lost per round by the majority-vote loop minus the mean lost by the
    anchored loops (> 0 = the anchors keep more of it)."""
    anchored = np.mean([losses(histories, a, metric) for a in selftrain.ANCHORS], axis=0)
    return losses(histories, BASELINE, metric) - anchored


def toy_rows(
    ctx: ExperimentContext, plan: AnchorsPlan, histories: Histories, rule: PrimaryRule
) -> Iterator[Evidence]:
    """The primary row (anchors' coverage saving over the majority-vote loop), then per filter
    the coverage lost per round and per anchor its saving in coverage and pass@1."""
    shared = plan.shared_pretraining
    unit = "share of known correct solutions per round, per pretraining seed"
    note = " Seeds share one pretrained model here, so they count as one unit." if shared else ""

    def units(values: np.ndarray) -> list[np.ndarray] | np.ndarray:
        return [values] if shared else values  # shared pretraining: one outer unit

    saving = anchors_saving(histories)
    yield ctx.evidence(
        CLAIM,
        rule.metric,
        units(saving),
        nested=shared,
        role="primary",
        unit=unit,
        question="Does a self-training loop without an external anchor lose more of its "
        "correct solution styles per round than the same loop with one?",
        sign=f"{COVERAGE} lost per round: majority-vote loop minus the mean of the three "
        f"anchored loops, per pretraining seed; > 0 = the anchors keep more diversity.{note}",
        predicted=rule.predicted,
        threshold=rule.threshold,
        min_n=rule.min_n,
        plot=_seed_plot(ctx, saving),
    )
    for name in UNANCHORED:
        lost = losses(histories, name, "coverage")
        yield ctx.evidence(
            CLAIM,
            "toy_coverage_lost_per_round",
            units(lost),
            nested=shared,
            role="secondary",
            unit=unit,
            subject=f"filter {name}",
            question="Does self-training with no external anchor lose correct solution "
            "styles round after round?",
            sign=f"{COVERAGE} lost per round (minus the slope over rounds), filter '{name}'; "
            f"> 0 = the loop loses styles.{note}",
            plot=_seed_plot(ctx, lost),
        )
    for anchor in selftrain.ANCHORS:
        for metric, label in (("coverage", "coverage"), ("pass_at_1", "pass@1")):
            base, kept = losses(histories, BASELINE, metric), losses(histories, anchor, metric)
            yield ctx.evidence(
                CLAIM,
                f"toy_anchor_{metric}_saving",
                units(base - kept),
                nested=shared,
                role="secondary",
                subject=f"anchor {anchor}",
                unit=f"{label} per round, per pretraining seed",
                question=f"Does an external anchor lose less {label} per round than the "
                "unanchored majority-vote loop?",
                sign=f"{label} lost per round: majority vote minus '{anchor}', paired by seed; "
                f"> 0 = the anchor loses less.{note}",
                plot={
                    "labels": ["majority vote", anchor],
                    "values": [float(base.mean()), float(kept.mean())],
                },
            )


def _seed_plot(ctx: ExperimentContext, values: np.ndarray) -> dict[str, list]:
    return {
        "labels": [f"seed {ctx.seed + i}" for i in range(values.size)],
        "values": values.tolist(),
    }
