"""Stage decomposition (claim T): Shapley values on hand-computed games, the direction of the
decomposition on controlled outputs, the counter-pressure pieces, and the plumbing on smollm2."""

from __future__ import annotations

import math

import numpy as np
import pytest

from homogeny.experiments.thesis.counter_pressures import (
    novelty_rerank,
    parse_verbalised,
    plan_settings,
    seed_anchor,
    verbalised_answers,
)
from homogeny.experiments.thesis.quality import acceptable, answer_correct
from homogeny.experiments.thesis.stages import (
    cross_source_similarity,
    decompose,
    leading_gap,
    random_pair_similarity,
    shapley_values,
    text_similarity,
    unit_shapley,
)

# ---- Shapley values, computed by hand ----------------------------------------------------


def test_additive_game_gives_each_player_its_own_contribution() -> None:
    own = {"input": 0.10, "post": 0.25, "sampling": -0.05}
    phi = shapley_values(list(own), lambda s: 0.3 + sum(own[p] for p in s))
    assert phi == pytest.approx(own)


def test_symmetric_game_splits_equally() -> None:
    phi = shapley_values(["a", "b", "c"], lambda s: len(s) ** 2)  # v(all) = 9
    assert phi == pytest.approx({"a": 3.0, "b": 3.0, "c": 3.0})


def test_two_player_game_by_hand() -> None:
    # phi_a = 1/2 [(1 - 0) + (5 - 2)] = 2 ; phi_b = 1/2 [(2 - 0) + (5 - 1)] = 3
    v = {frozenset(): 0.0, frozenset("a"): 1.0, frozenset("b"): 2.0, frozenset("ab"): 5.0}
    assert shapley_values(["a", "b"], v) == pytest.approx({"a": 2.0, "b": 3.0})


def test_majority_game_and_a_null_player() -> None:
    # three-player majority plus a dummy d who never changes anything: 1/3 each, d gets 0
    def v(s: frozenset[str]) -> float:
        return float(len(s - {"d"}) >= 2)

    phi = shapley_values(["a", "b", "c", "d"], v)
    assert phi == pytest.approx({"a": 1 / 3, "b": 1 / 3, "c": 1 / 3, "d": 0.0})


def test_decompose_is_efficient_and_bootstraps_every_share() -> None:
    rng = np.random.default_rng(0)
    values = rng.uniform(0, 1, size=(9, 4))
    baseline = rng.uniform(0, 0.2, size=9)
    d = decompose(["x", "y"], values, baseline, n_boot=300)
    assert d.stages == ["pretraining (base level)", "x", "y"]
    assert sum(d.shapley) == pytest.approx(d.total)
    assert d.total == pytest.approx(values[:, 3].mean() - baseline.mean())
    assert d.shapley[0] == pytest.approx(values[:, 0].mean() - baseline.mean())
    for v, lo, hi in zip(d.shapley, d.low, d.high):
        assert lo <= v <= hi and lo < hi
    assert [c["toggles"] for c in d.configs] == [
        {"x": False, "y": False},
        {"x": True, "y": False},
        {"x": False, "y": True},
        {"x": True, "y": True},
    ]


# ---- the measurement on controlled outputs ----------------------------------------------


def _outputs(
    identical: bool, rng: np.random.Generator, requests: int = 6, users: int = 4, dim: int = 32
):
    """Embeddings of every user's answer to every request: random directions, or, when
    `identical`, one answer per request that every user gets."""
    rows, reqs, srcs = [], [], []
    for r in range(requests):
        shared = rng.normal(size=dim)
        for u in range(users):
            rows.append(shared if identical else rng.normal(size=dim))
            reqs.append(r)
            srcs.append(u)
    return np.array(rows), reqs, srcs


