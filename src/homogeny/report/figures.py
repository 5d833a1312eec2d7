"""A claim section's figures and evidence cards: each chart drawn once on the whole page (two
charts with the same values are one chart), captions in plain words, one decision rule line
per claim, and each card's link to the samples behind it."""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Any

from markupsafe import Markup

from homogeny.report import labels, summary_plots
from homogeny.report.plots import fmt
from homogeny.report.samples import evidence_filter

SPECIAL_ARTIFACTS = ("examples", "stage_decomposition", "counter_pressures")
MAX_FIGURES = 10
EFFECT_CAPTION = (
    "Every measurement of this claim with its 95% confidence interval. Rows that share a unit "
    "share one axis; the solid line is 0, a dashed mark is that row's decision threshold. "
    "Verdict: ● supported, ◆ contradicted, ○ inconclusive."
)
VERDICT_SYMBOLS = {
    "supported": "●",
    "contradicted": "◆",
    "inconclusive": "○",
    "mixed": "◐",
    "not run": "–",
    "not testable": "–",
}
_SIDE = re.compile(r"([<>]) (-?[0-9.]+(?:e[+-]?[0-9]+)?)(?=[;,) ]|$)")
_TBODY = re.compile(r"<tbody>(.*?)</tbody>", re.DOTALL)
ARTIFACT_TITLES = {
    "comprehension_flattening": "Paraphrase closeness inside each model minus in wording, by layer",
    "rewriting_diversity_lost": "Output diversity lost when requests are rewritten to common words",
    "nll_low_minus_high": "Extra surprise (nats per token) of the rare wording, per model",
    "distinct_at_k": "Distinct samples among the first k draws, per model",
    "vendi_by_token_budget": "Effective number of distinct outputs (Vendi score) by token budget",
    "effective_per_sample": "Distinct valid samples per draw, per model",
    "effective_per_100m_params": "Distinct valid samples per draw per 100M parameters",
    "effective_per_cpu_second": "Distinct valid samples per CPU second",
    "reliability_by_temperature": "Judge reliability (omega) by temperature",
    "modal_accuracy_by_temperature": "Share of questions the judge's usual verdict gets right",
    "t0_verdict_in_t1_distribution": "Probability at temperature 1 of the temperature-0 verdict",
    "self_training_curves": "Self-training rounds: coverage and accuracy per filter",
    "pretraining_loss": "Pretraining loss of the tiny models trained here",
    "pretrain_curves": "Pretraining curves of the tiny models trained here",
    "toy_stage_decomposition": "Stage decomposition in tiny models trained here (Shapley values)",
}


def signature(chart: Markup) -> str:
    """What a chart's values are (the body of its data table): equal for two charts of the
    same data."""
    m = _TBODY.search(str(chart))
    return m.group(1) if m else str(chart)


def artifact_title(name: str) -> str:
    """A readable title for an artifact name."""
    return ARTIFACT_TITLES.get(name) or name.replace("_", " ").replace("/", " / ")


def claim_figures(
    rows: Sequence[dict[str, Any]],
    artifacts: dict[str, Any],
    seen: set[str],
    extra: Sequence[tuple[Markup | None, str]] = (),
) -> list[dict[str, Any]]:
    """The charts of one claim section: the effect plot, the `extra` (chart, caption) pairs,
    then each artifact or evidence plot whose values no earlier chart on the page drew
    (`seen` holds their signatures)."""
    figures: list[dict[str, Any]] = []

    def add(chart: Markup | None, caption: str) -> None:
        if chart is None or len(figures) >= MAX_FIGURES:
            return
        sig = signature(chart)
        if sig in seen:
            return
        seen.add(sig)
        figures.append({"svg": chart, "caption": caption})

    measured = [r for r in rows if r.get("verdict") != "not testable"]
    add(summary_plots.forest_plot(measured, "Effect sizes with 95% CI"), EFFECT_CAPTION)
    for chart, caption in extra:
        add(chart, caption)
    for name, value in artifacts.items():
        if name not in SPECIAL_ARTIFACTS:
            for title, chart in summary_plots.render_any(value, artifact_title(name)):
                add(chart, title)
    for row in rows:
        for title, chart in summary_plots.render_any(row.get("plot"), labels.name(row)):
            add(chart, f"Data behind: {title}")
    return figures


def prediction(row: dict[str, Any]) -> str:
    """The side and threshold a row's rule predicts ("above 0.05"), from its rule text or,
    failing that, its `predicted` and `threshold` fields; "" when neither says."""
    m = _SIDE.search(str(row.get("rule") or ""))
    if m:
        side, value = ("above" if m.group(1) == ">" else "below"), float(m.group(2))
    elif row.get("predicted") in ("above", "below") and isinstance(
        row.get("threshold"), (int, float)
    ):
        side, value = row["predicted"], float(row["threshold"])
    else:
        return ""
    return f"{side} {fmt(value)}"


def claim_rules(rows: Sequence[dict[str, Any]]) -> list[dict[str, Any]]:
    """A claim's decision rules, each once with the measurements that use it; rules that
    differ only in side and threshold are one rule (each card names its own side)."""
    rules: dict[str, list[str]] = {}
    for r in rows:
        rule = _SIDE.sub(
            "on the predicted side of the row's threshold", str(r.get("rule") or ""), 1
        )
        rules.setdefault(rule, []).append(labels.name(r))
    return [{"rule": k, "names": v} for k, v in rules.items() if k]


def cards(
    rows: Sequence[dict[str, Any]], samples: dict[str, Any], run_claims: dict[str, str]
) -> list[dict[str, Any]]:
    """What an evidence card shows besides the stored row: plain name, unit, quotable
    sentence, what 0 and the threshold mean, and the filter to the samples behind it."""
    out = []
    ranked = any(r.get("role") == "primary" for r in rows)
    for r in rows:
        toy, role = labels.trained_here(r), str(r.get("role") or "")
        out.append(
            {
                "r": r,
                # a row's role, when it tells the reader something: it does not decide the claim
                "role": role
                if role not in ("", "primary") and (ranked or role != "secondary")
                else "",
                "name": labels.name(r),
                "unit": labels.unit(r),
                "quote": labels.quote(r),
                "zero": labels.zero(r),
                "prediction": prediction(r),
                "threshold": labels.threshold_text(r),
                "toy": toy,
                "link": None if toy else evidence_filter(r, samples, run_claims),
                "no_samples": (
                    "measured on models trained here in memory; their outputs are not stored "
                    "samples"
                    if toy
                    else "no stored samples behind this row in this page"
                ),
            }
        )
    return out
