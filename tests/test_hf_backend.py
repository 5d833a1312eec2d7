"""The transformers backend: hidden states of every layer from the same GGUF file, cached."""

from __future__ import annotations

import numpy as np
import pytest

from homogeny import models
from homogeny.models import CapabilityError

pytestmark = pytest.mark.slow


def test_hidden_states_of_every_layer_and_perturbation_restores(smollm):
    with models.open(smollm, need="hidden_states") as backend:
        states = backend.hidden_states(["The sea is calm.", "Hello"])
        # embeddings + 30 layers of SmolLM2-135M
        assert states[0].shape[0] == 31 and states[0].shape[2] == 576
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
    from homogeny.suites.prompt import Prompt

    text = "Write a haiku about rain. Don't you think it's 3.14159? naïve café – “quotes”"
    with models.open(smollm, need="hidden_states") as hf, models.open(smollm) as llama:
        expected = llama.render(Prompt("t", text), chat=False)
        assert hf.hidden_states([text])[0].shape[1] == len(expected)
        assert hf.tokenizer(text)["input_ids"][0].tolist() == list(expected)
        assert hf.tokenizer.decode(expected) == text


def test_backends_name_who_has_what_they_lack(smollm):
    with models.open(smollm) as llama, pytest.raises(CapabilityError, match="transformers"):
        llama.hidden_states(["x"])
    with models.open(smollm, need="hidden_states") as hf:
        with pytest.raises(CapabilityError, match="llama.cpp"):
            hf.score("a", "b")
        with pytest.raises(CapabilityError, match="llama.cpp backend"):
            hf.generate(None, None, [1])  # type: ignore[arg-type]
