"""The llama.cpp backend: a GGUF model that generates (parallel sequences) and scores.

backend.py holds the Backend; decoding.py the batched multi-prompt decode loop; sampler.py
the numpy sampling; native.py the C-API calls. Import the backend through
`homogeny.models.open(spec)`; experiments never import this package.
"""

from homogeny.models.llamacpp.backend import LlamaCppBackend
from homogeny.models.llamacpp.native import quiet_llama
from homogeny.models.llamacpp.sampler import candidate_tokens, draw_tokens, inverse_cdf

__all__ = ["LlamaCppBackend", "candidate_tokens", "draw_tokens", "inverse_cdf", "quiet_llama"]
