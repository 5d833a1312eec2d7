"""C4 (hivemind and disguise): similarity measures on hand-made embeddings and texts, and the
experiment end to end on smollm2-135m."""

from __future__ import annotations

import itertools
import math
from pathlib import Path

import numpy as np
import pytest

from homogeny.experiments.c4_hivemind import (
    cross_group_baselines,
    disguise_gap,
    hivemind_by_prompt,
    inter_similarity_by_prompt,
    intra_similarity,
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
    groups = {"a": [np.tile(eye[0], (3, 1)), np.tile(eye[1], (3, 1))],
              "b": [np.tile(eye[2], (3, 1)), np.tile(eye[3], (3, 1))]}
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
    reworded = ["Drink water every morning.", "Hydrate as soon as you wake up.",
                "Start your day with a glass of H2O.", "First thing after waking, have some water."]
    lex, sem, gap = disguise_gap(reworded, same_meaning, 0.1, 0.2)
    assert sem == pytest.approx(0.0) and lex > 0.5 and gap == pytest.approx(lex)


def test_cross_group_baselines_equal_brute_force_over_pairs_from_different_groups() -> None:
    texts = [["a red fox runs", "the red fox jumps"], ["blue whales sing songs", "whales sing", "a blue sea"]]
    embs = [np.array([unit([1, 0, 1]), unit([1, 0, 0])]), np.array([unit([0, 1, 0]), unit([0, 1, 1]), unit([1, 1, 1])])]
    lexical, semantic = cross_group_baselines(texts, embs)
    pairs = [(a, b) for a in texts[0] for b in texts[1]]
    assert lexical == pytest.approx(np.mean([homogenization_score([a, b], digits=None) for a, b in pairs]))
    assert semantic == pytest.approx(np.mean([u @ v for u in embs[0] for v in embs[1]]))


@pytest.mark.slow
def test_quick_run_on_smollm_stores_evidence_and_reruns_from_cache(tmp_path: Path, smollm: str) -> None:
    from homogeny.experiments.base import ExperimentContext
    from homogeny.experiments.c4_hivemind import Hivemind
    from homogeny.store import Store

    with Store.open(tmp_path / "s.duckdb") as store:
        ctx = ExperimentContext(store=store, models=[smollm], quick=True, progress=False, log=lambda m: None)
        first = Hivemind().run(ctx)
        n_samples = store.count("samples")
        second = Hivemind().run(ctx)
        assert store.count("samples") == n_samples > 0
        heat = store.artifact("c4", "similarity_matrix_top_p")
    by_metric = {e.metric: e for e in first}
    assert [e.metric for e in first] == [e.metric for e in second]
    assert all(math.isfinite(e.effect) and e.ci_low <= e.effect <= e.ci_high for e in first)
    assert by_metric["hivemind_index"].verdict == "inconclusive"  # one model: no cross-model test
    assert 0.0 <= by_metric["share_intra_above_0.8_top_p"].effect <= 1.0
    assert len(heat["matrix"]) == 1
