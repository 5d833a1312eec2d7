"""homogeny: measure why outputs of different language models converge, stage by stage.

Data flows one way: suites -> generate -> store -> metrics -> experiments -> audit -> report.
Importing this package is cheap: backends, torch and transformers load only when used.
"""

import os as _os


def _busy() -> bool:
    try:
        return _os.getloadavg()[0] >= (_os.cpu_count() or 1)
    except OSError:
        return False


# OpenMP threads (llama.cpp, torch) spin briefly while waiting for work. On an idle machine
# that is the fastest choice (measured on 2 cores: 17% faster generation than passive waiting,
# 3.5x faster one-sequence decoding); on a machine already busy at start, spinning threads steal
# the cores from each other (measured: 10-100x slower), so there homogeny waits passively. A
# value the user sets always wins.
if _busy():
    _os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")

__version__ = "0.1.0"