def test_a_toggle_that_makes_outputs_identical_gets_all_the_attribution() -> None:
    players = ["flatten", "noop"]
    rng = np.random.default_rng(1)
    per_config = {}
    for identical in (False, True):
        emb, reqs, srcs = _outputs(identical, rng)
        per_config[identical] = cross_source_similarity(emb, reqs, srcs)
        if not identical:
            chance = random_pair_similarity(emb, reqs, srcs)
    requests = sorted(per_config[False])
    # mask bit 0 = flatten, bit 1 = noop (which changes nothing)
    values = np.array([[per_config[bool(mask & 1)][r] for mask in range(4)] for r in requests])
    d = decompose(players, values, np.array([chance[r] for r in requests]), n_boot=200)
    share = dict(zip(d.stages, d.shapley))
    assert (
        share["flatten"] > 0.9
    )  # identical answers: cross-user cosine 1 vs about 0 for random ones
    assert share["noop"] == pytest.approx(0.0, abs=1e-12)
    assert share["flatten"] == pytest.approx(d.total - share["pretraining (base level)"])


def test_cross_source_and_random_pairs() -> None:
    # two requests on orthogonal axes; same-request answers identical across users
    emb = np.array([[1, 0], [1, 0], [0, 1], [0, 1]], dtype=float)
    reqs, users = ["r1", "r1", "r2", "r2"], [0, 1, 0, 1]
    assert cross_source_similarity(emb, reqs, users) == {"r1": 1.0, "r2": 1.0}
    assert random_pair_similarity(emb, reqs, users) == {"r1": 0.0, "r2": 0.0}
    # pairs from the same source are not compared: one source per request leaves it out
    assert cross_source_similarity(emb, reqs, [0, 0, 1, 1]) == {}


def test_text_similarity_is_one_for_identical_strings() -> None:
    sim = text_similarity(["x=3+4\nprint(x)", "abc"], ["x=3+4\nprint(x)", "zzz"])
    assert sim[0, 0] == pytest.approx(1.0)
    assert sim[1, 1] == pytest.approx(0.0)


# ---- counter-pressure pieces --------------------------------------------------------------


def test_parse_verbalised_numbered_lines_and_paper_format() -> None:
    reply = (
        "Here you go:\n1. Whiskers (probability: 0.4)\n2) Luna (p=0.35)\n3. Mochi\n"
        "4. <answer>\nThanks!"  # the copied slot is dropped
    )
    assert parse_verbalised(reply) == [
        ("Whiskers", 0.4),
        ("Luna", 0.35),
        ("Mochi", None),
    ]
    xml = (
        "<response><text>Rain falls.</text><probability>0.7</probability></response>"
        "<response><text>Clouds cry.</text><probability>0.3</probability></response>"
    )
    assert parse_verbalised(xml) == [("Rain falls.", 0.7), ("Clouds cry.", 0.3)]
    assert parse_verbalised("no list here") == []


def test_verbalised_answers_interleave_replies_and_keep_unparsed_ones() -> None:
    replies = ["1. a\n2. b\n3. c", "just one answer"]
    assert verbalised_answers(replies, 3) == ["a", "just one answer", "b"]


def test_novelty_rerank_keeps_the_candidate_farthest_from_accepted_ones() -> None:
    e1, e2, e3 = np.eye(3)
    slots = [np.array([e1, e2]), np.array([e1, e3]), np.array([e2 + 0.01 * e1, e3 + 0.01 * e1])]
    # slot 0 keeps its first draw (e1); slot 1 rejects a repeat of e1; slot 2 picks e2 (e3 is taken)
    assert novelty_rerank(slots) == [0, 1, 0]


def test_judge_rejects_empty_off_topic_and_degenerate_outputs() -> None:
    assert acceptable("Rain forms when water vapour condenses into droplets.", 0.6)
    assert not acceptable("", 0.9)
    assert not acceptable("Rain forms when water vapour condenses.", 0.01)
    assert not acceptable("the rain the rain " * 30, 0.6)


def test_answer_check_matches_whole_words_and_aliases() -> None:
    assert answer_correct("The answer is 12.", "12")
    assert not answer_correct("It is 120.", "12")
    assert answer_correct("Twelve, of course", "12", ["twelve"])
    assert not answer_correct("3.12 apples", "12")


def test_a_list_of_guesses_is_not_a_right_answer() -> None:
    q = "What is 7 plus 5?"
    assert not answer_correct("12 / 17 / 22", "12", ["twelve"], q)
    assert answer_correct("7 plus 5 is 12.", "12", ["twelve"], q)  # numbers from the question
    assert not answer_correct("It is 13.", "12", ["twelve"], q)
    assert answer_correct("Paris, of course.", "Paris")


