"""Static inline SVG charts for the report: line curves, heatmaps and bar charts drawn from
experiment data (the effect plot, stage waterfall and frontier live in `summary_plots`).

Hand-written because the page must be one self-contained file with no JavaScript plotting
library and no network; matplotlib's SVG output embeds fonts and ids that clash across plots.
Every label is escaped (markupsafe): artifact data can carry model text. Every chart comes
with a visually hidden table of the values it draws, its text alternative; the chart's title
is the figure caption (HTML, so it wraps), not SVG text.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from typing import Any

from markupsafe import Markup, escape

PALETTE = ("#2563eb", "#d97706", "#059669", "#dc2626", "#7c3aed", "#0891b2", "#be185d", "#4b5563")
MAX_BARS = 30
FONT = 'font-family="system-ui, -apple-system, Segoe UI, sans-serif"'
INK, MUTED = "#1f2937", "#4b5563"
CHAR_W = 0.62  # a generous average glyph width, in em, to size margins so no text is clipped


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


def text_w(text: Any, size: float = 11) -> float:
    """Estimated width in pixels of `text` at font `size` (generous, never under)."""
    return len(str(text)) * size * CHAR_W


def short(text: Any, n: int) -> str:
    """`text` cut to n characters with an ellipsis (the data table keeps the full text)."""
    s = str(text)
    return s if len(s) <= n else s[: n - 1] + "…"


def _t(
    x: float,
    y: float,
    text: Any,
    anchor: str = "start",
    size: int = 11,
    fill: str = INK,
    weight: str = "normal",
) -> str:
    return (
        f'<text x="{x:.1f}" y="{y:.1f}" text-anchor="{anchor}" font-size="{size}" '
        f'fill="{fill}" font-weight="{weight}" {FONT}>{escape(str(text))}</text>'
    )


def _line(x1: float, x2: float, y1: float, y2: float, stroke: str, extra: str = "") -> str:
    return (
        f'<line x1="{x1:.1f}" x2="{x2:.1f}" y1="{y1:.1f}" y2="{y2:.1f}" stroke="{stroke}" {extra}/>'
    )


def cellfmt(v: Any) -> str:
    """A table cell: numbers through `fmt`, everything else as text."""
    return (
        fmt(v)
        if isinstance(v, (int, float)) and not isinstance(v, bool)
        else str("—" if v is None else v)
    )


def data_table(title: str, headers: Sequence[str], rows: Sequence[Sequence[Any]]) -> Markup:
    """The chart's values as a visually hidden table: the text alternative a screen reader
    (or a copy-paste) gets, and what tells two figures' data apart."""
    head = "".join(f"<th>{escape(h)}</th>" for h in headers)
    body = "".join(
        "<tr>" + "".join(f"<td>{escape(cellfmt(v))}</td>" for v in r) + "</tr>" for r in rows
    )
    return Markup(
        f'<div class="sr-only"><table class="values"><caption>Values: {escape(title)}</caption>'
        f"<thead><tr>{head}</tr></thead><tbody>{body}</tbody></table></div>"
    )


