"""Static inline SVG plots for the report: forest plots of evidence, line curves, heatmaps,
bar charts, the stage waterfall and the counter-pressure frontier.

Hand-written because the page must be one self-contained file with no JavaScript plotting
library and no network; matplotlib's SVG output embeds fonts and ids that clash across plots.
Every label is escaped (markupsafe): artifact data can carry model text.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from typing import Any

from markupsafe import Markup, escape

PALETTE = ("#2563eb", "#d97706", "#059669", "#dc2626", "#7c3aed", "#0891b2", "#be185d", "#4b5563")
VERDICT_COLOURS = {"supported": "#15803d", "contradicted": "#b91c1c", "inconclusive": "#6b7280"}
MAX_BARS = 30
FONT = 'font-family="system-ui, -apple-system, Segoe UI, sans-serif"'


def fmt(x: float | None) -> str:
    """A number as people read it: three significant figures, a true minus sign."""
    if x is None or not isinstance(x, (int, float)) or not math.isfinite(x):
        return "—"
    if x == 0:
        return "0"
    ax = abs(x)
    s = f"{x:,.0f}" if ax >= 100 else f"{x:.3g}" if ax >= 0.001 else f"{x:.2e}"
    return s.replace("-", "−")


def _num(v: Any) -> float | None:
    """A finite float, or None for anything else (null, NaN, text)."""
    if isinstance(v, bool) or not isinstance(v, (int, float)):
        return None
    f = float(v)
    return f if math.isfinite(f) else None


def _nums(values: Any) -> list[float | None] | None:
    if not isinstance(values, list):
        return None
    return [_num(v) for v in values]


def _t(x: float, y: float, text: Any, anchor: str = "start", size: int = 11,
       fill: str = "#374151", weight: str = "normal") -> str:
    return (f'<text x="{x:.1f}" y="{y:.1f}" text-anchor="{anchor}" font-size="{size}" '
            f'fill="{fill}" font-weight="{weight}" {FONT}>{escape(str(text))}</text>')


def _line(x1: float, x2: float, y1: float, y2: float, stroke: str, extra: str = "") -> str:
    return f'<line x1="{x1:.1f}" x2="{x2:.1f}" y1="{y1:.1f}" y2="{y2:.1f}" stroke="{stroke}" {extra}/>'


def _svg(width: int, height: int, body: list[str], title: str) -> Markup:
    return Markup(
        f'<svg class="plot" role="img" width="{width}" height="{height}" '
        f'viewBox="0 0 {width} {height}" preserveAspectRatio="xMinYMin meet">'
        f"<title>{escape(title)}</title>" + "".join(body) + "</svg>"
    )


def _scale(lo: float, hi: float, a: float, b: float) -> Callable[[float], float]:
    """Map [lo, hi] onto pixels [a, b]; a zero-width range is widened so it still draws."""
    if hi - lo < 1e-12:
        pad = abs(lo) * 0.1 or 1.0
        lo, hi = lo - pad, hi + pad
    return lambda v: a + (v - lo) / (hi - lo) * (b - a)


def _ticks(lo: float, hi: float, n: int = 5) -> list[float]:
    """Round tick positions covering [lo, hi]."""
    if hi - lo < 1e-12:
        return [lo]
    raw = (hi - lo) / max(n - 1, 1)
    mag = 10 ** math.floor(math.log10(raw))
    step = min((m * mag for m in (1, 2, 2.5, 5, 10) if m * mag >= raw), default=raw)
    start = math.ceil(lo / step) * step
    return [start + i * step for i in range(int((hi - start) / step + 1e-9) + 1)]


def tick_label(value: float, ticks: Sequence[float]) -> str:
    """Tick labels with as many decimals as the tick step needs, the same for every tick."""
    step = abs(ticks[1] - ticks[0]) if len(ticks) > 1 else abs(value) or 1.0
    decimals = max(0, -math.floor(math.log10(step) + 1e-9)) + (1 if round(step / 10 ** math.floor(math.log10(step)), 6) == 2.5 else 0)
    return f"{value:.{min(decimals, 6)}f}".replace("-", "−")


def _padded(values: Sequence[float], include_zero: bool = False) -> tuple[float, float]:
    vals = list(values) + ([0.0] if include_zero else [])
    lo, hi = min(vals), max(vals)
    pad = (hi - lo) * 0.08 or abs(hi) * 0.1 or 1.0
    return lo - pad, hi + pad


def forest_plot(rows: Sequence[dict[str, Any]], title: str = "Effects with 95% CI") -> Markup | None:
    """One line per evidence row: the effect, its 95% CI and the decision threshold, each row on
    its own axis because the metrics of one claim rarely share a scale."""
    rows = [r for r in rows if _num(r.get("effect")) is not None]
    if not rows:
        return None
    width, label_w, right_w, row_h = 780, 240, 200, 34
    height = 24 + row_h * len(rows)
    body = [_t(8, 14, title, size=12, weight="600")]
    for i, r in enumerate(rows):
        y = 24 + row_h * i + row_h / 2
        eff = float(r["effect"])
        lo, hi = (eff if (v := _num(r.get(k))) is None else v for k in ("ci_low", "ci_high"))
        thr = _num(r.get("threshold")) if r.get("threshold") is not None else 0.0
        a, b = _padded([lo, hi, eff] + ([thr] if thr is not None else []))
        sx = _scale(a, b, label_w, width - right_w)
        colour = VERDICT_COLOURS.get(str(r.get("verdict")), "#6b7280")
        label = str(r.get("metric") or "")
        body.append(_t(label_w - 8, y + 4, label[:38] + ("…" if len(label) > 38 else ""), anchor="end"))
        body.append(f'<line x1="{label_w}" x2="{width - right_w}" y1="{y:.1f}" y2="{y:.1f}" stroke="#e5e7eb"/>')
        if thr is not None:
            tx = sx(thr)
            body.append(_line(tx, tx, y - 11, y + 11, "#9ca3af", 'stroke-dasharray="3,2"'))
        body.append(_line(sx(lo), sx(hi), y, y, colour, 'stroke-width="2.5"'))
        for end in (lo, hi):
            body.append(_line(sx(end), sx(end), y - 5, y + 5, colour, 'stroke-width="2"'))
        body.append(f'<circle cx="{sx(eff):.1f}" cy="{y:.1f}" r="5" fill="{colour}"/>')
        ci = "" if hi - lo <= 1e-12 * max(abs(eff), 1.0) else f" [{fmt(lo)}, {fmt(hi)}]"
        body.append(_t(width - right_w + 10, y + 4, f"{fmt(eff)}{ci}", fill=colour))
    return _svg(width, height, body, title)


def line_plot(data: dict[str, Any], title: str = "") -> Markup | None:
    """Curves `{"x": [...], "series": {name: [...]}}`; gaps (null) break nothing."""
    xs_raw, series = data.get("x"), data.get("series")
    if not isinstance(xs_raw, list) or not isinstance(series, dict) or not xs_raw or not series:
        return None
    numeric_x = all(_num(v) is not None for v in xs_raw)
    xs = [float(v) for v in xs_raw] if numeric_x else [float(i) for i in range(len(xs_raw))]
    clean: dict[str, list[float | None]] = {}
    for key, raw in series.items():
        values = _nums(raw)
        if values is not None and len(values) == len(xs):
            clean[str(key)] = values
    ys = [y for v in clean.values() for y in v if y is not None]
    if not clean or not ys:
        return None
    width, height, left, right, top, bottom = 560, 260, 56, 150, 26, 40
    y_lo, y_hi = _padded(ys)
    sx = _scale(min(xs), max(xs), left, width - right)
    sy = _scale(y_lo, y_hi, height - bottom, top)
    body = [_t(8, 15, title or data.get("title") or "", size=12, weight="600")]
    body += _axes(left, width - right, top, height - bottom, sy, y_lo, y_hi)
    ticks = _ticks(min(xs), max(xs))
    x_ticks = [(x, tick_label(x, ticks)) for x in ticks] if numeric_x else \
        [(float(i), str(v)[:12]) for i, v in enumerate(xs_raw)]
    for xv, lab in x_ticks[:12]:
        body.append(_t(sx(xv), height - bottom + 15, lab, anchor="middle", size=10))
    xlabel, ylabel = data.get("xlabel") or data.get("x_label"), data.get("ylabel") or data.get("y_label")
    if xlabel:
        body.append(_t((left + width - right) / 2, height - 6, xlabel, anchor="middle", size=10))
    if ylabel:
        body.append(_t(left, top - 6, ylabel, size=10))
    for i, (name, values) in enumerate(clean.items()):
        colour = PALETTE[i % len(PALETTE)]
        pts = [(sx(x), sy(y)) for x, y in zip(xs, values) if y is not None]
        for run in _runs(xs, values):
            d = " ".join(f"{sx(x):.1f},{sy(y):.1f}" for x, y in run)
            body.append(f'<polyline points="{d}" fill="none" stroke="{colour}" stroke-width="2"/>')
        body += [f'<circle cx="{px:.1f}" cy="{py:.1f}" r="2.8" fill="{colour}"/>' for px, py in pts]
        ly = top + 6 + 16 * i
        body.append(f'<rect x="{width - right + 12}" y="{ly - 8}" width="10" height="10" fill="{colour}"/>')
        body.append(_t(width - right + 27, ly + 1, name[:24], size=10))
    return _svg(width, height, body, title or str(data.get("title") or "curve"))


def _runs(xs: Sequence[float], ys: Sequence[float | None]) -> list[list[tuple[float, float]]]:
    """Consecutive stretches without a missing value: a gap in the data is a gap in the line."""
    runs: list[list[tuple[float, float]]] = [[]]
    for x, y in zip(xs, ys):
        if y is None:
            runs.append([])
        else:
            runs[-1].append((x, y))
    return [r for r in runs if len(r) > 1]


def _axes(x0: float, x1: float, y_top: float, y_bot: float, sy: Callable[[float], float],
          lo: float, hi: float) -> list[str]:
    out = [f'<line x1="{x0}" x2="{x0}" y1="{y_top}" y2="{y_bot}" stroke="#9ca3af"/>',
           f'<line x1="{x0}" x2="{x1}" y1="{y_bot}" y2="{y_bot}" stroke="#9ca3af"/>']
    ticks = _ticks(lo, hi)
    for tick in ticks:
        ty = sy(tick)
        out.append(f'<line x1="{x0}" x2="{x1}" y1="{ty:.1f}" y2="{ty:.1f}" stroke="#f1f5f9"/>')
        out.append(_t(x0 - 5, ty + 3.5, tick_label(tick, ticks), anchor="end", size=10))
    return out


def heatmap(data: dict[str, Any], title: str = "") -> Markup | None:
    """A square or rectangular matrix `{"labels": [...], "matrix": [[...]]}` as shaded cells."""
    matrix, labels = data.get("matrix"), data.get("labels")
    if not isinstance(matrix, list) or not matrix or not all(isinstance(r, list) for r in matrix):
        return None
    rows = [_nums(r) or [] for r in matrix]
    n_cols = len(rows[0])
    if n_cols == 0 or any(len(r) != n_cols for r in rows):
        return None
    row_labels = data.get("row_labels") or labels or [str(i) for i in range(len(rows))]
    col_labels = data.get("col_labels") or labels or [str(i) for i in range(n_cols)]
    if len(row_labels) != len(rows) or len(col_labels) != n_cols:
        return None
    vals = [v for r in rows for v in r if v is not None]
    if not vals:
        return None
    lo, hi = min(vals), max(vals)
    cell = max(22, min(54, 440 // max(n_cols, len(rows))))
    left, top = 130, 30 + 12
    width, height = max(left + cell * n_cols + 20, 360), top + cell * len(rows) + 70
    body = [_t(8, 15, title or data.get("title") or "", size=12, weight="600")]
    for i, r in enumerate(rows):
        body.append(_t(left - 6, top + cell * i + cell / 2 + 4, str(row_labels[i])[:20], anchor="end", size=10))
        for j, v in enumerate(r):
            x, y = left + cell * j, top + cell * i
            shade = 0.0 if v is None or hi - lo < 1e-12 else (v - lo) / (hi - lo)
            fill = "#f3f4f6" if v is None else _blue(shade)
            body.append(f'<rect x="{x}" y="{y}" width="{cell - 1}" height="{cell - 1}" fill="{fill}"/>')
            if cell >= 30 and v is not None:
                body.append(_t(x + cell / 2, y + cell / 2 + 4, fmt(v), anchor="middle", size=9,
                               fill="#ffffff" if shade > 0.55 else "#111827"))
    for j, lab in enumerate(col_labels):
        lx, ly = left + cell * j + cell / 2, top + cell * len(rows) + 8
        body.append(f'<g transform="translate({lx:.1f},{ly:.1f}) rotate(35)">{_t(0, 0, str(lab)[:16], size=10)}</g>')
    body.append(_t(left, height - 6, f"scale {fmt(lo)} (light) to {fmt(hi)} (dark)", size=10))
    return _svg(width, height, body, title or str(data.get("title") or "matrix"))


def _blue(t: float) -> str:
    """Interpolate from near-white to deep blue."""
    a, b = (239, 246, 255), (30, 64, 175)
    r, g, bl = (round(a[k] + (b[k] - a[k]) * t) for k in range(3))
    return f"#{r:02x}{g:02x}{bl:02x}"


def bar_chart(data: dict[str, Any], title: str = "") -> Markup | None:
    """Horizontal bars `{"labels", "values", "low"?, "high"?}` with interval whiskers."""
    labels, values = data.get("labels"), _nums(data.get("values"))
    if not isinstance(labels, list) or values is None or len(labels) != len(values) or not labels:
        return None
    low, high = _nums(data.get("low")), _nums(data.get("high"))
    low = low if low is not None and len(low) == len(values) else [None] * len(values)
    high = high if high is not None and len(high) == len(values) else [None] * len(values)
    if len(labels) > MAX_BARS:  # one bar per question would run for pages; show the first ones
        title = f"{title or data.get('title') or ''} (first {MAX_BARS} of {len(labels)})"
        labels, values, low, high = labels[:MAX_BARS], values[:MAX_BARS], low[:MAX_BARS], high[:MAX_BARS]
    everything = [v for v in values + low + high if v is not None]
    if not everything:
        return None
    width, left, right, row_h, top = 560, 150, 110, 26, 26
    height = top + row_h * len(labels) + 24
    lo, hi = _padded(everything, include_zero=True)
    sx = _scale(lo, hi, left, width - right)
    body = [_t(8, 15, title or data.get("title") or "", size=12, weight="600")]
    zero = sx(0.0)
    for i, (lab, v) in enumerate(zip(labels, values)):
        y = top + row_h * i
        body.append(_t(left - 6, y + row_h / 2 + 4, str(lab)[:22], anchor="end", size=10))
        if v is None:
            continue
        colour = PALETTE[0] if v >= 0 else PALETTE[1]
        x0, x1 = sorted((zero, sx(v)))
        body.append(f'<rect x="{x0:.1f}" y="{y + 5}" width="{max(x1 - x0, 1):.1f}" height="{row_h - 10}" '
                    f'fill="{colour}" opacity="0.8"/>')
        w_lo, w_hi = low[i], high[i]
        if w_lo is not None and w_hi is not None:
            cy = y + row_h / 2
            body.append(_line(sx(w_lo), sx(w_hi), cy, cy, "#111827", 'stroke-width="1.5"'))
        body.append(_t(width - right + 8, y + row_h / 2 + 4, fmt(v), size=10))
    body.append(f'<line x1="{zero:.1f}" x2="{zero:.1f}" y1="{top}" y2="{height - 24}" stroke="#6b7280"/>')
    return _svg(width, height, body, title or str(data.get("title") or "bars"))


def waterfall(data: dict[str, Any], title: str = "Stage decomposition (Shapley values)") -> Markup | None:
    """Each stage's Shapley share of the measured convergence, stacked from 0 to the total."""
    stages, shap = data.get("stages"), _nums(data.get("shapley"))
    if not isinstance(stages, list) or shap is None or len(stages) != len(shap) or not stages:
        return None
    low, high = _nums(data.get("low")) or [], _nums(data.get("high")) or []
    total = _num(data.get("total"))
    total = total if total is not None else sum(v or 0.0 for v in shap)
    width, left, right, row_h, top = 640, 130, 150, 30, 28
    height = top + row_h * (len(stages) + 1) + 26
    cum, bars = 0.0, []
    for v in shap:
        bars.append((cum, cum + (v or 0.0)))
        cum += v or 0.0
    ends = [e for b in bars for e in b] + [total, 0.0]
    intervals = [(_at(low, i), _at(high, i)) for i in range(len(bars))]
    ends += [bars[i][0] + e for i, pair in enumerate(intervals) for e in pair if e is not None]
    lo, hi = _padded(ends, include_zero=True)
    sx = _scale(lo, hi, left, width - right)
    body = [_t(8, 15, title, size=12, weight="600")]
    for i, (name, (a, b)) in enumerate(zip(stages, bars)):
        y = top + row_h * i
        colour = "#2563eb" if b >= a else "#d97706"
        x0, x1 = sorted((sx(a), sx(b)))
        body.append(_t(left - 6, y + row_h / 2 + 4, str(name)[:20], anchor="end", size=11))
        body.append(f'<rect x="{x0:.1f}" y="{y + 5}" width="{max(x1 - x0, 1):.1f}" height="{row_h - 10}" fill="{colour}"/>')
        w_lo, w_hi = intervals[i]
        if w_lo is not None and w_hi is not None:
            # The interval is on the stage's own contribution, so it starts where the bar starts.
            cy = y + row_h / 2
            body.append(_line(sx(a + w_lo), sx(a + w_hi), cy, cy, "#111827", 'stroke-width="1.5"'))
        ci = f" [{fmt(w_lo)}, {fmt(w_hi)}]" if w_lo is not None and w_hi is not None else ""
        body.append(_t(width - right + 8, y + row_h / 2 + 4, f"{fmt(shap[i])}{ci}", size=10))
        if i + 1 < len(stages):
            body.append(_line(sx(b), sx(b), y + row_h - 5, y + row_h + 5, "#9ca3af", 'stroke-dasharray="2,2"'))
    y = top + row_h * len(stages)
    x0, x1 = sorted((sx(0.0), sx(total)))
    body.append(_t(left - 6, y + row_h / 2 + 4, "total", anchor="end", size=11, weight="600"))
    body.append(f'<rect x="{x0:.1f}" y="{y + 5}" width="{max(x1 - x0, 1):.1f}" height="{row_h - 10}" fill="#111827"/>')
    t_lo, t_hi = _num(data.get("total_low")), _num(data.get("total_high"))
    t_ci = f" [{fmt(t_lo)}, {fmt(t_hi)}]" if t_lo is not None and t_hi is not None else ""
    body.append(_t(width - right + 8, y + row_h / 2 + 4, f"{fmt(total)}{t_ci}", size=10, weight="600"))
    body.append(f'<line x1="{sx(0):.1f}" x2="{sx(0):.1f}" y1="{top}" y2="{y + row_h}" stroke="#6b7280"/>')
    return _svg(width, height, body, title)


