"""C4's disguise test: does persona framing vary the surface of an answer more than its
substance? Lexical diversity is 1 - ROUGE-L homogenization (Padmakumar & He 2023), semantic
diversity 1 - mean MiniLM cosine, each normalised by answers to different requests."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np

from homogeny.metrics import homogenization_score, mean_pairwise_similarity
from homogeny.suites.prompt import Prompt


def disguise_gap(
    texts: Sequence[str], emb: np.ndarray, lexical_random: float, semantic_random: float
) -> tuple[float, float, float]:
    """(lexical diversity, semantic diversity, gap) of one request's answers across personas.

    Each diversity is 1 - mean pairwise similarity (ROUGE-L F1 as in Padmakumar & He 2023, or
    MiniLM cosine), divided by the same for answers to different requests, so 1 means "as
    different as unrelated answers" on both scales. gap = lexical - semantic > 0: framing
    changes the surface more than the substance."""
    lex = (1 - homogenization_score(list(texts), digits=None)) / max(1 - lexical_random, 1e-9)
    sem = (1 - mean_pairwise_similarity(emb)) / max(1 - semantic_random, 1e-9)
    return lex, sem, lex - sem


def cross_group_baselines(
    texts_by_request: Sequence[Sequence[str]], emb_by_request: Sequence[np.ndarray]
) -> tuple[float, float]:
    """(lexical, semantic) mean similarity over pairs of answers to DIFFERENT requests. The
    lexical value comes from homogenization scores: the all-pairs sum minus the within-request
    sums."""
    texts = [t for group in texts_by_request for t in group]
    n, sizes = len(texts), [len(g) for g in texts_by_request]
    within_pairs = sum(s * (s - 1) for s in sizes)
    within_lex = sum(
        homogenization_score(list(g), digits=None) * len(g) * (len(g) - 1)
        for g in texts_by_request
        if len(g) > 1
    )
    all_lex = homogenization_score(texts, digits=None) * n * (n - 1)
    lexical = (all_lex - within_lex) / (n * (n - 1) - within_pairs)
    means = np.array([e.mean(axis=0) for e in emb_by_request])
    cross = [means[i] @ means[j] for i in range(len(means)) for j in range(len(means)) if i != j]
    return float(lexical), float(np.mean(cross))


def disguise_table(
    persona_answers: Mapping[str, Mapping[str, list[str]]],
    resamples: Mapping[str, Mapping[str, list[str]]],
    requests: Sequence[Prompt],
    framed: Sequence[Prompt],
    vectors: Mapping[str, np.ndarray],
) -> dict[str, np.ndarray]:
    """Per model, a requests x 4 array: persona lexical diversity, persona semantic diversity,
    persona gap, and the gap of plain resamples of the same request (no persona), all
    normalised by the model's answers to different requests under the personas."""
    out = {}
    for m, answers in persona_answers.items():
        texts = [[answers[f.id][0] for f in framed if f.meta["request"] == r.id] for r in requests]
        embs = [np.array([vectors[t] for t in g]) for g in texts]
        lex_random, sem_random = cross_group_baselines(texts, embs)
        rows = []
        for r, t, e in zip(requests, texts, embs):
            plain = resamples[m][r.id]
            plain_emb = np.array([vectors[x] for x in plain])
            plain_gap = disguise_gap(plain, plain_emb, lex_random, sem_random)[2]
            rows.append([*disguise_gap(t, e, lex_random, sem_random), plain_gap])
        out[m] = np.array(rows)
    return out
