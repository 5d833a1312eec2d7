"""C2's toy evidence rows from the run summaries.

The independent unit is a pretrained model (one size, one pretraining seed): RL seeds are
nested within it, so every row averages a model's RL runs first and infers over models
(homogeny.metrics.inference.infer_nested; exact sign-flip test under 10 models).
"""

from __future__ import annotations

import itertools
from collections.abc import Callable, Iterator
from typing import Any

import numpy as np

from homogeny.experiments.base import Evidence, make_evidence, not_testable
from homogeny.experiments.c2_training.plan import C2Plan
from homogeny.toy.arithmetic import FORMATS

CLAIM = "c2"
MAX_PERMUTATIONS = 10_000  # above this, the size-shuffle null is sampled, not enumerated
Run = dict[str, Any]


def by_model(runs: list[Run], value: Callable[[Run], float]) -> list[list[float]]:
    """`value` of each run, grouped by pretrained model (size, pretraining seed), run order."""
    groups: dict[tuple[str, int], list[float]] = {}
    for r in runs:
        groups.setdefault((r["size"], r["pretrain_seed"]), []).append(float(value(r)))
    return list(groups.values())


def _leading_share(shares: dict[str, float]) -> float:
    return max(shares[f] for f in FORMATS)


def crossing_epochs(r: Run) -> float:
    """Epochs until one format made up 90% of a step's samples; the run's length if never."""
    return float(r["crossing_epochs"] if r["crossing_epochs"] is not None else r["epochs"])


def toy_rows(ctx: Any, runs: list[Run], plan: C2Plan) -> Iterator[Evidence]:
    """The primary row (collapse within the first epoch) and the secondary toy rows."""
    plain = [r for r in runs if r["kl"] == 0.0]
    models = tuple(f"toy-gpt-{z}" for z in plan.sizes)
    common = {"models": models, "nested": True, "subject": "toy GPTs"}
    yield ctx.evidence(
        CLAIM,
        "epochs_until_90pct_format",
        by_model(plain, crossing_epochs),
        question="Does one format pass 90% of the samples within the first RL epoch?",
        sign="epochs of RL (no KL) until one format is 90% of a step's samples, mean over "
        "pretrained models (RL seeds averaged within); runs that never get there count as "
        "their full length; below 1 = within the first epoch",
        predicted="below",
        threshold=1.0,
        unit="epochs",
        role="primary",
        min_n=6,
        plot={
            "kind": "bars",
            "labels": [_label(r) for r in plain],
            "values": [crossing_epochs(r) for r in plain],
        },
        **common,
    )
    yield ctx.evidence(
        CLAIM,
        "dominant_share_gain_first_epoch",
        by_model(
            plain, lambda r: _leading_share(r["shares_epoch1"]) - _leading_share(r["shares_start"])
        ),
        question="Does the leading format's share grow within the first RL epoch?",
        sign="share of the leading format after the first epoch minus the leading format's "
        "share before RL (no KL), both on the same held-out evaluation samples; + = one "
        "format took a larger share",
        threshold=0.0,
        unit="share of samples",
        role="secondary",
        plot={
            "kind": "share_curves",
            "runs": [
                {k: r[k] for k in ("size", "pretrain_seed", "seed", "kl", "share_curve", "winner")}
                for r in runs
            ],
        },
        **common,
    )
    yield ctx.evidence(
        CLAIM,
        "pass_at_k_change",
        by_model(plain, lambda r: r["pass@k"][-1] - r["pass@k"][0]),
        question="Does RL narrow coverage (pass@k falls)?",
        sign="pass@k at the end of RL minus before RL (no KL); negative = coverage lost",
        predicted="below",
        unit="share of problems",
        plot=_trend_plot(plain),
        **common,
    )
    yield ctx.evidence(
        CLAIM,
        "majority_minus_pass_at_k_change",
        by_model(plain, _sharpening),
        question="Does majority@k gain more than pass@k under RL?",
        sign="change of majority@k minus change of pass@k, start to end (no KL); positive = RL "
        "sharpens the mode more than it widens coverage, as majority@64 rose while pass@64 "
        "fell in the paper",
        unit="share of problems",
        plot=_trend_plot(plain),
        **common,
    )
    yield kl_row(ctx, runs, plan, common)
    yield size_row(plain, plan, ctx.quick, models)


def _label(r: Run) -> str:
    return f"{r['size']}/p{r['pretrain_seed']}/s{r['seed']}"


def _sharpening(r: Run) -> float:
    return (r["majority@k"][-1] - r["majority@k"][0]) - (r["pass@k"][-1] - r["pass@k"][0])


def _trend_plot(runs: list[Run]) -> dict[str, Any]:
    series = ("pass@1", "pass@k", "majority@k", "distinct")
    return {
        "kind": "trend",
        "x": ["start", "epoch 1", "end"],
        "series": {m: [float(np.mean([r[m][i] for r in runs])) for i in range(3)] for m in series}
        if runs
        else {},
    }


def minority_share(shares: dict[str, float]) -> float:
    """Share of the two non-leading formats among the samples (unclassified text excluded)."""
    return sum(shares[f] for f in FORMATS) - _leading_share(shares)