def frontier(points: Any, title: str = "Counter-pressures: diversity gained vs quality lost") -> Markup | None:
    """Each counter-pressure at (quality cost, diversity gain) with both intervals; the
    non-dominated ones (no other gains more for less cost) are joined as the frontier."""
    if not isinstance(points, list):
        return None
    pts = [p for p in points if isinstance(p, dict) and _num(p.get("diversity_gain")) is not None
           and _num(p.get("quality_cost")) is not None]
    if not pts:
        return None
    width, height, left, right, top, bottom = 620, 340, 60, 30, 28, 44

    def val(p: dict[str, Any], key: str, default_key: str) -> float:
        v = _num(p.get(key))
        return v if v is not None else float(p[default_key])

    xs = [val(p, k, "quality_cost") for p in pts for k in ("cost_low", "cost_high", "quality_cost")]
    ys = [val(p, k, "diversity_gain") for p in pts for k in ("gain_low", "gain_high", "diversity_gain")]
    x_lo, x_hi = _padded(xs, include_zero=True)
    y_lo, y_hi = _padded(ys, include_zero=True)
    sx = _scale(x_lo, x_hi, left, width - right)
    sy = _scale(y_lo, y_hi, height - bottom, top)
    body = [_t(8, 15, title, size=12, weight="600")]
    body += _axes(left, width - right, top, height - bottom, sy, y_lo, y_hi)
    ticks = _ticks(x_lo, x_hi)
    for tick in ticks:
        body.append(_t(sx(tick), height - bottom + 15, tick_label(tick, ticks), anchor="middle", size=10))
    body.append(_t((left + width - right) / 2, height - 8, "quality cost →", anchor="middle", size=10))
    body.append(_t(left + 4, top + 10, "↑ diversity gain", size=10))
    body.append(f'<line x1="{sx(0):.1f}" x2="{sx(0):.1f}" y1="{top}" y2="{height - bottom}" stroke="#d1d5db" stroke-dasharray="3,3"/>')
    body.append(f'<line x1="{left}" x2="{width - right}" y1="{sy(0):.1f}" y2="{sy(0):.1f}" stroke="#d1d5db" stroke-dasharray="3,3"/>')
    best = pareto_front([(float(p["quality_cost"]), float(p["diversity_gain"])) for p in pts])
    if len(best) > 1:
        d = " ".join(f"{sx(c):.1f},{sy(g):.1f}" for c, g in best)
        body.append(f'<polyline points="{d}" fill="none" stroke="#059669" stroke-width="2" opacity="0.7"/>')
    for i, p in enumerate(pts):
        c, g, colour = float(p["quality_cost"]), float(p["diversity_gain"]), PALETTE[i % len(PALETTE)]
        body.append(_line(sx(val(p, "cost_low", "quality_cost")), sx(val(p, "cost_high", "quality_cost")),
                          sy(g), sy(g), colour, 'opacity="0.6"'))
        body.append(_line(sx(c), sx(c), sy(val(p, "gain_low", "diversity_gain")),
                          sy(val(p, "gain_high", "diversity_gain")), colour, 'opacity="0.6"'))
        body.append(f'<circle cx="{sx(c):.1f}" cy="{sy(g):.1f}" r="5" fill="{colour}"/>')
        body.append(_t(sx(c) + 7, sy(g) - 6, str(p.get("name", ""))[:24], size=10, fill=colour))
    return _svg(width, height, body, title)


