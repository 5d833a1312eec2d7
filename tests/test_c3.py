"""C3 (size and probability concentration): measurements on hand-made cases, the function
sandbox's containment, and the experiment end to end on smollm2-135m."""

from __future__ import annotations

import json
import math
import socket
import threading
from pathlib import Path

import numpy as np
import pytest

from homogeny.experiments.c3_size import (
    ModelRun,
    SizeConcentration,
    build_evidence,
    effective_unique,
    expected_distinct_curve,
    ladder_partners,
    ladder_steps,
    measure_prompt,
    size_slope,
    text_is_valid,
    vendi_within_budgets,
)
from homogeny.experiments.c3_size.function_classes import (
    classify_texts,
    extract_function,
    isolation_layers,
    run_functions,
)
from homogeny.suites.prompt import Prompt

INPUTS = [[1, 2, 3], [5, -2, 7, 0], [3, 3, 3], [10, 1, 8, 2, 9]]
FAST = 0.5  # per-function timeout in these tests


# ---- distinct@k, validity, Vendi, slope ----------------------------------------------------
def test_distinct_curve_of_one_repeated_answer_is_one_everywhere() -> None:
    assert expected_distinct_curve([0] * 8).tolist() == [1.0] * 8


def test_distinct_curve_of_all_different_answers_is_k() -> None:
    assert np.allclose(expected_distinct_curve(list(range(6))), np.arange(1, 7))


def test_distinct_curve_matches_hand_computed_expectation() -> None:
    # classes {0,0},{1,1}; k=2 of 4: P(a class is missed) = C(2,2)/C(4,2) = 1/6 -> 2 * 5/6
    assert expected_distinct_curve([0, 0, 1, 1], 2)[1] == pytest.approx(5 / 3)


def test_text_validity_rejects_short_and_looping_text() -> None:
    assert text_is_valid("This coffee maker brews a strong cup every single morning.")
    assert not text_is_valid("Great product.")
    assert not text_is_valid("good " * 30)


def test_effective_unique_counts_classes_of_valid_outputs_only() -> None:
    assert effective_unique(["a", "a", "b", "c"], [True, True, True, False]) == 2
    assert effective_unique(["a", "b"], [False, False]) == 0


def test_vendi_within_budget_is_one_for_repeats_and_zero_before_the_first_sample() -> None:
    emb = np.tile([1.0, 0.0], (4, 1))
    out = vendi_within_budgets(emb, [10, 10, 10, 10], budgets=(5, 10, 40))
    assert out.tolist() == pytest.approx([0.0, 1.0, 1.0])
    assert vendi_within_budgets(np.eye(4), [10] * 4, budgets=(40,))[0] == pytest.approx(4.0)


def test_size_slope_is_negative_when_the_larger_model_gives_less() -> None:
    assert size_slope(np.array([1.0, 0.0]), np.array([8.0, 9.0])) == pytest.approx(-1.0)


# ---- one model's prompt measures and the verdict direction -----------------------------------
def fake_rows(texts: list[str], top1: float) -> list[dict]:
    """Sample rows as the engine stores them, with every step's top-1 probability = top1."""
    lp = math.log(top1)
    steps = {"top": [[[1, lp], [2, math.log((1 - top1) / 2)]]] * 4, "entropy": [-(top1 * lp)] * 4}
    return [
        {"text": t, "n_tokens": 4, "gen_seconds": 0.1, "top_logprobs_json": json.dumps(steps)}
        for t in texts
    ]


def test_a_model_repeating_one_text_has_one_distinct_sample() -> None:
    rows = fake_rows(["The coffee maker is quiet and brews fast every day."] * 6, 0.9)
    m = measure_prompt(rows, np.tile([0.6, 0.8], (6, 1)))
    assert m.distinct_curve[-1] == 1.0 and m.effective_unique == 1 and m.valid_share == 1.0
    assert m.top1 == pytest.approx(0.9)


def test_function_outputs_define_the_effective_classes() -> None:
    texts = [
        "def f(x):\n    return sum(x)\n",
        "def f(x):\n    t = 0\n    for v in x:\n        t += v\n    return t\n",
        "def f(x):\n    return max(x)\n",
        "def f(x):\n    return x[99]\n",
    ]
    results = classify_texts(texts, INPUTS, timeout_s=FAST)
    m = measure_prompt(fake_rows(texts, 0.5), np.eye(4), results)
    assert m.effective_unique == 2 and m.valid_share == 0.75


DISTINCT = [f"Review number {i} talks about topic {i} in detail here." for i in range(8)]


