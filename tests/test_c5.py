"""C5: compositional vs SGD CPPNs, sweep measures, and the output-identical comparison."""

from __future__ import annotations

import numpy as np
import pytest

from homogeny.experiments.base import Evidence, ExperimentContext
from homogeny.experiments.c5_internals import (
    FracturedInternals,
    matched_agreement_comparison,
    nested_bootstrap_difference,
    prompt_sum,
)
from homogeny.store import Store
from homogeny.toy import cppn


def test_compositional_face_is_exactly_left_right_symmetric() -> None:
    for seed in (0, 3):
        image = cppn.render(cppn.compositional_face(cppn.face_params(seed)), 32)
        assert np.array_equal(image, image[:, ::-1])
        assert image.max() - image.min() > 0.8  # a face, not a blank


def test_compositional_face_draws_dark_eyes_on_a_light_head() -> None:
    p = cppn.FaceParams()
    net = cppn.compositional_face(p)
    coords = np.linspace(-1, 1, 64)
    image = cppn.render(net, 64)

    def at(x: float, y: float) -> float:
        return float(image[np.argmin(np.abs(coords[::-1] - y)), np.argmin(np.abs(coords - x))])

    assert at(p.eye_x, p.eye_y) < 0.2 and at(-p.eye_x, p.eye_y) < 0.2  # both eyes dark
    assert at(0.0, 0.0) > 0.8  # face between the eyes is light
    assert at(0.0, p.mouth_y) < 0.2  # mouth dark
    assert at(0.98, 0.98) < 0.2  # background outside the head


def test_sweeps_past_the_first_layer_keep_the_compositional_face_symmetric() -> None:
    net = cppn.compositional_face()
    for where in [w for w in net.weight_index() if w[0] > 0][::7]:
        sweep, images = cppn.sweep_weight(net, where, (-1.0, 1.0), 32)
        assert sweep.asymmetry == 0.0
        assert all(np.array_equal(img, img[:, ::-1]) for img in images)


def test_eye_position_sweep_is_local_symmetric_and_touches_two_units() -> None:
    net = cppn.compositional_face()
    sweep, _ = cppn.sweep_weight(
        net, (1, 0, 5), (-0.5, 0.5), 32
    )  # eye column's bias: moves both eyes
    assert sweep.asymmetry == 0.0
    assert 0 < sweep.extent < 0.15
    assert sweep.units == 2.0  # the eye-column unit and the eye unit, nothing else


def test_an_x_weight_into_a_non_even_unit_breaks_symmetry() -> None:
    net = cppn.compositional_face()
    sweep, images = cppn.sweep_weight(
        net, (0, 1, 0), (0.5,), 32
    )  # x into the "y" unit: tilts the face
    assert sweep.asymmetry > 0.1
    assert not np.array_equal(images[0], images[0][:, ::-1])


def test_change_measures_on_hand_built_images() -> None:
    before = np.zeros((8, 8))
    one_side = before.copy()
    one_side[2:4, 0:2] = 0.5  # a 2x2 patch on the left
    assert cppn.change_extent(before, one_side) == pytest.approx(4 / 64)
    assert cppn.change_asymmetry(before, one_side) == pytest.approx(1.0)
    mirrored = one_side.copy()
    mirrored[2:4, 6:8] = 0.5  # the same patch mirrored on the right
    assert cppn.change_asymmetry(before, mirrored) == 0.0
    assert cppn.change_extent(before, mirrored) == pytest.approx(8 / 64)
    assert cppn.change_extent(before, before + 0.3) == 1.0  # a global change covers every pixel
    assert (
        cppn.change_extent(before, before) == 0.0 and cppn.change_asymmetry(before, before) == 0.0
    )
    assert cppn.image_asymmetry(one_side) == pytest.approx(2 * 4 * 0.5 / 64)


def test_units_changed_counts_hidden_units_only() -> None:
    before = [np.zeros((5, 3)), np.zeros((5, 2)), np.zeros((5, 1))]
    after = [np.zeros((5, 3)), np.zeros((5, 2)), np.ones((5, 1))]
    after[0][2, 1] = 0.01  # one unit of layer 1 changes at one pixel
    after[1][:, 0] = 1e-4  # below eps: not counted
    assert cppn.units_changed(before, after) == 1


