"""Claim T's charts: the stage waterfall (Shapley values stacked from 0 to the total) and the
counter-pressure frontier (diversity gained against quality lost)."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from markupsafe import Markup

from homogeny.report.plots import (
    MUTED,
    PALETTE,
    _axes,
    _line,
    _num,
    _nums,
    _padded,
    _scale,
    _svg,
    _t,
    _ticks,
    data_table,
    fmt,
    short,
    text_w,
    tick_label,
)


def waterfall(
    data: dict[str, Any], title: str = "Stage decomposition (Shapley values)"
) -> Markup | None:
    """Each stage's Shapley share of the measured convergence, stacked from 0 to the total."""
    stages, shap = data.get("stages"), _nums(data.get("shapley"))
    if not isinstance(stages, list) or shap is None or len(stages) != len(shap) or not stages:
        return None
    low, high = _nums(data.get("low")) or [], _nums(data.get("high")) or []
    total = _num(data.get("total"))
    total = total if total is not None else sum(v or 0.0 for v in shap)
    names = [short(s, 28) for s in stages]
    left, row_h, top = 14 + max(text_w(n, 11) for n in [*names, "total"]), 30, 8
    width, right = left + 470, 170
    height = top + row_h * (len(stages) + 1) + 30
    cum, bars = 0.0, []
    for v in shap:
        bars.append((cum, cum + (v or 0.0)))
        cum += v or 0.0
    intervals = [(_at(low, i), _at(high, i)) for i in range(len(bars))]
    ends = [e for b in bars for e in b] + [total, 0.0]
    ends += [bars[i][0] + e for i, pair in enumerate(intervals) for e in pair if e is not None]
    lo, hi = _padded(ends, include_zero=True)
    sx = _scale(lo, hi, left, width - right)
    body: list[str] = []
    for i, (name, (a, b)) in enumerate(zip(names, bars)):
        y = top + row_h * i
        x0, x1 = sorted((sx(a), sx(b)))
        body.append(_t(left - 6, y + row_h / 2 + 4, name, anchor="end", size=11))
        body.append(
            f'<rect x="{x0:.1f}" y="{y + 5}" width="{max(x1 - x0, 1):.1f}" height="{row_h - 10}" '
            f'fill="{"#2563eb" if b >= a else "#d97706"}"/>'
        )
        w_lo, w_hi = intervals[i]
        if (
            w_lo is not None and w_hi is not None
        ):  # the stage's own interval starts where its bar starts
            body.append(
                _line(
                    sx(a + w_lo),
                    sx(a + w_hi),
                    y + row_h / 2,
                    y + row_h / 2,
                    "#111827",
                    'stroke-width="1.5"',
                )
            )
        ci = f" [{fmt(w_lo)}, {fmt(w_hi)}]" if w_lo is not None and w_hi is not None else ""
        body.append(_t(width - right + 8, y + row_h / 2 + 4, f"{fmt(shap[i])}{ci}", size=10))
    y = top + row_h * len(stages)
    x0, x1 = sorted((sx(0.0), sx(total)))
    body.append(_t(left - 6, y + row_h / 2 + 4, "total", anchor="end", size=11, weight="600"))
    body.append(
        f'<rect x="{x0:.1f}" y="{y + 5}" width="{max(x1 - x0, 1):.1f}" height="{row_h - 10}" '
        'fill="#111827"/>'
    )
    t_lo, t_hi = _num(data.get("total_low")), _num(data.get("total_high"))
    t_ci = f" [{fmt(t_lo)}, {fmt(t_hi)}]" if t_lo is not None and t_hi is not None else ""
    body.append(
        _t(width - right + 8, y + row_h / 2 + 4, f"{fmt(total)}{t_ci}", size=10, weight="600")
    )
    body += _shared_axis_at(sx, lo, hi, top, y + row_h)
    rows = [[str(s), shap[i], *intervals[i]] for i, s in enumerate(stages)] + [
        ["total", total, t_lo, t_hi]
    ]
    return _svg(
        width,
        height,
        body,
        title,
        data_table(title, ["stage", "Shapley value", "95% CI low", "95% CI high"], rows),
    )


def _shared_axis_at(
    sx: Callable[[float], float], lo: float, hi: float, top: float, bottom: float
) -> list[str]:
    out = [_line(sx(0.0), sx(0.0), top, bottom, "#6b7280")]
    ticks = [t for t in _ticks(lo, hi) if lo <= t <= hi]
    for t in ticks:
        out.append(
            _t(sx(t), bottom + 16, tick_label(t, ticks), anchor="middle", size=10, fill=MUTED)
        )
    return out