def spread_measures(prompts: list[Prompt]) -> dict:
    """Eight different answers per prompt, low top-1 probability."""
    return {p.id: measure_prompt(fake_rows(DISTINCT, 0.3), np.eye(8)) for p in prompts}


def collapsed_measures(prompts: list[Prompt]) -> dict:
    """One answer repeated eight times per prompt, high top-1 probability."""
    one = np.tile(np.eye(8)[0], (8, 1))
    return {p.id: measure_prompt(fake_rows([DISTINCT[0]] * 8, 0.9), one) for p in prompts}


def evidence_for(
    tmp_path: Path, runs: list[ModelRun], prompts: list[Prompt], measures: dict
) -> dict:
    from homogeny.experiments.base import ExperimentContext, check_primary
    from homogeny.store import Store

    with Store.open(tmp_path / "s.duckdb") as store:
        ctx = ExperimentContext(store=store, models=[r.spec for r in runs], log=lambda m: None)
        rows = build_evidence(ctx, runs, prompts, measures)
    check_primary(SizeConcentration(), rows)
    assert all(r.role and r.unit for r in rows)
    return {(e.metric, e.subject): e for e in rows}


def ladder(family: str, small_collapses: bool, prompts: list[Prompt]) -> tuple[list, dict]:
    """A 100M and a 1B model of one family; the one that collapses gives one answer."""
    small = ModelRun(f"s{family}", f"small-{family}", 100_000_000, "instruct", family)
    big = ModelRun(f"b{family}", f"big-{family}", 1_000_000_000, "instruct", family)
    collapsed, spread = collapsed_measures(prompts), spread_measures(prompts)
    measures = {
        small.label: collapsed if small_collapses else spread,
        big.label: spread if small_collapses else collapsed,
    }
    return [small, big], measures


def primary_of(rows: dict):
    (row,) = [e for e in rows.values() if e.role == "primary"]
    return row


def test_one_ladder_step_cannot_decide_the_trend_but_its_prompts_can(tmp_path: Path) -> None:
    prompts = [Prompt(f"p{i}", "Write a short review.") for i in range(10)]
    runs, measures = ladder("A", False, prompts)
    rows = evidence_for(tmp_path, runs, prompts, measures)
    primary = primary_of(rows)
    assert primary.metric == "distinct_per_draw_vs_size"
    assert primary.effect == pytest.approx(-7 / 8)  # one decade of parameters
    assert primary.n_units == 1 and primary.verdict == "inconclusive"  # model is the unit
    pair = rows[("same_family_distinct_per_draw", "big-A vs small-A")]
    assert pair.role == "secondary" and pair.n_units == 10 and pair.verdict == "supported"
    assert rows[("same_family_top1_mass", "big-A vs small-A")].verdict == "supported"
    assert rows[("unique_per_100m_params_vs_size", primary.subject)].role == "sanity"


@pytest.mark.parametrize("bigger_collapses", [True, False])
def test_six_ladders_decide_the_trend_in_the_direction_of_the_data(
    tmp_path: Path, bigger_collapses: bool
) -> None:
    prompts = [Prompt(f"p{i}", "Write a short review.") for i in range(3)]
    runs, measures = [], {}
    for family in "ABCDEF":
        r, m = ladder(family, not bigger_collapses, prompts)
        runs += r
        measures.update(m)
    primary = primary_of(evidence_for(tmp_path, runs, prompts, measures))
    assert primary.n_units == 6 and primary.method == "sign-flip exact"
    assert primary.verdict == ("supported" if bigger_collapses else "contradicted")


def test_models_of_different_families_make_no_size_trend(tmp_path: Path) -> None:
    prompts = [Prompt(f"p{i}", "Write a short review.") for i in range(4)]
    small = ModelRun("s", "small", 100_000_000, "instruct", "A")
    big = ModelRun("b", "big", 1_000_000_000, "instruct", "B")
    base = ModelRun("g", "base", 300_000_000, "base", "A")
    measures = {
        "small": spread_measures(prompts),
        "big": collapsed_measures(prompts),
        "base": collapsed_measures(prompts),
    }
    rows = evidence_for(tmp_path, [small, big, base], prompts, measures)
    primary = primary_of(rows)
    assert primary.verdict == "not testable" and "two sizes of one model family" in primary.sign
    assert not any(m.startswith("same_family") for m, _ in rows)
    assert len(primary.plot["labels"]) == 3  # every model is still drawn


def test_ladder_steps_take_consecutive_sizes_of_each_family() -> None:
    runs = [ModelRun(str(p), str(p), p, "instruct", "A") for p in (3, 1, 2)]
    runs.append(ModelRun("x", "x", 5, "instruct", "B"))
    assert [(a.params, b.params) for a, b in ladder_steps(runs)] == [(1, 2), (2, 3)]


