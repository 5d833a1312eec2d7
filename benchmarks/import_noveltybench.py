"""Import of NoveltyBench's released generations: time, idempotence and distinct vs published.

Imports ../shared/data/noveltybench/generations (20 models x 100 prompts x 10 generations; not
part of the package) into a fresh store, imports it again (nothing may be added), and compares
homogeny's `distinct` on the imported partitions with each model's published summary.json
`mean_distinct`. Prints the wall time of each step and the largest difference.

Run: python benchmarks/import_noveltybench.py [--store /tmp/nb.duckdb]
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from pathlib import Path

from homogeny.importing.distinct import score_partitions
from homogeny.importing.load import import_files
from homogeny.store import Store

DATA = Path(__file__).resolve().parents[2] / "shared" / "data" / "noveltybench" / "generations"


def published() -> dict[str, float]:
    """imported model id -> summary.json mean_distinct."""
    out = {}
    for summary in sorted(DATA.glob("*/*/summary.json")):
        with summary.with_name("scores.jsonl").open(encoding="utf-8") as fh:
            model = json.loads(fh.readline())["model"]
        out[f"imported:{model}"] = json.loads(summary.read_text())["mean_distinct"]
    return out


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--store", default=None, help="store file (default: a fresh temporary one)")
    args = ap.parse_args()
    if not DATA.exists():
        print(f"{DATA} is absent; this benchmark needs NoveltyBench's generations", file=sys.stderr)
        return 2
    store = args.store or str(Path(tempfile.mkdtemp()) / "nb.duckdb")
    cpu = time.process_time()
    first = import_files([DATA], store)
    cpu, used = time.process_time(), time.process_time() - cpu
    print(f"first import: {first.samples} samples, {first.new} new, {first.seconds:.1f} s wall, "
          f"{used:.1f} s CPU")  # fmt: skip
    again = import_files([DATA], store)
    used = time.process_time() - cpu
    print(f"second import: {again.new} new, {again.seconds:.1f} s wall, {used:.1f} s CPU")
    started = time.perf_counter()
    with Store.open(store, read_only=True) as st:
        got = score_partitions(st, "model_id")["groups"]
    seconds = time.perf_counter() - started
    diffs = {m: abs(got[m]["value"] - v) for m, v in published().items()}
    worst = max(diffs, key=diffs.__getitem__)
    print(f"distinct of {len(diffs)} models in {seconds:.2f} s; largest |homogeny - published| "
          f"= {diffs[worst]:.4f} ({worst})")  # fmt: skip
    return 0 if again.new == 0 and diffs[worst] <= 0.01 else 1


if __name__ == "__main__":
    sys.exit(main())
