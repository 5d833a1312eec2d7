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


def test_hidden_states_are_read_on_the_gguf_files_own_tokens(smollm):
    # transformers' GGUF tokenizer conversion can split words differently (gemma3-270m did);
    # hidden states must be read on the tokens llama.cpp feeds the same model.
    from homogeny.models import load_backend

    text = "Write a haiku about rain. Don't you think it's 3.14159? naïve café – “quotes”"
    hf = load_backend(smollm, capability="hidden_states")
    llama = load_backend(smollm)
    expected = llama.llm.tokenize(text.encode("utf-8"), add_bos=True, special=False)
    assert hf.hidden_states([text])[0].shape[1] == len(expected)
    assert hf.tokenizer(text)["input_ids"][0].tolist() == list(expected)
    assert hf.tokenizer.decode(expected[1:] if expected[0] == llama.llm.token_bos() else expected) == text


def test_llamacpp_backend_explains_where_hidden_states_are(smollm):
    from homogeny.models import load_backend

    with pytest.raises(NotImplementedError, match="hf backend"):
        load_backend(smollm).hidden_states(["x"])
