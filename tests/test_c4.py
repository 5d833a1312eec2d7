"""C4 (hivemind and disguise): similarity measures on hand-made embeddings and texts, and the
experiment end to end on smollm2-135m."""

from __future__ import annotations

import itertools
import math
from pathlib import Path

import numpy as np
import pytest

from helpers import quiet_context

from homogeny.experiments.c4_hivemind import (
    Hivemind,
    cross_group_baselines,
    disguise_gap,
    hivemind_by_prompt,
    inter_similarity_by_prompt,
    interleave_categories,
    intra_similarity,
    persona_request_prompts,
    random_baseline_by_prompt,
    share_above,
    similarity_matrix,
)
from homogeny.metrics import homogenization_score


def unit(v: list[float]) -> np.ndarray:
    a = np.asarray(v, dtype=float)
    return a / np.linalg.norm(a)


def test_models_repeating_one_text_are_a_perfect_hivemind() -> None:
    same = np.tile(unit([1, 2, 3]), (5, 1))
    groups = {m: [same, same] for m in ("a", "b", "c")}
    assert np.allclose(similarity_matrix(groups), 1.0)
    assert np.allclose(hivemind_by_prompt(groups), 1.0)
    assert share_above(intra_similarity(groups)).tolist() == [1.0, 1.0]


def test_models_with_disjoint_answers_are_not_a_hivemind() -> None:
    eye = np.eye(6)
    groups = {
        "a": [np.tile(eye[0], (3, 1)), np.tile(eye[1], (3, 1))],
        "b": [np.tile(eye[2], (3, 1)), np.tile(eye[3], (3, 1))],
    }
    assert np.allclose(inter_similarity_by_prompt(groups), 0.0)
    assert np.allclose(hivemind_by_prompt(groups), 0.0)
    assert similarity_matrix(groups).tolist() == [[1.0, 0.0], [0.0, 1.0]]


def test_random_baseline_compares_answers_to_different_prompts() -> None:
    # model a answers prompt 0 with x, prompt 1 with y; model b the same: same-prompt pairs
    # are identical (cosine 1), different-prompt pairs are orthogonal (cosine 0)
    x, y = np.tile([1.0, 0.0], (2, 1)), np.tile([0.0, 1.0], (2, 1))
    groups = {"a": [x, y], "b": [x, y]}
    assert inter_similarity_by_prompt(groups).tolist() == [1.0, 1.0]
    assert random_baseline_by_prompt(groups).tolist() == [0.0, 0.0]
    assert random_baseline_by_prompt(groups, across_models=False).tolist() == [0.0, 0.0]


def test_intra_similarity_excludes_self_pairs() -> None:
    group = np.array([unit([1, 0]), unit([0, 1]), unit([1, 1])])
    expected = np.mean([group[i] @ group[j] for i, j in itertools.permutations(range(3), 2)])
    assert intra_similarity({"a": [group]})[0, 0] == pytest.approx(expected)


def test_identical_answers_have_no_disguise_and_reworded_ones_do() -> None:
    same_text = ["Drink water every morning."] * 4
    same_meaning = np.tile(unit([1, 1, 0]), (4, 1))
    lex, sem, gap = disguise_gap(same_text, same_meaning, 0.1, 0.2)
    assert (lex, sem, gap) == pytest.approx((0.0, 0.0, 0.0))
    reworded = [
        "Drink water every morning.",
        "Hydrate as soon as you wake up.",
        "Start your day with a glass of H2O.",
        "First thing after waking, have some water.",
    ]
    lex, sem, gap = disguise_gap(reworded, same_meaning, 0.1, 0.2)
    assert sem == pytest.approx(0.0) and lex > 0.5 and gap == pytest.approx(lex)


def test_cross_group_baselines_equal_brute_force_over_pairs_from_different_groups() -> None:
    texts = [
        ["a red fox runs", "the red fox jumps"],
        ["blue whales sing songs", "whales sing", "a blue sea"],
    ]
    embs = [
        np.array([unit([1, 0, 1]), unit([1, 0, 0])]),
        np.array([unit([0, 1, 0]), unit([0, 1, 1]), unit([1, 1, 1])]),
    ]
    lexical, semantic = cross_group_baselines(texts, embs)
    pairs = [(a, b) for a in texts[0] for b in texts[1]]
    assert lexical == pytest.approx(
        np.mean([homogenization_score([a, b], digits=None) for a, b in pairs])
    )
    assert semantic == pytest.approx(np.mean([u @ v for u in embs[0] for v in embs[1]]))


# ---- evidence rows on hand-made embeddings --------------------------------------------------
def _context(tmp_path: Path, models: list[str]):
    from homogeny.store import Store

    store = Store.open(tmp_path / "s.duckdb")
    return store, quiet_context(store, models)


def _groups(models: list[str], n: int, repeat: bool) -> dict:
    """Per model and prompt, five samples: one text repeated (repeat), or five that share only a
    small common direction (pairwise cosine about 0.08)."""
    dim = 5 * n * len(models) + 1
    eye = np.eye(dim)
    out = {}
    for i, m in enumerate(models):
        start = i * 5 * n
        spread = [eye[start + 5 * p : start + 5 * p + 5] + 0.3 * eye[-1] for p in range(n)]
        spread = [g / np.linalg.norm(g, axis=1, keepdims=True) for g in spread]
        out[m] = [np.tile(eye[p], (5, 1)) for p in range(n)] if repeat else spread
    return out


