"""Import of NoveltyBench's released generations, then C3 and C4 on them: time and rerun time.

Imports ../shared/data/noveltybench/generations (20 models x 100 prompts x 10 generations; not
part of the package) and sample_data (humans, GPT-4o's arms) into a fresh store, runs C3 (size
ladders of Llama 3, Gemma 2, Command R) and C4 (convergence across the 20) on every imported
model, then does it all again in the same store (nothing imported twice, embeddings cached).
Prints wall and CPU seconds of each step and the verdict rows of the ladders and the 20, then
draws C3's side-by-side figure (benchmarks/figure_distinct_side_by_side.py: distinct per draw
per ladder model, homogeny's equivalence beside NoveltyBench's partitions, humans as the floor).

Run: python benchmarks/import_claims_noveltybench.py [--store /tmp/nb.duckdb] [--figure F.svg]
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

from figure_distinct_side_by_side import OUT, write_figure

from homogeny.experiments.registry import run_claims
from homogeny.importing.load import import_files
from homogeny.importing.stored import imported_models
from homogeny.store import Store

DATA = Path(__file__).resolve().parents[2] / "shared" / "data" / "noveltybench"
SHOWN = (
    "distinct_per_draw_vs_size",
    "noveltybench_distinct_per_draw_vs_size",
    "ladder_distinct_per_draw_vs_size",
    "ladder_noveltybench_distinct_per_draw_vs_size",
    "share_intra_above_0_8",
    "hivemind_index",
    "model_minus_human_intra_similarity",
)


def timed(label: str, fn):  # noqa: ANN001, ANN201 - a benchmark helper
    """Run fn(), print its wall and CPU seconds, return its result."""
    wall, cpu = time.perf_counter(), time.process_time()
    out = fn()
    print(
        f"{label}: {time.perf_counter() - wall:.1f} s wall, {time.process_time() - cpu:.1f} s CPU"
    )
    return out


def once(store: str, tag: str) -> list:
    """Import, then C3 and C4 on every imported model."""
    paths = [DATA / "generations", DATA / "sample_data"]
    timed(f"{tag} import", lambda: import_files(paths, store))
    with Store.open(store, read_only=True) as st:
        specs = [m.model_id for m in imported_models(st)]
    quiet = lambda m: None  # noqa: E731
    rows = timed(f"{tag} c3", lambda: run_claims(["c3"], specs, store, log=quiet))
    rows += timed(f"{tag} c4", lambda: run_claims(["c4"], specs, store, log=quiet))
    return rows


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--store", default=None, help="store file (default: a fresh temporary one)")
    ap.add_argument("--figure", type=Path, default=OUT, help=f"SVG to write (default {OUT})")
    args = ap.parse_args()
    store = args.store or str(Path(tempfile.mkdtemp()) / "nb.duckdb")
    start = time.perf_counter()
    rows = once(store, "first")
    print(f"first total: {time.perf_counter() - start:.1f} s")
    start = time.perf_counter()
    once(store, "rerun")
    print(f"rerun total: {time.perf_counter() - start:.1f} s")
    for r in rows:
        if r.metric in SHOWN:
            print(f"{r.claim} {r.metric} [{r.subject[:60]}] {r.effect:+.3f} "
                  f"[{r.ci_low:+.3f}, {r.ci_high:+.3f}] n={r.n} {r.verdict}")  # fmt: skip
    write_figure(store, args.figure)
    return 0


if __name__ == "__main__":
    sys.exit(main())
