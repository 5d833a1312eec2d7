"""A prompt: what one request to a model says, as plain text or as chat messages."""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True)
class Prompt:
    """One prompt. `text` for raw completion or a single user turn; `messages` for full chat.

    `meta` carries suite fields (family, category, persona, answer...) and never enters the key.
    """

    id: str
    text: str = ""
    messages: tuple[tuple[str, str], ...] = ()
    meta: dict[str, Any] = field(default_factory=dict, compare=False, hash=False)

    def as_messages(self) -> list[dict[str, str]]:
        """The prompt as chat messages (a bare text becomes one user turn)."""
        if self.messages:
            return [{"role": r, "content": c} for r, c in self.messages]
        return [{"role": "user", "content": self.text}]

    def canonical(self) -> str:
        """Canonical JSON of what is sent to the model (the id and meta are not part of it)."""
        if self.messages:
            return json.dumps({"messages": [[r, c] for r, c in self.messages]}, ensure_ascii=False)
        return json.dumps({"text": self.text}, ensure_ascii=False)

    @property
    def hash(self) -> str:
        return hashlib.sha256(self.canonical().encode("utf-8")).hexdigest()

    @property
    def display(self) -> str:
        """The prompt as one readable string (last user turn for chats)."""
        if self.messages:
            return self.messages[-1][1]
        return self.text