@pytest.mark.slow
def test_sgd_cppn_reproduces_the_compositional_image() -> None:
    target = cppn.render(cppn.compositional_face(), 32)
    [(net, mse)] = cppn.train_sgd_cppns([target], [0], steps=1200, restarts=3, restart_steps=150)
    assert mse < 0.004
    assert np.mean((cppn.render(net, 32) - target) ** 2) == pytest.approx(mse)
    assert net.activations == cppn.FACE_LAYERS  # the same architecture as the compositional net


def test_nested_bootstrap_difference_is_deterministic_and_covers_the_point() -> None:
    rng = np.random.default_rng(0)
    a = [rng.normal(1.0, 0.1, 40) for _ in range(3)]
    b = [rng.normal(0.0, 0.1, 30) for _ in range(3)]
    first = nested_bootstrap_difference(a, b, 200, seed=1)
    assert first == nested_bootstrap_difference(a, b, 200, seed=1)
    point, low, high = first
    assert low <= point <= high and 0.9 < low and high < 1.1
    assert nested_bootstrap_difference([np.ones(5)] * 2, [np.zeros(5)] * 2, 50) == (1.0, 1.0, 1.0)


def test_matched_agreement_comparison_separates_a_copy_from_an_unrelated_model() -> None:
    rng = np.random.default_rng(0)
    n = 60
    st_a = [rng.normal(size=(n, 16)) for _ in range(2)]
    st_copy = [x + 0.01 * rng.normal(size=x.shape) for x in st_a]  # nearly the same insides
    st_b = [rng.normal(size=(n, 16)) for _ in range(2)]  # unrelated insides
    outputs = [str(i % 7) for i in range(n)]
    far = [o if i % 2 else "x" for i, o in enumerate(outputs)]
    ladder = [(0.1, outputs, st_copy), (1.0, far, st_b)]
    r = matched_agreement_comparison(outputs, st_a, outputs, st_b, ladder, seed=0)
    assert r["agreement_ab"] == 1.0 and r["matched_scale"] == 0.1 and r["n_identical"] == n
    assert r["cka_copy"] > 0.99 and abs(r["cka_ab"]) < 0.2
    point, low, high = r["cka_diff"]
    assert low > 0.5 and low <= point <= high
    assert r["noise_agreement"] == [1.0, 0.5]


def test_prompt_sum_parses_without_evaluating() -> None:
    assert prompt_sum("57+68=") == 125
    with pytest.raises(ValueError):
        prompt_sum("__import__('os')+1=")


@pytest.mark.slow
def test_quick_run_gives_valid_evidence_and_artifacts() -> None:
    store = Store.open(":memory:")
    ctx = ExperimentContext(
        store=store,
        models=[],
        quick=True,
        seed=0,
        log=lambda m: None,
        options={"c5": {"sgd_steps": 300, "restart_steps": 50, "lm_steps": 300, "lm_test": 120}},
    )
    evidence = FracturedInternals().run(ctx)
    metrics = {e.metric for e in evidence}
    assert {
        "cppn_output_rmse",
        "sweep_asymmetry_sgd_minus_compositional",
        "sweep_extent_sgd_minus_compositional",
        "sweep_units_sgd_minus_compositional",
    } <= metrics
    for e in evidence:
        assert isinstance(e, Evidence) and e.claim == "c5" and e.quick
        assert e.verdict in ("supported", "contradicted", "inconclusive")
        assert e.ci_low <= e.effect <= e.ci_high
    store.replace_evidence("c5", [e.as_row() for e in evidence])
    assert store.count("evidence") == len(evidence)
    images = store.artifact("c5", "cppn_sweep_images")
    assert len(images["nets"]["sgd"]["base"]) == 32 and images["nets"]["compositional"]["sweeps"]
    assert store.artifact("c5", "toy_lm_output_vs_representation")["x"]