def test_ladder_partners_complete_a_zoo_family_with_installed_sizes() -> None:
    from homogeny.models import zoo

    assert ladder_partners(["zoo:smollm2-135m", "zoo:gemma3-270m"]) == []
    expected = ["zoo:qwen2.5-coder-1.5b"] if zoo.is_installed("qwen2.5-coder-1.5b") else []
    assert ladder_partners(["zoo:qwen2.5-coder-0.5b"]) == expected
    assert ladder_partners(["zoo:qwen2.5-coder-0.5b", "zoo:qwen2.5-coder-1.5b"]) == []


def test_plan_quick_and_full_and_strict_options() -> None:
    from homogeny.errors import HomogenyError

    quick, full = SizeConcentration.Plan.quick(), SizeConcentration.Plan.full()
    assert (quick.samples, quick.tasks, quick.ladder_partners) == (6, 4, False)
    assert (full.samples, full.tasks, full.ladder_partners) == (32, 12, True)
    assert SizeConcentration.Plan.for_run(True, {"samples": "3"}).samples == 3
    with pytest.raises(HomogenyError, match="unknown option"):
        SizeConcentration.Plan.for_run(True, {"sample": 3})


# ---- function extraction and classes -------------------------------------------------------
def test_extract_function_from_fenced_block_with_prose() -> None:
    text = "Here you go:\n```python\ndef f(nums):\n    return sum(nums)\n```\nThis returns the sum."
    assert extract_function(text) == "def f(nums):\n    return sum(nums)\n"


def test_extract_function_from_unclosed_fence_and_bare_def() -> None:
    assert extract_function("```python\ndef f(x):\n    return 1") == "def f(x):\n    return 1\n"
    assert extract_function("Sure.\ndef f(x):\n    return 2\nIt returns two.").startswith(
        "def f(x):"
    )
    assert extract_function("I cannot write code.") is None


def test_two_functions_computing_the_same_thing_are_one_class() -> None:
    a, b, c = run_functions(
        [
            "def f(x):\n    return sum(x)\n",
            "def f(nums):\n    total = 0\n    for n in nums:\n        total += n\n"
            "    return total\n",
            "def f(x):\n    return len(x)\n",
        ],
        INPUTS,
        timeout_s=FAST,
    )
    assert a.semantic_class == b.semantic_class == (6, 10, 9, 30)
    assert c.semantic_class != a.semantic_class


def test_trailing_prose_and_example_calls_do_not_break_a_function() -> None:
    text = "def total(x):\n    return sum(x)\nprint(total([1, 2]))\nThis function sums the list."
    (res,) = run_functions([extract_function(text)], INPUTS, timeout_s=FAST)
    assert res.valid and res.outputs == (6, 10, 9, 30)


@pytest.mark.parametrize(
    "source",
    [
        "def f(x):\n    return x[100]\n",  # crashes
        "def f(x):\n    return 1.5\n",  # not an int
        "def f(x):\n    return True\n",  # bool is not an int result
        "def f(x)\n    return 1\n",  # syntax error
    ],
)
def test_crashing_or_non_int_functions_are_invalid(source: str) -> None:
    (res,) = run_functions([source], INPUTS, timeout_s=FAST)
    assert not res.valid and res.semantic_class is None and res.error


def test_missing_function_is_invalid() -> None:
    (res,) = classify_texts(["No code here."], INPUTS)
    assert not res.valid and res.error == "no function found"


# ---- containment ---------------------------------------------------------------------------
def test_malicious_functions_are_contained_and_the_batch_goes_on(tmp_path: Path) -> None:
    marker = tmp_path / "pwned"
    sources = [
        f"import os\ndef f(x):\n    os.system('touch {marker}')\n    return 1\n",
        "def f(x):\n    while True:\n        pass\n",
        "def f(x):\n    while True:\n        try:\n            while True:\n"
        "                pass\n        except BaseException:\n            pass\n",
        "def f(x):\n    big = [0] * (10 ** 10)\n    return 1\n",
        f"def f(x):\n    return len(open('{marker}', 'w').write('x'))\n",
        "def f(x):\n    return sum(x)\n",
    ]
    results = run_functions(sources, INPUTS, timeout_s=FAST)
    assert [r.valid for r in results] == [False] * 5 + [True]
    assert results[0].error == "error: ImportError" and results[1].error == "timeout"
    assert results[3].error == "error: MemoryError"
    assert results[5].outputs == (6, 10, 9, 30)
    assert not marker.exists()