def frontier(
    points: Any, title: str = "Counter-pressures: diversity gained vs quality lost"
) -> Markup | None:
    """Each counter-pressure at (quality cost, diversity gain) with both intervals; the
    non-dominated ones (no other gains more for less cost) are joined as the frontier."""
    if not isinstance(points, list):
        return None
    pts = [
        p
        for p in points
        if isinstance(p, dict)
        and _num(p.get("diversity_gain")) is not None
        and _num(p.get("quality_cost")) is not None
    ]
    if not pts:
        return None
    width, height, left, right, top, bottom = 620, 340, 60, 30, 16, 44

    def val(p: dict[str, Any], key: str, default_key: str) -> float:
        v = _num(p.get(key))
        return v if v is not None else float(p[default_key])

    xs = [val(p, k, "quality_cost") for p in pts for k in ("cost_low", "cost_high", "quality_cost")]
    ys = [
        val(p, k, "diversity_gain")
        for p in pts
        for k in ("gain_low", "gain_high", "diversity_gain")
    ]
    x_lo, x_hi = _padded(xs, include_zero=True)
    y_lo, y_hi = _padded(ys, include_zero=True)
    sx, sy = _scale(x_lo, x_hi, left, width - right), _scale(y_lo, y_hi, height - bottom, top)
    body = _axes(left, width - right, top, height - bottom, sy, y_lo, y_hi)
    ticks = _ticks(x_lo, x_hi)
    body += [
        _t(sx(t), height - bottom + 15, tick_label(t, ticks), anchor="middle", size=10, fill=MUTED)
        for t in ticks
    ]
    body.append(
        _t((left + width - right) / 2, height - 8, "quality cost →", anchor="middle", size=10)
    )
    body.append(_t(left + 4, top + 10, "↑ diversity gain", size=10))
    body.append(_line(sx(0), sx(0), top, height - bottom, "#9ca3af", 'stroke-dasharray="3,3"'))
    body.append(_line(left, width - right, sy(0), sy(0), "#9ca3af", 'stroke-dasharray="3,3"'))
    best = pareto_front([(float(p["quality_cost"]), float(p["diversity_gain"])) for p in pts])
    if len(best) > 1:
        d = " ".join(f"{sx(c):.1f},{sy(g):.1f}" for c, g in best)
        body.append(
            f'<polyline points="{d}" fill="none" stroke="#059669" stroke-width="2" opacity="0.7"/>'
        )
    for i, p in enumerate(pts):
        c, g, colour = (
            float(p["quality_cost"]),
            float(p["diversity_gain"]),
            PALETTE[i % len(PALETTE)],
        )
        body.append(
            _line(
                sx(val(p, "cost_low", "quality_cost")),
                sx(val(p, "cost_high", "quality_cost")),
                sy(g),
                sy(g),
                colour,
                'opacity="0.6"',
            )
        )
        body.append(
            _line(
                sx(c),
                sx(c),
                sy(val(p, "gain_low", "diversity_gain")),
                sy(val(p, "gain_high", "diversity_gain")),
                colour,
                'opacity="0.6"',
            )
        )
        body.append(f'<circle cx="{sx(c):.1f}" cy="{sy(g):.1f}" r="5" fill="{colour}"/>')
        name = short(p.get("name", ""), 26)
        fits = sx(c) + 7 + text_w(name, 10) < width - 4
        body.append(
            _t(
                sx(c) + 7 if fits else sx(c) - 7,
                max(sy(g) - 6, 12),
                name,
                anchor="start" if fits else "end",
                size=10,
            )  # ink, not the point's colour: some palette colours are under 4.5:1 on white
        )
    keys = (
        "name",
        "diversity_gain",
        "gain_low",
        "gain_high",
        "quality_cost",
        "cost_low",
        "cost_high",
    )
    table = data_table(
        title,
        ["counter-pressure", "diversity gain", "low", "high", "quality cost", "low", "high"],
        [[p.get(k) for k in keys] for p in pts],
    )
    return _svg(width, height, body, title, table)


def _at(values: Sequence[float | None], i: int) -> float | None:
    return values[i] if i < len(values) else None


def pareto_front(points: Sequence[tuple[float, float]]) -> list[tuple[float, float]]:
    """The (cost, gain) points no other point beats on both: lower cost and higher gain."""
    front: list[tuple[float, float]] = []
    for c, g in sorted(points, key=lambda p: (p[0], -p[1])):
        if not front or g > front[-1][1]:
            front.append((c, g))
    return front
