"""C5: SGD vs searched CPPNs, sweep measures, the primary row's direction, and the
output-identical comparison."""

from __future__ import annotations

import numpy as np
import pytest

from homogeny.errors import HomogenyError
from homogeny.experiments.base import ROLES, Evidence, ExperimentContext
from homogeny.experiments.c5_internals import (
    FracturedInternals,
    InternalsPlan,
    matched_agreement_comparison,
    prompt_sum,
)
from homogeny.experiments.c5_internals.cppn_study import SeedNets, cppn_rows
from homogeny.store import Store
from homogeny.toy import cppn, cppn_fit


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
    [(net, mse)] = cppn_fit.train_sgd_cppns(
        [target], [0], steps=1200, restarts=3, restart_steps=150
    )
    assert mse < 0.004
    assert np.mean((cppn.render(net, 32) - target) ** 2) == pytest.approx(mse)
    assert net.activations == cppn.FACE_LAYERS  # the same architecture as the compositional net


def test_batched_torch_forward_matches_the_numpy_forward() -> None:
    import torch

    nets = [cppn.random_cppn(cppn.FACE_LAYERS, seed, scale=2.0) for seed in range(3)]
    weights = [torch.tensor(np.stack([n.weights[k] for n in nets])) for k in range(4)]
    x = torch.tensor(cppn.grid_inputs(16))
    images = cppn_fit._torch_forward(cppn.FACE_LAYERS, weights, x).numpy()
    for net, image in zip(nets, images):
        np.testing.assert_allclose(image, cppn.render(net, 16).ravel(), atol=1e-10)


def test_search_improves_on_its_start_without_gradients_and_is_deterministic() -> None:
    targets = [cppn.render(cppn.compositional_face(cppn.face_params(s)), 12) for s in (0, 1)]
    starts = cppn_fit.random_starts(cppn.FACE_LAYERS, [0, 1], restarts=2)
    start_mse = [
        min(
            np.mean((cppn.render(cppn.CPPN(cppn.FACE_LAYERS, [w[i] for w in starts]), 12) - t) ** 2)
            for i in (2 * k, 2 * k + 1)
        )
        for k, t in enumerate(targets)
    ]
    found = cppn_fit.search_cppns(targets, [0, 1], generations=60, population=8, restarts=2)
    again = cppn_fit.search_cppns(targets, [0, 1], generations=60, population=8, restarts=2)
    for (net, mse), (net2, mse2), t, before in zip(found, again, targets, start_mse):
        assert net.activations == cppn.FACE_LAYERS
        assert mse < 0.7 * before  # selection alone moved it toward the target
        assert mse == pytest.approx(np.mean((cppn.render(net, 12) - t) ** 2), rel=1e-3)
        assert mse2 == mse and all(np.array_equal(a, b) for a, b in zip(net.weights, net2.weights))


def _seed_nets(seed: int, sgd: float, search: float, same_picture: bool = True) -> SeedNets:
    """A seed whose sweep measures are set by hand: asymmetry `sgd` and `search`."""
    face = cppn.compositional_face(cppn.face_params(seed))
    other = face if same_picture else cppn.random_cppn(cppn.FACE_LAYERS, seed, scale=2.0)
    measures = {
        kind: {"asymmetry": value, "extent": value, "units": value, "inert_share": 0.0}
        for kind, value in (("sgd", sgd), ("search", search), ("handbuilt", 0.0))
    }
    return SeedNets(
        seed, cppn.render(face, 12), {"sgd": face, "search": other, "handbuilt": face}, measures
    )


def _rows(fits: list[SeedNets]) -> dict[str, Evidence]:
    ctx = ExperimentContext(store=Store.open(":memory:"), models=[], log=lambda m: None)
    plan = InternalsPlan.quick()
    return {r.metric: r for r in cppn_rows(ctx, plan, fits, FracturedInternals.primary)}