def test_per_unit_shapley_values_average_to_the_game_and_the_gap_ranks_them() -> None:
    rng = np.random.default_rng(0)
    players = ["a", "b", "c"]
    values = rng.normal(size=(20, 8))
    values[:, [1, 3, 5, 7]] += 0.5  # player a adds 0.5 everywhere
    per_unit = unit_shapley(players, values)
    game = shapley_values(
        players,
        {
            frozenset(p for i, p in enumerate(players) if m >> i & 1): float(values[:, m].mean())
            for m in range(8)
        },
    )
    assert per_unit.mean(axis=0) == pytest.approx([game[p] for p in players])
    top, second, gap = leading_gap(players, values)
    assert top == "a" and second != "a"
    assert gap.mean() == pytest.approx(game["a"] - game[second])


def test_shuffled_corpus_keeps_characters_and_breaks_structure() -> None:
    from homogeny.experiments.thesis.toy import shuffled

    docs = ["Tom has 3 apples. He buys 2 more. x = 3 + 2 print(x)"]
    out = shuffled(docs, seed=0)
    assert sorted(out[0]) == sorted(docs[0]) and out != docs
    assert shuffled(docs, seed=0) == out


def test_thesis_declares_one_primary_and_a_strict_plan() -> None:
    from homogeny.errors import HomogenyError
    from homogeny.experiments.claims import THESIS
    from homogeny.experiments.thesis import Thesis, ThesisPlan

    assert Thesis.info is THESIS and THESIS.target == "homogeny.experiments.thesis:Thesis"
    assert Thesis.primary.metric == "counter_pressure_diversity_gain"
    assert Thesis.primary.unit == "prompt"
    assert ThesisPlan.for_run(True, {"pair": "a.gguf,b.gguf"}).pair_specs == ("a.gguf", "b.gguf")
    with pytest.raises(HomogenyError):
        ThesisPlan.for_run(True, {"pair": "only-one"})
    with pytest.raises(HomogenyError):
        ThesisPlan.for_run(True, {"no_such_option": 1})


def test_seed_anchor_is_reproducible_and_differs_per_draw() -> None:
    a = seed_anchor("Name a colour.", 0, run_seed=7)
    assert a == seed_anchor("Name a colour.", 0, run_seed=7)
    assert a != seed_anchor("Name a colour.", 1, run_seed=7)
    assert a.startswith("Random seed: ") and a.endswith(" Name a colour.")
    assert math.isfinite(float(a.split(":")[1].split(".")[0]))


# ---- plumbing on the real 135M model -------------------------------------------------------


@pytest.mark.slow
def test_thesis_quick_on_smollm_stores_decomposition_and_frontier(smollm: str, tmp_path) -> None:
    from homogeny.experiments.base import ExperimentContext
    from homogeny.experiments.thesis import Thesis
    from homogeny.store import Store

    with Store.open(tmp_path / "s.duckdb") as store:
        ctx = ExperimentContext(
            store=store,
            models=[smollm],
            quick=True,
            progress=False,
            log=lambda m: None,
            options={"skip_toy": True},
        )
        evidence = Thesis().run(ctx)
        n_samples = store.count("samples")
        stages = store.artifact("T", "stage_decomposition")
        points = store.artifact("T", "counter_pressures")
        # one instruct model: input, format (chat template vs raw) and sampling on its weights
        assert stages["stages"] == ["all-off level", "input", "format", "sampling"]
        assert sum(stages["shapley"]) == pytest.approx(stages["total"])
        names = {p["name"] for p in points}
        assert {
            "higher temperature",
            "min-p",
            "persona anchor",
            "random-seed anchor",
            "verbalised sampling",
            "novelty reranking",
        } <= names
        assert "smaller model" not in names  # nothing smaller than the only model
        for p in points:
            assert p["gain_low"] <= p["diversity_gain"] <= p["gain_high"]
            assert p["accuracy_cost_low"] <= p["accuracy_cost"] <= p["accuracy_cost_high"]
            assert "logprob_cost" in p
        assert [e.role for e in evidence].count("primary") == 1
        assert all(e.role and e.unit and e.claim == "T" for e in evidence)
        by_metric = {(e.metric, e.subject): e for e in evidence}
        assert ("stage_shapley_value", "format") in by_metric
        weights = by_metric["stage_shapley_value", "weights"]
        assert weights.verdict == "not testable" and "not identified" in weights.sign
        assert any(m == "stage_gap_largest_minus_next" for m, _ in by_metric)
        assert any(m == "counter_pressure_accuracy_cost" for m, _ in by_metric)
        Thesis().run(ctx)  # a rerun is served by the cache
        assert store.count("samples") == n_samples