def _at(values: Sequence[float | None], i: int) -> float | None:
    return values[i] if i < len(values) else None


def pareto_front(points: Sequence[tuple[float, float]]) -> list[tuple[float, float]]:
    """The (cost, gain) points no other point beats on both: lower cost and higher gain."""
    front: list[tuple[float, float]] = []
    for c, g in sorted(points, key=lambda p: (p[0], -p[1])):
        if not front or g > front[-1][1]:
            front.append((c, g))
    return front


RENDERERS: tuple[tuple[Callable[[dict[str, Any]], bool], Callable[[dict[str, Any], str], Markup | None]], ...] = (
    (lambda d: "series" in d and "x" in d, line_plot),
    (lambda d: "matrix" in d, heatmap),
    (lambda d: "values" in d and "labels" in d, bar_chart),
    (lambda d: "stages" in d and "shapley" in d, waterfall),
)


def render_any(data: Any, title: str = "", depth: int = 0) -> list[Markup]:
    """Render every known plot shape found in `data` (a dict of one shape, a dict of named
    shapes one level down, or a list of them); unknown shapes give nothing."""
    out: list[Markup] = []
    if isinstance(data, list) and depth < 2:
        if data and all(isinstance(p, dict) and "diversity_gain" in p for p in data):
            svg = frontier(data)
            return [svg] if svg is not None else []
        for item in data[:12]:
            out += render_any(item, title, depth + 1)
        return out
    if not isinstance(data, dict):
        return out
    for matches, render in RENDERERS:
        if matches(data):
            try:
                svg = render(data, title)
            except (TypeError, ValueError, KeyError, ZeroDivisionError, OverflowError):
                svg = None
            return [svg] if svg is not None else []
    if depth < 1:
        for key, value in list(data.items())[:12]:
            out += render_any(value, str(key).replace("_", " "), depth + 1)
    return out
