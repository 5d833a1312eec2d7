"""The transformers backend: hidden states of every layer from the same GGUF file, cached."""

from __future__ import annotations

import numpy as np
import pytest

pytestmark = pytest.mark.slow


def test_hidden_states_of_every_layer_and_perturbation_restores(smollm):
    from homogeny.models import load_backend

    backend = load_backend(smollm, capability="hidden_states")
    states = backend.hidden_states(["The sea is calm.", "Hello"])
    assert states[0].shape[0] == 31 and states[0].shape[2] == 576  # embeddings + 30 layers of SmolLM2-135M
    assert states[0].shape[1] > states[1].shape[1]
    assert np.isfinite(states[0]).all()
    before = backend.greedy(["The capital of France is"], 6)
    with backend.perturbed(0.5, seed=1):
        noisy = backend.mean_hidden(["The capital of France is"])
    after = backend.greedy(["The capital of France is"], 6)
    assert before == after
    clean = backend.mean_hidden(["The capital of France is"])
    assert not np.allclose(noisy, clean)


def test_llamacpp_backend_explains_where_hidden_states_are(smollm):
    from homogeny.models import load_backend

    with pytest.raises(NotImplementedError, match="hf backend"):
        load_backend(smollm).hidden_states(["x"])
