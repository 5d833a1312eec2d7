"""homogeny: measure why outputs of different language models converge, stage by stage.

Data flows one way: suites -> generate -> store -> metrics -> experiments -> audit -> report.
Importing this package is cheap: backends, torch and transformers load only when used.
"""

import os as _os

# OpenMP threads (llama.cpp, torch) spin while idle; on a shared 2-core machine that makes
# decoding and training 10-100x slower. Passive waiting costs little on an idle CPU.
_os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")

__version__ = "0.1.0"
