"""What C4 sampled: every model's texts per prompt set (plain data, no model needed)."""

from __future__ import annotations

from dataclasses import dataclass, field

from homogeny.suites.prompt import Prompt

Table = dict[str, dict[str, list[str]]]  # model -> prompt id -> sampled texts


@dataclass
class Samples:
    """Every model's sampled texts: open-ended prompts at top-p and min-p (top-p also for any
    persona request beyond the open prompts), and the persona-framed requests."""

    prompts: list[Prompt]
    min_p_prompts: list[Prompt]
    requests: list[Prompt]
    framed: list[Prompt]
    top_p: Table = field(default_factory=dict)
    min_p: Table = field(default_factory=dict)
    persona: Table = field(default_factory=dict)
    base_models: list[str] = field(default_factory=list)  # raw completion, kept out of verdicts

    @property
    def answering(self) -> list[str]:
        """The models whose rows count: instruct models (all models when none is)."""
        instruct = [m for m in self.top_p if m not in self.base_models]
        return instruct or list(self.top_p)