def test_primary_row_follows_the_direction_of_the_seeds() -> None:
    rng = np.random.default_rng(0)
    jitter = rng.uniform(0, 0.02, 8)
    more = _rows([_seed_nets(s, 0.5 + j, 0.3) for s, j in enumerate(jitter)])
    less = _rows([_seed_nets(s, 0.2 + j, 0.3) for s, j in enumerate(jitter)])
    null = _rows([_seed_nets(s, 0.3 + (j if s % 2 else -j), 0.3) for s, j in enumerate(jitter)])
    metric = FracturedInternals.primary.metric
    assert more[metric].verdict == "supported" and more[metric].n_units == 8
    assert less[metric].verdict == "contradicted"
    assert null[metric].verdict == "inconclusive"
    assert more[metric].role == "primary" and more["cppn_output_rmse"].role == "precondition"
    assert more[metric].null_rate is not None and more[metric].null_rate <= 0.025


def test_under_six_seeds_the_primary_row_stays_inconclusive() -> None:
    rows = _rows([_seed_nets(s, 0.9, 0.1) for s in range(5)])
    assert rows[FracturedInternals.primary.metric].verdict == "inconclusive"


def test_primary_is_not_testable_when_the_networks_draw_different_pictures() -> None:
    rows = _rows([_seed_nets(s, 0.9, 0.1, same_picture=s == 0) for s in range(6)])
    primary = rows[FracturedInternals.primary.metric]
    assert primary.verdict == "not testable" and primary.role == "primary"
    assert "same" in primary.sign and "picture" in primary.sign
    assert "sweep_extent_sgd_minus_search" not in rows  # no sweep row without matched seeds


def test_plan_options_are_strict() -> None:
    assert InternalsPlan.for_run(True, {"seeds": "3"}).seeds == 3
    assert InternalsPlan.quick().real_models is False and InternalsPlan.full().seeds >= 6
    with pytest.raises(HomogenyError, match="unknown option"):
        InternalsPlan.for_run(True, {"sgd_step": 10})


TINY = {
    "seeds": 2,
    "image_size": 12,
    "sgd_steps": 40,
    "restart_steps": 10,
    "restarts": 2,
    "search_generations": 20,
    "search_population": 8,
    "deltas": (-1.0, 1.0),
    "lm_steps": 40,
    "lm_train": 200,
    "lm_test": 40,
    "noise_scales": (0.05,),
    "checkpoints": False,
}


def test_one_primary_row_and_every_row_has_a_role_and_unit() -> None:
    ctx = ExperimentContext(
        store=Store.open(":memory:"), models=[], quick=True, log=lambda m: None, options=TINY
    )
    rows = FracturedInternals().run(ctx)  # run() itself checks the declared primary
    assert [r.metric for r in rows if r.role == "primary"] == [FracturedInternals.primary.metric]
    for r in rows:
        assert r.role in ROLES and r.unit and r.claim == "c5" and r.source
        assert r.metric == r.metric.lower() and " " not in r.metric
    assert {r.role for r in rows} >= {"primary", "precondition", "check"}


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
    options = {
        "sgd_steps": 300,
        "restart_steps": 50,
        "search_generations": 200,
        "lm_steps": 300,
        "lm_test": 120,
    }
    ctx = ExperimentContext(
        store=store, models=[], quick=True, seed=0, log=lambda m: None, options=options
    )
    evidence = FracturedInternals().run(ctx)
    metrics = {e.metric for e in evidence}
    assert {
        "cppn_output_rmse",
        "sweep_asymmetry_sgd_minus_search",
        "sweep_asymmetry_sgd_minus_handbuilt",
    } <= metrics
    for e in evidence:
        assert isinstance(e, Evidence) and e.claim == "c5" and e.quick
        assert e.verdict in ("supported", "contradicted", "inconclusive", "not testable")
        assert e.ci_low <= e.effect <= e.ci_high
    primary = next(e for e in evidence if e.role == "primary")
    assert primary.n_units <= 2 and primary.verdict in ("inconclusive", "not testable")
    store.replace_evidence("c5", [e.as_row() for e in evidence])
    assert store.count("evidence") == len(evidence)
    images = store.artifact("c5", "cppn_sweep_images")
    assert len(images["nets"]["sgd"]["base"]) == 24 and images["nets"]["search"]["sweeps"]
    assert store.artifact("c5", "toy_lm_output_vs_representation")["x"]
