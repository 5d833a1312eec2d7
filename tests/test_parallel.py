"""Independent toy trainings run side by side (toy/parallel.py) give exactly what they give one
after another: C2's pretrained checkpoints and C7's per-seed histories, compared number for
number with a serial run of the same seeds."""

from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path

import torch
from safetensors.torch import load_file

from helpers import quiet_context
from homogeny.experiments.c2_training.plan import C2Plan
from homogeny.experiments.c2_training.training import toy_runs
from homogeny.experiments.c7_anchors import AnchorsPlan, toy_study
from homogeny.store import Store
from homogeny.toy import torch_threads
from homogeny.toy.parallel import workers_for


def test_workers_follow_homogeny_threads_and_never_exceed_the_jobs(monkeypatch):
    monkeypatch.setenv("HOMOGENY_THREADS", "2")
    assert workers_for(9) == 2 and workers_for(1) == 1
    monkeypatch.setenv("HOMOGENY_THREADS", "1")
    assert workers_for(9) == 1


def _same_checkpoints(a: Path, b: Path) -> None:
    names = sorted(p.name for p in a.iterdir())
    assert names == sorted(p.name for p in b.iterdir()) and names
    for name in names:
        if name.endswith(".curve.json"):
            assert json.loads((a / name).read_text()) == json.loads((b / name).read_text())
        elif name.endswith(".safetensors"):
            x, y = load_file(a / name), load_file(b / name)
            assert x.keys() == y.keys()
            assert all(torch.equal(x[k], y[k]) for k in x), name


def test_c2_pretraining_and_rl_in_two_processes_give_the_runs_of_one_after_another(
    tmp_path, monkeypatch
):
    plan = replace(
        C2Plan.quick(),
        sizes=("tiny",),
        pretrain_seeds=2,
        pretrain_steps=6,
        corpus_docs=80,
        rl_prompts=4,
        eval_prompts=2,
        epochs=1.0,
        prompts_per_step=2,
        group_size=2,
        eval_k=2,
        max_new_tokens=12,
    )
    runs, lines = {}, {}
    for threads in ("2", "1"):
        monkeypatch.setenv("HOMOGENY_THREADS", threads)
        lines[threads] = []
        with Store.open(tmp_path / f"s{threads}.duckdb") as store, torch_threads(1):
            ctx = replace(quiet_context(store), log=lines[threads].append)
            runs[threads] = toy_runs(ctx, plan)
    assert lines["2"] == [
        "c2: pretraining 2 models (tiny) in 2 processes",
        "c2: 4 RL runs in 2 processes",
    ]
    assert len(lines["1"]) == 6  # two pretrainings and four RL runs, one after another
    assert runs["2"] == runs["1"] and len(runs["1"]) == 4
    _same_checkpoints(tmp_path / "s2_checkpoints" / "c2", tmp_path / "s1_checkpoints" / "c2")


def test_c7_seeds_in_two_processes_give_the_histories_of_one_after_another(tmp_path, monkeypatch):
    plan = AnchorsPlan.for_run(
        True,
        {
            "seeds": 2,
            "shared_pretraining": False,
            "digits": 1,
            "pretrain_texts": 400,
            "pretrain_steps": 60,
            "rounds": 1,
            "eval_problems": 4,
            "eval_samples": 2,
            "problems_per_round": 4,
            "samples_per_problem": 2,
            "finetune_steps": 2,
        },
    )
    histories = {}
    for threads in ("2", "1"):
        monkeypatch.setenv("HOMOGENY_THREADS", threads)
        with Store.open(tmp_path / f"s{threads}.duckdb") as store, torch_threads(1):
            histories[threads] = toy_study.toy_histories(quiet_context(store), plan)
    # repr: exact for floats, and a round that kept nothing has kept_accuracy nan in both
    assert repr(histories["2"]) == repr(histories["1"])
    assert any(m.pass_at_k > 0 for runs in histories["1"].values() for run in runs for m in run)
    assert all(len(runs) == 2 for runs in histories["1"].values())
