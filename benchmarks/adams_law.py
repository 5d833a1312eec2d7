"""Adam's Law's own test on its own data: is the high-frequency wording easier for our models?

Lu et al. 2026 ("Adam's Law: Textual Frequency Law on Large Language Models", arXiv
2604.02176) release aligned low/high-frequency pairs (../shared/data/adams-law/, not part of
the package). For the first N GSM8K (or CommonsenseQA) pairs this prints, per model, the
share of pairs whose high-frequency side has the higher wordfreq sentence frequency, the mean
token NLL of each side, the sign test of NLL(low) - NLL(high) (exact binomial) and a
bootstrap CI of the mean difference, plus tokens scored per second.

Run: python benchmarks/adams_law.py [--pairs 100] [--dataset gsm8k] [--models zoo:smollm2-135m,...]
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np

from homogeny.experiments.c1_input import mean_token_nll, sign_test
from homogeny.metrics import bootstrap_ci
from homogeny.models import load_backend
from homogeny.models.llamacpp import LogitReader
from homogeny.models.zoo import DEFAULT_GENERATORS, is_installed
from homogeny.suites.files import read_pairs
from homogeny.suites.frequency import log_frequency

DATA = Path(__file__).resolve().parents[2] / "shared" / "data" / "adams-law"


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--pairs", type=int, default=100)
    ap.add_argument("--dataset", choices=("gsm8k", "csqa"), default="gsm8k")
    ap.add_argument("--models", default=",".join(f"zoo:{m}" for m in DEFAULT_GENERATORS if is_installed(m)))
    args = ap.parse_args()
    if not DATA.exists():
        print(f"{DATA} is absent; this benchmark needs the paper's pair files", file=sys.stderr)
        return 2
    pairs = read_pairs(DATA / f"{args.dataset}-lowfrequency.txt", DATA / f"{args.dataset}-highfrequency.txt")[: args.pairs]
    freq_up = np.mean([log_frequency(hi) > log_frequency(lo) for lo, hi in pairs])
    print(f"{args.dataset}: {len(pairs)} pairs; high side has the higher sentence frequency in {freq_up:.0%}")
    for spec in [m for m in args.models.split(",") if m]:
        backend = load_backend(spec)
        reader = LogitReader(backend)
        started, tokens = time.perf_counter(), 0
        low, high = [], []
        try:
            for lo, hi in pairs:
                low.append(mean_token_nll(reader, backend, lo))
                high.append(mean_token_nll(reader, backend, hi))
                tokens += sum(len(backend.llm.tokenize(t.encode())) for t in (lo, hi))
        finally:
            reader.close()
        seconds = time.perf_counter() - started
        diff = np.array(low) - np.array(high)
        test = sign_test(diff)
        ci = bootstrap_ci(np.mean, diff)
        print(f"{spec}: NLL low {np.mean(low):.3f} high {np.mean(high):.3f} nats/token; "
              f"low - high {ci.point:+.3f} [{ci.low:+.3f}, {ci.high:+.3f}]; sign test "
              f"{test['positive']}/{test['nonzero']} p={test['p']:.3g}; {tokens / seconds:.0f} tok/s scored")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