@pytest.mark.parametrize("repeat", [True, False])
def test_primary_share_follows_the_data_with_prompts_as_the_unit(
    tmp_path: Path, repeat: bool
) -> None:
    from homogeny.experiments.c4_hivemind.rows import convergence_evidence

    models = ["a", "b"]
    store, ctx = _context(tmp_path, models)
    with store:
        rows = {e.metric: e for e in convergence_evidence(ctx, _groups(models, 12, repeat), models)}
    primary = rows["share_intra_above_0_8"]
    assert (
        primary.role == "primary" and primary.unit == "share of prompts" and primary.n_units == 12
    )
    assert primary.effect == (1.0 if repeat else 0.0)
    assert primary.verdict == ("supported" if repeat else "contradicted")
    assert primary.plot["values"][-1] == pytest.approx(0.79)  # the paper's share, shown beside
    assert rows["hivemind_index"].role == "secondary"
    assert rows["inter_model_minus_random"].role == "sanity"


def test_cross_model_rows_need_two_answering_models(tmp_path: Path) -> None:
    from homogeny.experiments.c4_hivemind.rows import convergence_evidence

    store, ctx = _context(tmp_path, ["a"])
    with store:
        rows = {e.metric: e for e in convergence_evidence(ctx, _groups(["a"], 3, True), ["a"])}
    assert rows["share_intra_above_0_8"].method == "sign-flip exact"
    assert (
        rows["hivemind_index"].verdict == rows["inter_model_minus_random"].verdict == "not testable"
    )


def _persona_samples(n_requests: int):
    """Ten requests answered by three personas in different words with one meaning per request;
    plain resamples repeat one text (no surface variety)."""
    from homogeny.experiments.c4_hivemind.samples import Samples
    from homogeny.suites.catalog import persona_prompts, personas
    from homogeny.suites.prompt import Prompt

    words = ["sunny", "rainy", "windy", "snowy", "misty", "stormy"]
    requests = [Prompt(f"r{i}", f"Give advice number {i}.") for i in range(n_requests)]
    framed = persona_prompts(requests, personas()[:3])
    persona, plain, vectors = {}, {}, {}
    eye = np.eye(n_requests)
    for f in framed:
        i, j = int(f.meta["request"][1:]), int(f.meta["persona"][-1:] or 0) % 3
        text = f"On a {words[j]} {words[j + 3]} day, answer {i} is to {words[(i + j) % 6]} walk."
        persona[f.id], vectors[text] = [text], eye[i]
    for r in requests:
        text = f"Answer {r.id} stays the same."
        plain[r.id], vectors[text] = [text] * 4, eye[int(r.id[1:])]
    data = Samples(requests, [], requests, framed, {"m": plain}, {}, {"m": persona})
    return data, vectors


def test_persona_rows_need_ten_requests_and_follow_the_data(tmp_path: Path) -> None:
    from homogeny.experiments.c4_hivemind.rows import disguise_evidence

    store, ctx = _context(tmp_path, ["m"])
    with store:
        few = disguise_evidence(ctx, *_persona_samples(4))
        enough = {e.metric: e for e in disguise_evidence(ctx, *_persona_samples(10))}
    assert {e.verdict for e in few} == {"not testable"} and "10 requests" in few[0].sign
    assert enough["persona_disguise_gap"].n_units == 10
    assert enough["persona_disguise_gap"].verdict == "supported"
    assert enough["persona_gap_minus_resampling_gap"].verdict == "supported"


def test_plan_has_ten_persona_requests_in_full_and_the_same_prompts_as_before() -> None:
    full, quick = Hivemind.Plan.full(), Hivemind.Plan.quick()
    assert full.persona_requests >= 10 and quick.persona_requests < 10
    assert [p.id for p in persona_request_prompts(4)] == [
        "opinion-01",
        "advice-01",
        "recommendation-01",
        "opinion-02",
    ]
    from homogeny.suites.catalog import open_ended_prompts

    quick_open = interleave_categories(open_ended_prompts(True))[:6]
    assert [p.id for p in quick_open] == [
        p.id for p in interleave_categories(open_ended_prompts())[:6]
    ]


@pytest.mark.slow
def test_quick_run_on_smollm_stores_evidence_and_reruns_from_cache(
    tmp_path: Path, smollm: str
) -> None:
    from homogeny.experiments.base import ExperimentContext
    from homogeny.store import Store

    with Store.open(tmp_path / "s.duckdb") as store:
        ctx = ExperimentContext(
            store=store, models=[smollm], quick=True, progress=False, log=lambda m: None
        )
        first = Hivemind().run(ctx)
        n_samples = store.count("samples")
        second = Hivemind().run(ctx)
        assert store.count("samples") == n_samples > 0
        heat = store.artifact("c4", "similarity_matrix_top_p")
    by_metric = {e.metric: e for e in first}
    assert [e.metric for e in first] == [e.metric for e in second]
    assert all(math.isfinite(e.effect) and e.ci_low <= e.effect <= e.ci_high for e in first)
    assert [e.role for e in first].count("primary") == 1 and all(e.role and e.unit for e in first)
    assert by_metric["hivemind_index"].verdict == "not testable"  # one model: no cross-model test
    assert by_metric["persona_disguise_gap"].verdict == "not testable"  # quick: 2 requests
    assert 0.0 <= by_metric["share_intra_above_0_8"].effect <= 1.0
    assert by_metric["share_intra_above_0_8"].n_units == Hivemind.Plan.quick().prompts
    assert len(heat["matrix"]) == 1
