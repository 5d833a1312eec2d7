"""C3 on NoveltyBench's released generations, as one figure: distinct samples per draw of every
model of each same-family size ladder (smallest first), from homogeny's own equivalence (MiniLM
classes at cosine 0.85) and from NoveltyBench's released partitions, side by side, with the
humans' distinct per draw (NoveltyBench partitions) as the floor line.

Reads C3's `imported_ladders` artifact from a store that C3 ran on imported ladders (as
benchmarks/import_claims_noveltybench.py leaves it) and writes one self-contained SVG drawn with
the report's own chart code (homogeny.report.plots); prints the values it draws.

Run: python benchmarks/figure_distinct_side_by_side.py --store /tmp/nb.duckdb \
         [--out benchmarks/figures/distinct_side_by_side.svg]
"""

from __future__ import annotations

import argparse
import re
import sys
from pathlib import Path
from typing import Any

from markupsafe import escape

from homogeny.importing.stored import partitions
from homogeny.report.plots import FONT, INK, fmt, line_plot
from homogeny.store import Store

OUT = Path(__file__).resolve().parent / "figures" / "distinct_side_by_side.svg"
OURS = "homogeny (MiniLM, cosine 0.85)"
THEIRS = "NoveltyBench partitions"
FLOOR = "humans (NoveltyBench partitions)"
HEADER, GAP = 44, 16


def ladder_data(store_path: str) -> dict[str, Any]:
    """C3's imported ladders from the store: per family its models smallest first (model,
    params, distinct per draw both ways), the humans' value, and prompts per ladder model."""
    with Store.open(store_path, read_only=True) as st:
        art = st.artifact("c3", "imported_ladders")
        if not art:
            raise SystemExit(f"{store_path}: no C3 imported_ladders artifact (run c3 first)")
        draws = partitions(st)
    by_model = {m["model"]: m for m in art["models"]}
    prompts = {m: len({p for (mid, p) in draws if mid == m}) for m in by_model}
    return {
        "ladders": {f: [by_model[m] for m in ms] for f, ms in art["ladders"].items()},
        "human": art.get("human_noveltybench_distinct_per_draw"),
        "prompts": prompts,
    }


def size_label(params: float) -> str:
    """Parameters as an axis label: 405e9 -> "405B", 2.61e9 -> "2.61B"."""
    return f"{params / 1e9:.3g}B"


def panel(family: str, models: list[dict[str, Any]], human: float | None) -> str:
    """One ladder's chart (the bare <svg> of homogeny.report.plots.line_plot)."""
    series = {
        OURS: [m["distinct_per_draw"] for m in models],
        THEIRS: [m["noveltybench_distinct_per_draw"] for m in models],
    }
    if human is not None:
        series[FLOOR] = [human] * len(models)
    chart = line_plot(
        {
            "x": [size_label(m["params"]) for m in models],
            "series": series,
            "xlabel": f"{family} parameters (smallest first)",
            "ylabel": "distinct per draw (classes / k)",
        },
        title=f"{family}: distinct per draw by size",
    )
    assert chart is not None, family
    return str(chart).split("</svg>")[0] + "</svg>"  # the hidden values table stays out


def compose(data: dict[str, Any]) -> str:
    """The ladders' charts side by side in one standalone SVG, each under its own heading."""
    parts, x, height = [], 0.0, 0.0
    for family, models in data["ladders"].items():
        svg = panel(family, models, data["human"])
        w, h = (float(v) for v in re.search(r'width="(\d+)" height="(\d+)"', svg).groups())  # type: ignore[union-attr]
        n = max(data["prompts"].get(m["model"], 0) for m in models)
        heading = f"{family}: {len(models)} models, {n} prompts x 10 draws"
        parts.append(
            f'<text x="{x + 8:.0f}" y="{HEADER - 12}" font-size="13" font-weight="600" '
            f'fill="{INK}" {FONT}>{escape(heading)}</text>'
        )
        parts.append(svg.replace("<svg ", f'<svg x="{x:.0f}" y="{HEADER}" ', 1))
        x, height = x + w + GAP, max(height, h)
    width, total = x - GAP, height + HEADER
    return (
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{width:.0f}" height="{total:.0f}" '
        f'viewBox="0 0 {width:.0f} {total:.0f}"><rect width="100%" height="100%" fill="#fff"/>'
        + "".join(parts)
        + "</svg>\n"
    )


def write_figure(store_path: str, out: Path = OUT) -> Path:
    """Draw the figure from the store into `out`, print its values, return `out`."""
    data = ladder_data(store_path)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(compose(data), encoding="utf-8")
    print(f"{'model':44} {'params':>7} {'homogeny':>9} {'NoveltyBench':>12}")
    for models in data["ladders"].values():
        for m in models:
            ours, theirs = fmt(m["distinct_per_draw"]), fmt(m["noveltybench_distinct_per_draw"])
            print(f"{m['model']:44} {size_label(m['params']):>7} {ours:>9} {theirs:>12}")
    print(
        f"{'imported:human (NoveltyBench partitions)':44} {'':>7} {'':>9} {fmt(data['human']):>12}"
    )
    print(f"figure: {out}")
    return out


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--store", required=True, help="a store C3 ran on imported ladders")
    ap.add_argument("--out", type=Path, default=OUT, help=f"SVG to write (default {OUT})")
    args = ap.parse_args()
    write_figure(args.store, args.out)
    return 0


if __name__ == "__main__":
    sys.exit(main())