def test_weights_player_is_the_declared_pair_and_gets_its_own_shapley_value() -> None:
    from homogeny.experiments.thesis.games import _configs, _game_values

    players = ["format", "sampling", "weights"]
    specs = ["base.gguf", "tuned.gguf"]
    keys = _configs(players, specs)
    assert len(keys) == 2 * 2 * 2  # each checkpoint under every format and sampling setting
    # tuned weights add 0.3 everywhere, the chat template 0.1, greedy nothing
    conv = {k: {"r1": 0.2 + 0.3 * (k[0] == "tuned.gguf") + 0.1 * bool(k[2])} for k in keys}
    values = _game_values(players, specs, conv, ["r1"])
    phi = shapley_values(
        players,
        {frozenset(p for i, p in enumerate(players) if m >> i & 1): values[0, m] for m in range(8)},
    )
    assert phi["weights"] == pytest.approx(0.3) and phi["format"] == pytest.approx(0.1)
    assert phi["sampling"] == pytest.approx(0.0, abs=1e-12)


def test_report_names_a_largest_stage_only_when_the_gap_interval_excludes_zero() -> None:
    from homogeny.report.narrative import stage_sentence

    data = {
        "stages": ["all-off level", "input", "format", "sampling"],
        "shapley": [0.1, 0.02, 0.2, 0.15],
        "low": [0.05, -0.01, 0.1, 0.05],
        "high": [0.15, 0.05, 0.3, 0.25],
        "total": 0.47,
        "gap": {"top": "format", "second": "sampling", "low": -0.02, "high": 0.12},
    }
    text = stage_sentence(data)
    assert text.startswith("No stage is clearly the largest") and "neither agrees" in text
    data["gap"] = {"top": "format", "second": "sampling", "low": 0.01, "high": 0.12}
    data["gap"]["verdict"] = "inconclusive"  # an exact test at n = 3 cannot reach p <= 0.025
    assert stage_sentence(data).startswith("No stage is clearly the largest")
    data["gap"]["verdict"] = "supported"
    text = stage_sentence(data)
    assert "to format (Shapley value" in text and "Chen, Fortier & West" in text


def test_counter_pressures_push_the_largest_instruct_model_and_quick_the_smallest(smollm):
    """The full plan pushes qwen2.5-coder-0.5b with smollm2-135m as its "smaller model"
    (instruct before base); the quick plan pushes smollm2-135m, with nothing smaller."""
    from homogeny.errors import HomogenyError
    from homogeny.experiments.thesis.plan import ThesisPlan
    from homogeny.models import zoo

    names = ["smollm2-135m", "gemma3-270m", "qwen2.5-coder-0.5b"]
    if not all(zoo.is_installed(n) for n in names):
        pytest.skip("the three default models are not installed")
    models = [f"zoo:{n}" for n in names]
    default, pressures = plan_settings(models, ThesisPlan.full().pressure_model)
    assert default.model == "zoo:qwen2.5-coder-0.5b"
    assert {p.name: p.model for p in pressures}["smaller model"] == "zoo:smollm2-135m"
    default, pressures = plan_settings(models, ThesisPlan.quick().pressure_model)
    assert default.model == "zoo:smollm2-135m"
    assert "smaller model" not in {p.name for p in pressures}
    assert all(p.model == default.model for p in pressures)
    with pytest.raises(HomogenyError, match="pressure_model"):
        ThesisPlan(pressure_model="middle")
