"""Label entries for C4's published-protocol rows (`--protocol srt`), in label_table's form
(pattern, name, unit, what 0 means, sentence; then keywords). label_table.TABLE includes
them; they live apart so that the table stays a short file."""

from __future__ import annotations

from typing import Any

COSINE = "cosine similarity"

SRT_LABELS: tuple[tuple[tuple[Any, ...], dict[str, Any]], ...] = (
    (
        (
            r"srt_intra_model_similarity",
            "how alike a model's own samples are under the SRT protocol ({subject})",
            COSINE,
            "the samples of one prompt share nothing",
            "under the SRT protocol, {subject}'s samples of one prompt average {effect} cosine",
        ),
        {"threshold": "0.8: the Hivemind's near-identical samples"},
    ),
    (
        (
            r"srt_intra_minus_floor",
            "self-similarity above the SRT floor ({subject})",
            COSINE,
            "samples of one prompt are as alike as answers to different prompts",
            "{subject}'s samples of one prompt are {effect} cosine more alike than random "
            "answers to different prompts",
        ),
        {},
    ),
    (
        (
            r"srt_chat_minus_raw",
            "self-similarity the chat template adds on the same weights ({subject})",
            COSINE,
            "the chat template changes nothing",
            "through its chat template, {subject}'s samples are {effect} cosine more alike than "
            "on the raw prompt",
        ),
        {},
    ),
)
