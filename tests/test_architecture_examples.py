"""The worked examples of docs/architecture.md, run as tests: a backend, a metric, a claim.

The backend is a real (tiny) model: a character bigram fitted in the test on a short text,
so it generates and scores for real, but it has no hidden states.
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import ClassVar

import numpy as np
import pytest

from homogeny.errors import HomogenyError
from homogeny.experiments.base import Evidence, Experiment, ExperimentContext, Plan, PrimaryRule
from homogeny.experiments.claims import ClaimInfo
from homogeny.models import Backend, CapabilityError, Completion, ModelInfo, TokenScores
from homogeny.models.params import SamplingParams
from homogeny.store import Store
from homogeny.suites.prompt import Prompt

CORPUS = "the cat sat on the mat. the dog sat on the log. a cat and a dog met. " * 4


# ---- example 1: a backend ------------------------------------------------------------------
class BigramBackend(Backend):
    """A character bigram model with add-one smoothing: generate and score, no hidden states."""

    name = "bigram"
    capabilities = frozenset({"generate", "score"})

    def __init__(self, corpus: str) -> None:
        self.alphabet = sorted(set(corpus))
        pairs = Counter(zip(corpus, corpus[1:]))
        counts = np.array([[pairs[(a, b)] + 1 for b in self.alphabet] for a in self.alphabet])
        self.logp = np.log(counts / counts.sum(axis=1, keepdims=True))
        self.index = {c: i for i, c in enumerate(self.alphabet)}
        self.info = ModelInfo("bigram", "0" * 64, "bigram", "bigram:test", kind="base")

    def generate(
        self, prompt: Prompt, params: SamplingParams, seeds: list[int]
    ) -> list[Completion]:
        """One continuation per seed, drawn at `params.temperature` (0 = greedy)."""
        return [self._one(prompt.text, params, seed) for seed in seeds]

    def _one(self, text: str, params: SamplingParams, seed: int) -> Completion:
        rng = np.random.default_rng(seed)
        last, out = text[-1], []
        for _ in range(params.max_tokens):
            row = self.logp[self.index.get(last, 0)]
            if params.temperature == 0:
                nxt = int(row.argmax())
            else:
                p = np.exp(row / params.temperature)
                nxt = int(rng.choice(len(p), p=p / p.sum()))
            last = self.alphabet[nxt]
            out.append(last)
        return Completion(text="".join(out), n_tokens=len(out))

    def score(
        self,
        context: Prompt | str,
        continuation: str,
        *,
        chat: bool = False,
        next_token: bool = False,
    ) -> TokenScores:
        """Log-probability of each continuation character given the one before it."""
        text = context.text if isinstance(context, Prompt) else context
        chars = text[-1:] + continuation
        lp = [self.logp[self.index[a], self.index[b]] for a, b in zip(chars, chars[1:])]
        return TokenScores(tokens=[self.index[c] for c in continuation], logprobs=np.array(lp))

    def close(self) -> None:
        """Nothing to free."""


def test_a_backend_declares_what_it_can_do() -> None:
    model = BigramBackend(CORPUS)
    params = SamplingParams(temperature=1.0, max_tokens=12)
    a, b = model.generate(Prompt("p", "the "), params, seeds=[1, 1])
    assert a.text == b.text and len(a.text) == 12  # same seed, same sample
    greedy = model.generate(
        Prompt("p", "the "), SamplingParams(temperature=0, max_tokens=3), [0, 9]
    )
    assert greedy[0].text == greedy[1].text  # greedy ignores the seed
    scored = model.score("the c", "at")
    assert scored.logprobs.shape == (2,) and np.all(scored.logprobs < 0)
    assert scored.mean > model.score("the c", "zq" if "z" in model.index else "..").mean
    with pytest.raises(CapabilityError, match="cannot give hidden states"):
        model.hidden_states(["the cat"])


# ---- example 2: a metric -------------------------------------------------------------------
def distinct_characters(texts: list[str]) -> float:
    """Distinct characters over all characters (a toy distinct-1 at character level)."""
    chars = "".join(texts)
    return len(set(chars)) / len(chars) if chars else math.nan


def test_a_metric_against_a_hand_computed_case() -> None:
    # "aab" + "bc": 5 characters, 3 distinct
    assert distinct_characters(["aab", "bc"]) == pytest.approx(3 / 5)
    assert math.isnan(distinct_characters([]))


# ---- example 3: a claim --------------------------------------------------------------------
TOY_CLAIM = ClaimInfo(
    "x1",
    "Greedy is less diverse",
    "Does greedy decoding repeat itself more than sampling?",
    "sampling",
    "worked example",
    "tests:GreedyRepeats",
)


@dataclass(frozen=True)
class GreedyPlan(Plan):
    """Prompts per run and characters per answer."""

    QUICK: ClassVar[dict[str, int]] = {"prompts": 6}
    prompts: int = 12
    max_tokens: int = 24


class GreedyRepeats(Experiment):
    """Per prompt: distinct characters of sampled minus greedy answers (predicted above 0)."""

    info = TOY_CLAIM
    primary = PrimaryRule(
        "sampled_minus_greedy_distinct_chars",
        "distinct characters, sampled minus greedy",
        "above",
        0.0,
        "prompt",
    )
    Plan = GreedyPlan

    def __init__(self, model: Backend) -> None:
        self.model = model

    def measure(self, ctx: ExperimentContext, plan: GreedyPlan) -> Iterator[Evidence]:
        prompts = [Prompt(f"p{i}", word) for i, word in enumerate(CORPUS.split()[: plan.prompts])]
        gaps = []
        for p in prompts:
            greedy = self.model.generate(p, SamplingParams(0.0, max_tokens=plan.max_tokens), [0])
            sampled = self.model.generate(p, SamplingParams(1.0, max_tokens=plan.max_tokens), [0])
            gaps.append(
                distinct_characters([sampled[0].text]) - distinct_characters([greedy[0].text])
            )
        yield ctx.evidence(
            self.claim,
            self.primary.metric,
            gaps,
            question=self.question,
            sign="positive = sampling varies more",
            unit="share of characters",
            role="primary",
            predicted="above",
            threshold=0.0,
        )


def test_a_claim_measures_its_primary_row(tmp_path: Path) -> None:
    with Store.open(tmp_path / "s.duckdb") as store:
        ctx = ExperimentContext(store=store, models=["bigram"], quick=True, progress=False)
        rows = GreedyRepeats(BigramBackend(CORPUS)).run(ctx)
    (row,) = rows
    assert row.role == "primary" and row.n_units == 6 and row.method == "sign-flip exact"
    assert row.verdict == "supported"  # greedy bigram text loops over a few characters
    assert row.source.endswith(":measure") and row.null_rate <= 0.025


def test_a_plan_rejects_unknown_options() -> None:
    assert GreedyPlan.for_run(quick=False, options={"prompts": "8"}).prompts == 8
    with pytest.raises(HomogenyError, match="did you mean 'prompts'"):
        GreedyPlan.for_run(quick=True, options={"promts": 3})
