"""The report's summary charts: the effect plot (evidence rows grouped by unit on one shared
axis each), the stage waterfall and the counter-pressure frontier, and `render_any`, which
draws whatever known plot shape an experiment stored."""

from __future__ import annotations

import textwrap
from collections.abc import Callable, Sequence
from typing import Any

from markupsafe import Markup

from homogeny.report import labels
from homogeny.report.plots import (
    MUTED,
    _line,
    _num,
    _padded,
    _scale,
    _svg,
    _t,
    _ticks,
    bar_chart,
    data_table,
    fmt,
    heatmap,
    line_plot,
    short,
    text_w,
    tick_label,
)
from homogeny.report.stage_plots import frontier, waterfall

VERDICT_COLOURS = {"supported": "#15803d", "contradicted": "#b91c1c", "inconclusive": "#4b5563"}
VERDICT_MARKS = {
    "supported": "● supported",
    "contradicted": "◆ contradicted",
    "inconclusive": "○ inconclusive",
}
WIDTH, X0, X1, FONT, LINE = 420, 8, 412, 13, 17  # 420 wide: 13 px text stays >= 10 px on a phone
LABEL_CHARS = int((X1 - X0) / (FONT * 0.62))


def marker(verdict: str, x: float, y: float) -> str:
    """The verdict as a shape: filled circle (supported), diamond (contradicted), ring (open)."""
    colour = VERDICT_COLOURS.get(verdict, VERDICT_COLOURS["inconclusive"])
    if verdict == "supported":
        return f'<circle cx="{x:.1f}" cy="{y:.1f}" r="5.5" fill="{colour}"/>'
    if verdict == "contradicted":
        pts = f"{x:.1f},{y - 7:.1f} {x + 7:.1f},{y:.1f} {x:.1f},{y + 7:.1f} {x - 7:.1f},{y:.1f}"
        return f'<polygon points="{pts}" fill="{colour}"/>'
    return (
        f'<circle cx="{x:.1f}" cy="{y:.1f}" r="5" fill="#ffffff" stroke="{colour}" '
        'stroke-width="2"/>'
    )


def _effect_rows(rows: Sequence[dict[str, Any]]) -> dict[str, list[dict[str, Any]]]:
    """Rows with a finite effect, grouped by unit in order of first appearance."""
    groups: dict[str, list[dict[str, Any]]] = {}
    for r in rows:
        eff = _num(r.get("effect"))
        if eff is None:
            continue
        lo, hi = (eff if (v := _num(r.get(k))) is None else v for k in ("ci_low", "ci_high"))
        thr = _num(r.get("threshold"))
        groups.setdefault(labels.unit(r) or "other units", []).append(
            {
                "name": labels.name(r),
                "effect": eff,
                "lo": lo,
                "hi": hi,
                "thr": 0.0 if thr is None else thr,
                "verdict": str(r.get("verdict") or "inconclusive"),
            }
        )
    return groups


def forest_plot(
    rows: Sequence[dict[str, Any]], title: str = "Effect sizes with 95% CI"
) -> Markup | None:
    """Every evidence row's effect and 95% CI, rows of one unit on one shared ticked axis with
    0 (solid) and each row's threshold (dashed) marked; the verdict is a shape, a word and a
    colour. Each row's name (wrapped) sits above its interval, so the chart is narrow enough
    to fit a phone at a readable size (text >= 10 px at 375 px wide)."""
    groups = _effect_rows(rows)
    if not groups:
        return None
    body, y = _legend(), 56.0
    for unit, group in groups.items():
        body.append(_t(X0, y + 4, f"Unit: {short(unit, 46)}", size=FONT, weight="600"))
        y += 14
        ends = [e for r in group for e in (r["lo"], r["hi"], r["effect"], r["thr"])]
        a, b = _padded(ends, include_zero=True)
        sx = _scale(a, b, X0 + 6, X1 - 6)
        for r in group:
            lines = textwrap.wrap(r["name"], LABEL_CHARS, max_lines=4, placeholder=" …") or [""]
            h = LINE * len(lines) + 48
            body += _effect_row(r, lines, y, sx)
            y += h
        body += _shared_axis(sx, a, b, y)
        y += 44
    table = data_table(
        title,
        ["measure", "unit", "effect", "95% CI low", "95% CI high", "threshold", "verdict"],
        [
            [r["name"], u, r["effect"], r["lo"], r["hi"], r["thr"], r["verdict"]]
            for u, g in groups.items()
            for r in g
        ],
    )
    return _svg(WIDTH, y - 16, body, title, table, fit=True)