def _svg(
    width: float, height: float, body: list[str], title: str, table: Markup, fit: bool = False
) -> Markup:
    """The chart and its values table. `fit`: drawn narrow enough to shrink to a phone's width
    with its text still >= 10 px (the others keep their size there and scroll sideways)."""
    w, h = math.ceil(width), math.ceil(height)
    return (
        Markup(
            f'<svg class="{"plot fit" if fit else "plot"}" role="img" '
            f'aria-label="{escape(title)}" width="{w}" height="{h}" '
            f'viewBox="0 0 {w} {h}" preserveAspectRatio="xMinYMin meet">'
            f"<title>{escape(title)}</title>" + "".join(body) + "</svg>"
        )
        + table
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
    decimals = max(0, -math.floor(math.log10(step) + 1e-9)) + (
        1 if round(step / 10 ** math.floor(math.log10(step)), 6) == 2.5 else 0
    )
    return f"{value:.{min(decimals, 6)}f}".replace("-", "−")


def _padded(values: Sequence[float], include_zero: bool = False) -> tuple[float, float]:
    vals = list(values) + ([0.0] if include_zero else [])
    lo, hi = min(vals), max(vals)
    pad = (hi - lo) * 0.08 or abs(hi) * 0.1 or 1.0
    return lo - pad, hi + pad


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
    title = title or str(data.get("title") or "curve")
    names = [short(n, 36) for n in clean]
    left, top, bottom = 56, 22, 44
    right = 34 + max(text_w(n, 10) for n in names)
    width, height = 420 + right, 250
    y_lo, y_hi = _padded(ys)
    sx = _scale(min(xs), max(xs), left, width - right)
    sy = _scale(y_lo, y_hi, height - bottom, top)
    body = _axes(left, width - right, top, height - bottom, sy, y_lo, y_hi)
    ticks = _ticks(min(xs), max(xs))
    x_ticks = (
        [(x, tick_label(x, ticks)) for x in ticks]
        if numeric_x
        else [(float(i), short(v, 10)) for i, v in enumerate(xs_raw)]
    )
    for xv, lab in x_ticks[:12]:
        body.append(_t(sx(xv), height - bottom + 15, lab, anchor="middle", size=10))
    xlabel, ylabel = (
        data.get("xlabel") or data.get("x_label"),
        data.get("ylabel") or data.get("y_label"),
    )
    if xlabel:
        body.append(
            _t((left + width - right) / 2, height - 8, short(xlabel, 60), anchor="middle", size=10)
        )
    if ylabel:
        body.append(_t(4, top - 8, short(ylabel, 50), size=10))
    for i, (name, values) in enumerate(clean.items()):
        colour = PALETTE[i % len(PALETTE)]
        pts = [(sx(x), sy(y)) for x, y in zip(xs, values) if y is not None]
        for run in _runs(xs, values):
            d = " ".join(f"{sx(x):.1f},{sy(y):.1f}" for x, y in run)
            body.append(f'<polyline points="{d}" fill="none" stroke="{colour}" stroke-width="2"/>')
        body += [f'<circle cx="{px:.1f}" cy="{py:.1f}" r="2.8" fill="{colour}"/>' for px, py in pts]
        ly = top + 6 + 16 * i
        body.append(
            f'<rect x="{width - right + 12:.1f}" y="{ly - 8}" width="10" height="10" '
            f'fill="{colour}"/>'
        )
        body.append(_t(width - right + 27, ly + 1, names[i], size=10))
    rows = [[x, *(clean[k][j] for k in clean)] for j, x in enumerate(xs_raw)]
    table = data_table(title, [str(xlabel or "x"), *clean], rows)
    return _svg(width, height, body, title, table)


def _runs(xs: Sequence[float], ys: Sequence[float | None]) -> list[list[tuple[float, float]]]:
    """Consecutive stretches without a missing value: a gap in the data is a gap in the line."""
    runs: list[list[tuple[float, float]]] = [[]]
    for x, y in zip(xs, ys):
        if y is None:
            runs.append([])
        else:
            runs[-1].append((x, y))
    return [r for r in runs if len(r) > 1]


def _axes(
    x0: float,
    x1: float,
    y_top: float,
    y_bot: float,
    sy: Callable[[float], float],
    lo: float,
    hi: float,
) -> list[str]:
    out = [
        f'<line x1="{x0}" x2="{x0}" y1="{y_top}" y2="{y_bot}" stroke="#9ca3af"/>',
        f'<line x1="{x0}" x2="{x1}" y1="{y_bot}" y2="{y_bot}" stroke="#9ca3af"/>',
    ]
    ticks = _ticks(lo, hi)
    for tick in ticks:
        ty = sy(tick)
        out.append(f'<line x1="{x0}" x2="{x1}" y1="{ty:.1f}" y2="{ty:.1f}" stroke="#eef2f6"/>')
        out.append(_t(x0 - 5, ty + 3.5, tick_label(tick, ticks), anchor="end", size=10, fill=MUTED))
    return out


def heatmap(data: dict[str, Any], title: str = "") -> Markup | None:
    """A matrix `{"labels": [...], "matrix": [[...]]}` as shaded cells; on a square matrix
    with the same labels both ways the diagonal (a model with itself) is outlined."""
    matrix, labels = data.get("matrix"), data.get("labels")
    if not isinstance(matrix, list) or not matrix or not all(isinstance(r, list) for r in matrix):
        return None
    rows = [_nums(r) or [] for r in matrix]
    n_cols = len(rows[0])
    if n_cols == 0 or any(len(r) != n_cols for r in rows):
        return None
    row_labels = [str(v) for v in (data.get("row_labels") or labels or range(len(rows)))]
    col_labels = [str(v) for v in (data.get("col_labels") or labels or range(n_cols))]
    if len(row_labels) != len(rows) or len(col_labels) != n_cols:
        return None
    vals = [v for r in rows for v in r if v is not None]
    if not vals:
        return None
    title = title or str(data.get("title") or "matrix")
    square = row_labels == col_labels
    lo, hi = min(vals), max(vals)
    cell = max(30, min(60, 440 // max(n_cols, len(rows))))
    left, top = 12 + max(text_w(short(v, 24), 10) for v in row_labels), 8
    col_drop = max(text_w(short(v, 18), 10) for v in col_labels) * 0.6 + 16
    width = max(left + cell * n_cols + col_drop + 12, 340)
    height = top + cell * len(rows) + col_drop + 40
    body = []
    for i, r in enumerate(rows):
        body.append(
            _t(
                left - 6,
                top + cell * i + cell / 2 + 4,
                short(row_labels[i], 24),
                anchor="end",
                size=10,
            )
        )
        for j, v in enumerate(r):
            x, y = left + cell * j, top + cell * i
            shade = 0.0 if v is None or hi - lo < 1e-12 else (v - lo) / (hi - lo)
            fill = "#f3f4f6" if v is None else _blue(_ramp(shade))
            edge = ' stroke="#111827" stroke-width="2"' if square and i == j else ""
            body.append(
                f'<rect x="{x:.1f}" y="{y}" width="{cell - 2}" height="{cell - 2}" '
                f'fill="{fill}"{edge}/>'
            )
            if v is not None:
                body.append(
                    _t(
                        x + cell / 2 - 1,
                        y + cell / 2 + 3,
                        fmt(v),
                        anchor="middle",
                        size=10,
                        fill="#ffffff" if shade >= 0.5 else "#111827",
                    )
                )
    for j, lab in enumerate(col_labels):
        lx, ly = left + cell * j + cell / 2, top + cell * len(rows) + 10
        body.append(
            f'<g transform="translate({lx:.1f},{ly:.1f}) rotate(35)">'
            f"{_t(0, 0, short(lab, 18), size=10)}</g>"
        )
    note = f"shade: {fmt(lo)} light to {fmt(hi)} dark" + (
        "; outlined: the same model with itself" if square else ""
    )
    baseline = _num(data.get("baseline"))
    notes = [note] + (
        [f"random pairs (answers to different prompts): {fmt(baseline)}"]
        if baseline is not None
        else []
    )
    for k, line in enumerate(reversed(notes)):
        body.append(_t(4, height - 8 + 16 * (len(notes) - 1) - 16 * k, line, size=10, fill=MUTED))
    height += 16 * (len(notes) - 1)
    width = max(width, 12 + max(text_w(n, 10) for n in notes))
    cells = [[row_labels[i], *r] for i, r in enumerate(rows)]
    if baseline is not None:
        cells.append(["random pairs (different prompts)", *([baseline] * n_cols)])
    table = data_table(title, ["", *col_labels], cells)
    return _svg(width, height, body, title, table)


def _ramp(t: float) -> float:
    """Shade for a value at `t` in [0, 1]: the lower half on light blues (dark text at least
    4.5:1), the upper half on dark blues (white text at least 4.5:1), skipping the mid blues
    where neither reaches it."""
    return 0.65 * t / 0.5 if t < 0.5 else 0.75 + 0.25 * (t - 0.5) / 0.5


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
    title = title or str(data.get("title") or "bars")
    if len(labels) > MAX_BARS:  # one bar per question would run for pages; show the first ones
        title = f"{title} (first {MAX_BARS} of {len(labels)})"
        labels, values, low, high = (
            labels[:MAX_BARS],
            values[:MAX_BARS],
            low[:MAX_BARS],
            high[:MAX_BARS],
        )
    everything = [v for v in values + low + high if v is not None]
    if not everything:
        return None
    names = [short(v, 34) for v in labels]
    left, row_h, top = 14 + max(text_w(n, 10) for n in names), 26, 8
    width, right = left + 380, 100
    height = top + row_h * len(labels) + 24
    lo, hi = _padded(everything, include_zero=True)
    sx = _scale(lo, hi, left, width - right)
    body, zero = [], sx(0.0)
    for i, (lab, v) in enumerate(zip(names, values)):
        y = top + row_h * i
        body.append(_t(left - 6, y + row_h / 2 + 4, lab, anchor="end", size=10))
        if v is None:
            continue
        colour = PALETTE[0] if v >= 0 else PALETTE[1]
        x0, x1 = sorted((zero, sx(v)))
        body.append(
            f'<rect x="{x0:.1f}" y="{y + 5}" width="{max(x1 - x0, 1):.1f}" height="{row_h - 10}" '
            f'fill="{colour}" opacity="0.8"/>'
        )
        w_lo, w_hi = low[i], high[i]
        if w_lo is not None and w_hi is not None:
            cy = y + row_h / 2
            body.append(_line(sx(w_lo), sx(w_hi), cy, cy, "#111827", 'stroke-width="1.5"'))
        body.append(_t(width - right + 8, y + row_h / 2 + 4, fmt(v), size=10))
    body.append(
        f'<line x1="{zero:.1f}" x2="{zero:.1f}" y1="{top}" y2="{height - 24}" stroke="#6b7280"/>'
    )
    body.append(_t(zero, height - 8, "0", anchor="middle", size=10, fill=MUTED))
    rows = [[str(lab), v, low[i], high[i]] for i, (lab, v) in enumerate(zip(labels, values))]
    table = data_table(title, ["", "value", "95% CI low", "95% CI high"], rows)
    return _svg(width, height, body, title, table)