def test_escape_from_restricted_builtins_still_cannot_touch_files_or_network(
    tmp_path: Path,
) -> None:
    layers = isolation_layers()
    if not (layers.get("chroot_empty_dir") and layers.get("no_network")):
        pytest.skip(f"this machine does not allow the chroot and network layers: {layers}")
    marker = tmp_path / "escaped"
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen(1)
    server.settimeout(3)
    port = server.getsockname()[1]
    hits: list[object] = []
    threading.Thread(target=lambda: _accept(server, hits), daemon=True).start()
    escape = (
        "def f(x):\n"
        "    w = [c for c in ().__class__.__base__.__subclasses__()\n"
        "         if c.__name__ == '_wrap_close'][0]\n"
        "    g = w.__init__.__globals__\n"
        f"    rc = g['system']('touch {marker}')\n"
        "    try:\n"
        "        sock = g['sys'].modules['builtins'].__import__('socket')\n"
        "        s = sock.create_connection(('127.0.0.1', %d), 1)\n"
        "        return 1000\n"
        "    except Exception:\n"
        "        return rc\n" % port
    )
    (res,) = run_functions([escape], INPUTS, timeout_s=2.0)
    server.close()
    assert not marker.exists()
    assert not hits
    assert res.outputs is None or 1000 not in res.outputs


def _accept(server: socket.socket, hits: list[object]) -> None:
    try:
        hits.append(server.accept())
    except OSError:
        pass


# ---- end to end on a real model ------------------------------------------------------------
@pytest.mark.slow
def test_quick_run_on_smollm_stores_evidence_and_reruns_from_cache(
    tmp_path: Path, smollm: str
) -> None:
    from homogeny.experiments.base import ExperimentContext
    from homogeny.store import Store

    with Store.open(tmp_path / "s.duckdb") as store:
        ctx = ExperimentContext(
            store=store, models=[smollm], quick=True, progress=False, log=lambda m: None,
            options={"unladdered": True},  # one model: sampled only when asked for
        )  # fmt: skip
        first = SizeConcentration().run(ctx)
        n_samples = store.count("samples")
        second = SizeConcentration().run(ctx)
        assert store.count("samples") == n_samples > 0
        curve = store.artifact("c3", "distinct_at_k")
    assert [e.metric for e in first] == [e.metric for e in second]
    assert [e.role for e in first].count("primary") == 1
    assert all(e.role and e.unit for e in first)
    assert {e.verdict for e in first} == {"not testable"}  # one model: no size ladder
    assert curve["x"] == list(range(1, SizeConcentration.Plan.quick().samples + 1))
    assert len(curve["series"]) == 1


@pytest.mark.slow
def test_models_forming_no_ladder_are_not_sampled(tmp_path: Path, smollm: str) -> None:
    from homogeny.experiments.base import ExperimentContext
    from homogeny.store import Store

    lines: list[str] = []
    with Store.open(tmp_path / "s.duckdb") as store:
        ctx = ExperimentContext(
            store=store, models=[smollm], quick=True, progress=False, log=lines.append
        )
        rows = SizeConcentration().run(ctx)
        assert store.count("samples") == 0
    assert {e.verdict for e in rows} == {"not testable"}
    primary = next(e for e in rows if e.role == "primary")
    assert "size ladder" in primary.sign and "smollm2-135m" in primary.sign
    assert any(line.startswith("c3: not sampled: needs two sizes") for line in lines)


@pytest.mark.slow
def test_quick_run_on_the_qwen_ladder_tests_one_step(tmp_path: Path) -> None:
    from homogeny.experiments.base import ExperimentContext
    from homogeny.models import zoo
    from homogeny.store import Store

    if not all(zoo.is_installed(m) for m in ("qwen2.5-coder-0.5b", "qwen2.5-coder-1.5b")):
        pytest.skip("the Qwen2.5-Coder ladder (0.5B and 1.5B) is not installed")
    models = ["zoo:qwen2.5-coder-0.5b", "zoo:qwen2.5-coder-1.5b"]
    with Store.open(tmp_path / "s.duckdb") as store:
        ctx = ExperimentContext(
            store=store, models=models, quick=True, progress=False, log=lambda m: None
        )
        rows = SizeConcentration().run(ctx)
    primary = next(e for e in rows if e.role == "primary")
    assert primary.n_units == 1 and primary.verdict == "inconclusive"
    assert " -> " in primary.subject and primary.models and len(primary.models) == 2
    pairs = [e for e in rows if e.metric == "same_family_distinct_per_draw"]
    assert len(pairs) == 1 and pairs[0].n_units == SizeConcentration.Plan.quick().tasks