def _legend() -> list[str]:
    out, x = [], float(X0 + 6)
    for verdict, text in VERDICT_MARKS.items():
        out += [marker(verdict, x, 16), _t(x + 11, 21, text.split(" ", 1)[1], size=FONT)]
        x += 30 + text_w(text, FONT)
    x = float(X0 + 6)
    out += [_line(x, x, 30, 46, "#6b7280", 'stroke-width="1.5"'), _t(x + 7, 43, "0", size=FONT)]
    x += 34
    out += [
        _line(x, x, 30, 46, "#111827", 'stroke-dasharray="3,2"'),
        _t(x + 7, 43, "the row's threshold", size=FONT),
    ]
    return out


def _effect_row(
    r: dict[str, Any], lines: list[str], y: float, sx: Callable[[float], float]
) -> list[str]:
    colour = VERDICT_COLOURS.get(r["verdict"], VERDICT_COLOURS["inconclusive"])
    out = [_t(X0, y + 16 + LINE * i, line, size=FONT) for i, line in enumerate(lines)]
    cy = y + LINE * len(lines) + 14
    out.append(_line(X0, X1, cy, cy, "#eef2f6"))
    out.append(_line(sx(0.0), sx(0.0), cy - 12, cy + 12, "#6b7280", 'stroke-width="1.5"'))
    if r["thr"] != 0.0:
        out.append(
            _line(sx(r["thr"]), sx(r["thr"]), cy - 12, cy + 12, "#111827", 'stroke-dasharray="3,2"')
        )
    out.append(_line(sx(r["lo"]), sx(r["hi"]), cy, cy, colour, 'stroke-width="2.5"'))
    out += [
        _line(sx(e), sx(e), cy - 5, cy + 5, colour, 'stroke-width="2"') for e in (r["lo"], r["hi"])
    ]
    out.append(marker(r["verdict"], sx(r["effect"]), cy))
    mark = VERDICT_MARKS.get(r["verdict"], r["verdict"])
    out.append(_t(X0, cy + 26, mark, size=FONT, fill=colour))
    value = f"{fmt(r['effect'])} [{fmt(r['lo'])}, {fmt(r['hi'])}]"
    out.append(_t(X0 + text_w(VERDICT_MARKS["contradicted"], FONT) + 10, cy + 26, value, size=FONT))
    return out


def _shared_axis(sx: Callable[[float], float], a: float, b: float, bottom: float) -> list[str]:
    """The group's axis under its last row: ticks, labels, and 0 marked."""
    out = [
        _line(X0, X1, bottom, bottom, "#9ca3af"),
        _line(sx(0.0), sx(0.0), bottom - 6, bottom + 6, "#6b7280", 'stroke-width="1.5"'),
    ]
    ticks = [t for t in _ticks(a, b) if a <= t <= b]
    for t in ticks:
        label, x = tick_label(t, ticks), sx(t)
        half = text_w(label, FONT) / 2
        anchor = "start" if x - half < X0 else "end" if x + half > X1 else "middle"
        out += [
            _line(x, x, bottom, bottom + 4, "#9ca3af"),
            _t(x, bottom + 18, label, anchor=anchor, size=FONT, fill=MUTED),
        ]
    return out


RENDERERS: tuple[
    tuple[Callable[[dict[str, Any]], bool], Callable[[dict[str, Any], str], Markup | None]], ...
] = (
    (lambda d: "series" in d and "x" in d, line_plot),
    (lambda d: "matrix" in d, heatmap),
    (lambda d: "values" in d and "labels" in d, bar_chart),
    (lambda d: "stages" in d and "shapley" in d, waterfall),
)


def render_any(data: Any, title: str = "", depth: int = 0) -> list[tuple[str, Markup]]:
    """(title, chart) for every known plot shape found in `data` (a dict of one shape, a dict
    of named shapes one level down, or a list of them); unknown shapes give nothing."""
    out: list[tuple[str, Markup]] = []
    if isinstance(data, list) and depth < 2:
        if data and all(isinstance(p, dict) and "diversity_gain" in p for p in data):
            svg = frontier(data)
            return [(title, svg)] if svg is not None else []
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
            return [(title or str(data.get("title") or ""), svg)] if svg is not None else []
    if depth < 1:
        for key, value in list(data.items())[:12]:
            sub = str(key).replace("_", " ")
            out += render_any(value, f"{title}: {sub}" if title else sub, depth + 1)
    return out
