"""The report's sentences about the thesis T: the stage decomposition on real and toy models
and the counter-pressure frontier, each written from stored rows with their intervals."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from homogeny.report.plots import fmt


def interval(row: dict[str, Any]) -> str:
    """`95% CI lo to hi, n = n` for one evidence row."""
    return f"95% CI {fmt(row.get('ci_low'))} to {fmt(row.get('ci_high'))}, n = {row.get('n')}"


def stage_sentence(data: Any) -> str:
    """Which stage the Shapley decomposition credits most, and what that says about the
    counter-view that convergence is rooted in pretraining (Chen, Fortier & West 2026)."""
    if not isinstance(data, dict) or not data.get("stages") or not data.get("shapley"):
        return ""
    stages, shap = list(data["stages"]), list(data["shapley"])
    if len(stages) != len(shap):
        return ""
    low, high = (
        list(data.get("low") or [None] * len(shap)),
        list(data.get("high") or [None] * len(shap)),
    )
    gap = data.get("gap")  # claim T: the largest stage is named only when this excludes 0
    if isinstance(gap, dict) and not (
        gap.get("verdict", "supported") == "supported"
        and (gap.get("low", 0) > 0 or gap.get("high", 0) < 0)
    ):
        return (
            f"No stage is clearly the largest: the test of {gap.get('top')} minus "
            f"{gap.get('second')} ({fmt(gap.get('low'))} to {fmt(gap.get('high'))}) does not "
            "exclude 0, so the decomposition neither agrees nor disagrees with Chen, Fortier & "
            "West (2026)."
        )
    order = sorted(range(len(shap)), key=lambda i: -(shap[i] or 0.0))
    if isinstance(gap, dict) and gap.get("top") in stages:
        order.insert(0, order.pop(order.index(stages.index(gap["top"]))))
    top = order[0]
    total = data.get("total") if isinstance(data.get("total"), (int, float)) else sum(shap)
    share = f"{shap[top] / total:.0%} of " if total else ""
    t_ci = (
        f", 95% CI {fmt(data['total_low'])} to {fmt(data['total_high'])}"
        if isinstance(data.get("total_low"), (int, float))
        and isinstance(data.get("total_high"), (int, float))
        else ""
    )
    text = (
        f"The stage decomposition credits {share}the measured convergence (total "
        f"{fmt(total)}{t_ci}) "
        f"to {stages[top]} (Shapley value {fmt(shap[top])}, 95% CI {fmt(_at(low, top))} to "
        f"{fmt(_at(high, top))})"
    )
    if len(order) > 1:
        text += f", then {stages[order[1]]} ({fmt(shap[order[1]])})"
    text += "."
    top_name = str(stages[top]).lower()
    if "pretrain" in top_name or "base" in top_name:
        text += (
            " That sides with the counter-view of Chen, Fortier & West (2026): convergence is "
            "already rooted in pretraining, and post-training moves it only a little."
        )
    elif "post" in top_name or "train" in top_name or "rl" in top_name.split():
        text += (
            " That goes against the counter-view of Chen, Fortier & West (2026), who trace "
            "convergence to pretraining: here post-training moved it more."
        )
    else:
        text += (
            " The counter-view of Chen, Fortier & West (2026) traces convergence to "
            f"pretraining; here {stages[top]} mattered more."
        )
    return text


TOY_PRETRAINING, TOY_RL = "toy stage share: pretraining", "toy stage share: post-training (RL)"


def toy_stage_sentence(rows: Sequence[dict[str, Any]]) -> str:
    """The decomposition on the tiny models trained here, where pretraining and RL are both
    under control: which of the two accounts for more of their cross-model convergence."""
    by_metric = {str(r.get("metric")): r for r in rows}
    by_metric.update(  # T's fixed id since issue 16: the stage is the row's subject
        {
            f"toy stage share: {r.get('subject')}": r
            for r in rows
            if r.get("metric") == "toy_stage_shapley_value"
        }
    )
    pre, rl = by_metric.get(TOY_PRETRAINING), by_metric.get(TOY_RL)
    if pre is None or rl is None:
        return ""
    text = (
        f"In the tiny models trained here on one corpus, pretraining accounts for "
        f"{fmt(pre.get('effect'))} ({interval(pre)}) of their cross-model convergence (Shapley "
        f"value) and RL for {fmt(rl.get('effect'))} ({interval(rl)})"
    )
    if float(rl["ci_high"]) < 0:
        text += "; RL pulled the models apart"
    if float(pre["ci_low"]) > float(rl["ci_high"]):
        text += ": there convergence is rooted in pretraining, as Chen, Fortier & West (2026) find."
    elif float(rl["ci_low"]) > float(pre["ci_high"]):
        text += (
            ": there RL added more convergence than pretraining, against Chen, Fortier & West "
            "(2026)."
        )
    else:
        text += ": the two intervals overlap, so the toy level does not separate them."
    return text


def _at(values: list[Any], i: int) -> Any:
    return values[i] if i < len(values) else None


def pressure_sentence(points: Any) -> str:
    """How many counter-pressures recovered diversity with an interval above zero, the one
    that recovered most, and what it cost."""
    if not isinstance(points, list):
        return ""
    pts = [
        p
        for p in points
        if isinstance(p, dict) and isinstance(p.get("diversity_gain"), (int, float))
    ]
    if not pts:
        return ""
    clear = [p for p in pts if isinstance(p.get("gain_low"), (int, float)) and p["gain_low"] > 0]
    best = max(pts, key=lambda p: p["diversity_gain"])
    head = (
        f"Of {len(pts)} counter-pressures tried, {len(clear)} recovered diversity with a 95% "
        "interval above zero"
    )
    return (
        f"{head}; the largest gain came from {best.get('name')} ({fmt(best['diversity_gain'])}, "
        f"95% CI {fmt(best.get('gain_low'))} to {fmt(best.get('gain_high'))}) at a quality cost "
        f"of {fmt(best.get('quality_cost'))} (95% CI {fmt(best.get('cost_low'))} to "
        f"{fmt(best.get('cost_high'))})."
    )