def kl_row(ctx: Any, runs: list[Run], plan: C2Plan, common: dict[str, Any]) -> Evidence:
    """Minority formats kept by the KL penalty: paired by pretrained model and RL seed."""
    with_kl = {(r["size"], r["pretrain_seed"], r["seed"]): r for r in runs if r["kl"] > 0}
    pairs = [
        (r, with_kl[key])
        for r in runs
        if r["kl"] == 0.0 and (key := (r["size"], r["pretrain_seed"], r["seed"])) in with_kl
    ]
    diffs = by_model(
        [
            {**a, "diff": minority_share(b["shares_end"]) - minority_share(a["shares_end"])}
            for a, b in pairs
        ],
        lambda r: r["diff"],
    )
    question = "Does a KL penalty keep minority formats alive?"
    if not diffs:
        return not_testable(
            CLAIM,
            question,
            "kl_minority_share_gain",
            "no run with a KL penalty (kl_coef = 0)",
            role="secondary",
            unit="share of samples",
            subject=common["subject"],
            models=common["models"],
            quick=ctx.quick,
        )
    return ctx.evidence(
        CLAIM,
        "kl_minority_share_gain",
        diffs,
        question=question,
        sign=f"share of the non-leading formats at the end with KL {plan.kl_coef:g} minus "
        "without KL, paired by pretrained model and RL seed; positive = KL keeps minority formats",
        unit="share of samples",
        plot={"kind": "paired", "values": [np.mean(d) for d in diffs]},
        **common,
    )


# ---- does the winner depend on size? --------------------------------------------------------


def winner_table(
    plain: list[Run], sizes: tuple[str, ...]
) -> tuple[dict[str, list[str]], list[int]]:
    """The winning format of each pretrained model (the leader of its RL runs' mean end shares),
    as {size: [winner per pretraining seed]}, and the pretraining seeds in column order."""
    seeds = sorted({r["pretrain_seed"] for r in plain})
    table: dict[str, list[str]] = {}
    for z in sizes:
        row = []
        for p in seeds:
            ends = [r["shares_end"] for r in plain if r["size"] == z and r["pretrain_seed"] == p]
            row.append(max(FORMATS, key=lambda f: np.mean([s[f] for s in ends])) if ends else "")
        table[z] = row
    return table, seeds


def winner_agreement(table: dict[str, list[str]], seeds: list[int]) -> float:
    """Agreement of winners within a size (across distinct seed columns) minus agreement
    across sizes (same seed column); NaN when fewer than two distinct columns are present."""
    sizes = list(table)
    within = [
        table[z][a] == table[z][b]
        for z in sizes
        for i, a in enumerate(seeds)
        for b in seeds[i + 1 :]
        if a != b
    ]
    across = [
        table[x][a] == table[y][a]
        for a in seeds
        for i, x in enumerate(sizes)
        for y in sizes[i + 1 :]
    ]
    if not within or not across:
        return float("nan")
    return float(np.mean(within) - np.mean(across))


def size_shuffle_null(table: dict[str, list[str]], seed: int = 0) -> np.ndarray:
    """winner_agreement with the size labels permuted within each seed column: every such
    permutation (or MAX_PERMUTATIONS random ones when there are more). Under "the winner does
    not depend on size" each is as likely as the observed table; a column's models share a
    corpus, and shuffling within columns keeps that dependence."""
    sizes = list(table)
    cols = [[table[z][j] for z in sizes] for j in range(len(table[sizes[0]]))]
    orders = list(itertools.permutations(range(len(sizes))))
    idx = list(range(len(cols)))
    if len(orders) ** len(cols) <= MAX_PERMUTATIONS:
        picks: Any = itertools.product(orders, repeat=len(cols))
    else:
        rng = np.random.default_rng(seed)
        picks = (
            [orders[i] for i in rng.integers(0, len(orders), len(cols))]
            for _ in range(MAX_PERMUTATIONS)
        )
    out = []
    for perm in picks:
        shuffled = {z: [cols[j][perm[j][i]] for j in idx] for i, z in enumerate(sizes)}
        out.append(winner_agreement(shuffled, idx))
    return np.asarray(out)


def size_row(plain: list[Run], plan: C2Plan, quick: bool, models: tuple[str, ...]) -> Evidence:
    """Winner agreement across pretraining seeds of one size against across sizes at one seed,
    tested by shuffling size labels within each pretraining seed (exact permutation test)."""
    question = "Does the winning format depend on model size?"
    table, seeds = winner_table(plain, plan.sizes)
    if len(table) < 2 or len(seeds) < 2:
        return not_testable(
            CLAIM,
            question,
            "winner_depends_on_size",
            "needs at least two sizes and two pretraining seeds",
            role="secondary",
            unit="agreement",
            subject="toy GPTs",
            models=models,
            quick=quick,
        )
    cols = list(range(len(seeds)))
    observed, null = winner_agreement(table, cols), size_shuffle_null(table)
    hi, lo = (
        float(np.quantile(null, q, method=m)) for q, m in ((0.975, "higher"), (0.025, "lower"))
    )
    beaten = [r for r in plain if r["initial_most_accurate"] is not None]
    return make_evidence(
        CLAIM,
        question,
        "winner_depends_on_size",
        "winner agreement between pretraining seeds of one size minus between sizes at one "
        "pretraining seed, above its mean when size labels are shuffled within each seed; "
        "interval: the shifts the exact permutation test keeps; positive = the winner depends "
        "on size more than on the pretraining seed",
        observed - float(null.mean()),
        (observed - hi, observed - lo),
        len(seeds),
        plot={
            "kind": "table",
            "winners": table,
            "seeds": seeds,
            "winner_was_initially_most_accurate": _share(beaten, "initial_most_accurate"),
            "winner_was_initial_majority": _share(plain, "initial_majority"),
        },
        models=models,
        quick=quick,
        role="secondary",
        unit="agreement",
        subject="toy GPTs",
        n_units=len(seeds),
        null_rate=float(np.mean(null > hi)),
        p_value=float(np.mean(null >= observed - 1e-12)),
        method="permutation exact",
    )


def _share(runs: list[Run], field: str) -> float | None:
    return float(np.mean([r["winner"] == r[field] for r in runs])) if runs else None
