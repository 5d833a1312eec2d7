"""The SRT protocol (`--protocol srt`, claim C4): the preset and the study's figures, the plan
option, the floor and the rows on hand-made embeddings, the CLI error, and a real run on
smollm2-135m (chat template and raw prompt on the same weights)."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pytest

from helpers import quiet_context

from homogeny.errors import HomogenyError
from homogeny.experiments.c4_hivemind import Hivemind, Plan
from homogeny.experiments.c4_hivemind.srt import (
    Condition,
    condition_rows,
    floor_pairs,
    format_rows,
    formats,
)
from homogeny.report.build import build_report
from homogeny.report.hivemind import protocol_tables
from homogeny.experiments.presets import (
    PROTOCOLS,
    SRT,
    SRT_PUBLISHED_EFFECTS,
    protocol,
    published_figure,
)


def test_srt_preset_is_the_studys_protocol_with_its_figures() -> None:
    assert PROTOCOLS["srt"] is SRT and protocol("srt") is SRT
    assert (SRT.samples, SRT.temperature, SRT.top_p, SRT.max_tokens) == (8, 1.0, 0.9, 48)
    assert (SRT.embedder, SRT.floor_pairs, SRT.floor_seed) == ("zoo:minilm-l6", 20_000, 0)
    assert "Where the Hivemind Comes From" in SRT.study
    assert SRT.sampling() == dict(temperature=1.0, top_p=0.9, min_p=0.0, top_k=0, max_tokens=48)
    assert published_figure("qwen2.5-coder-0.5b", "instruct", "raw").similarity == 0.786
    assert published_figure("qwen2.5-coder-0.5b", "instruct", "chat").similarity == 0.865
    assert published_figure("Qwen/Qwen2.5-Coder-0.5B", "base", "raw").similarity == 0.597
    assert published_figure("qwen2.5-coder-0.5b", "instruct", "base") is None
    assert published_figure("smollm2-135m", "instruct", "chat") is None
    assert SRT_PUBLISHED_EFFECTS["chat template"] == 0.362
    with pytest.raises(HomogenyError, match="unknown protocol 'nope'"):
        protocol("nope")


def test_plan_accepts_srt_and_rejects_anything_else_in_one_line() -> None:
    assert Plan.full().protocol == "" and Plan.quick().protocol == ""
    assert Plan.for_run(True, {"protocol": "srt"}).protocol == "srt"
    with pytest.raises(HomogenyError) as err:
        Plan.for_run(False, {"protocol": "bogus"})
    assert str(err.value).count("\n") == 0 and "'bogus'" in str(err.value)
    assert "srt" in str(err.value)


def test_cli_rejects_an_unknown_protocol_with_one_line(cli) -> None:
    proc = cli("run", "c4", "--protocol", "bogus", "--store", "/nonexistent/never.duckdb")
    assert proc.returncode == 2, (proc.stdout, proc.stderr)
    lines = [line for line in proc.stderr.splitlines() if line.strip()]
    assert len(lines) == 1 and "bogus" in lines[0] and "Traceback" not in proc.stderr


def test_floor_draws_only_different_prompt_pairs_deterministically() -> None:
    eye = np.eye(3)
    groups = [np.tile(eye[p], (4, 1)) for p in range(3)]  # each prompt one direction
    floor, per = floor_pairs(groups, 2_000, seed=0)
    assert floor == 0.0 and per.tolist() == [0.0, 0.0, 0.0]  # never a same-prompt pair
    mixed = [np.tile(eye[0], (4, 1)), np.tile(eye[0], (4, 1)), np.tile(eye[1], (4, 1))]
    a, per_a = floor_pairs(mixed, 20_000, seed=0)
    b, _ = floor_pairs(mixed, 20_000, seed=0)
    assert a == b and a == pytest.approx(1 / 3, abs=0.02)  # 1 only between prompts 0 and 1
    assert per_a[2] == 0.0 and per_a[0] == pytest.approx(0.5, abs=0.03)
    with pytest.raises(ValueError):
        floor_pairs(groups[:1], 10, seed=0)
    assert formats("base") == ("raw",) and formats("instruct") == ("chat", "raw")


def _context(tmp_path: Path):
    from homogeny.store import Store

    store = Store.open(tmp_path / "s.duckdb")
    return store, quiet_context(store)


def test_rows_put_chat_raw_and_the_floor_beside_the_published_figure(tmp_path: Path) -> None:
    rng = np.random.default_rng(1)
    n, d = 6, 32

    def spread(scale: float) -> list[np.ndarray]:
        """Per prompt 8 samples around the prompt's own direction; smaller scale = more alike."""
        out = []
        for p in range(n):
            x = np.eye(d)[p] + scale * rng.normal(size=(8, d))
            out.append(x / np.linalg.norm(x, axis=1, keepdims=True))
        return out

    model = "qwen2.5-coder-0.5b"
    conditions = [
        Condition(model, "instruct", "chat", spread(0.05)),
        Condition(model, "instruct", "raw", spread(0.15)),
        Condition("gemma3-270m", "base", "raw", spread(0.15)),
    ]
    store, ctx = _context(tmp_path)
    with store:
        table, rows = condition_rows(ctx, conditions, SRT)
        effects = format_rows(ctx, conditions)
    intra = {r.subject: r for r in rows if r.metric == "srt_intra_model_similarity"}
    assert set(intra) == {f"{model} [chat]", f"{model} [raw]", "gemma3-270m [raw]"}
    assert all(r.role == "secondary" and r.n == n for r in rows + effects)
    assert intra[f"{model} [chat]"].effect > intra[f"{model} [raw]"].effect
    above = [r for r in rows if r.metric == "srt_intra_minus_floor"]
    assert len(above) == 3 and all(r.effect > 0.3 for r in above)  # prompts are orthogonal
    assert [e.subject for e in effects] == [model] and effects[0].metric == "srt_chat_minus_raw"
    chat_row = intra[f"{model} [chat]"]
    assert effects[0].effect == pytest.approx(chat_row.effect - intra[f"{model} [raw]"].effect)
    assert effects[0].plot["values"][1] == pytest.approx(0.079)
    by = {(t["model"], t["format"]): t for t in table}
    assert by[(model, "chat")]["published"] == 0.865 and by[(model, "raw")]["published"] == 0.786
    assert by[("gemma3-270m", "raw")]["published"] is None
    assert all(abs(t["floor"]) < 0.2 for t in table)


@pytest.mark.slow
def test_srt_run_on_smollm_measures_chat_and_raw_with_the_floor(
    tmp_path: Path, smollm: str
) -> None:
    from homogeny.experiments.base import ExperimentContext
    from homogeny.store import Store

    small = {"prompts": 3, "samples": 2, "min_p_prompts": 2, "persona_count": 1}
    options = {**small, "persona_requests": 1, "max_tokens": 8, "protocol": "srt"}
    with Store.open(tmp_path / "s.duckdb") as store:
        ctx = ExperimentContext(
            store=store,
            models=[smollm],
            quick=True,
            progress=False,
            log=lambda m: None,
            options=options,
        )
        rows = Hivemind().run(ctx)
        art = store.artifact("c4", "srt")
        store.replace_evidence("c4", [e.as_row() for e in rows])
        page = build_report(store, tmp_path / "report").read_text()
        chat = store.query(
            "SELECT chat, count(*) AS n FROM samples WHERE max_tokens = 48 "
            "GROUP BY chat ORDER BY chat"
        )
    srt = [r for r in rows if r.metric.startswith("srt_")]
    assert {r.subject for r in srt if r.metric == "srt_intra_model_similarity"} == {
        "smollm2-135m [chat]",
        "smollm2-135m [raw]",
    }
    assert [r.subject for r in srt if r.metric == "srt_chat_minus_raw"] == ["smollm2-135m"]
    assert len([r for r in srt if r.metric == "srt_intra_minus_floor"]) == 2
    assert all(r.role == "secondary" and r.n == 3 and math.isfinite(r.effect) for r in srt)
    assert [r.role for r in rows].count("primary") == 1
    assert {(t["model"], t["format"]) for t in art["table"]} == {
        ("smollm2-135m", "chat"),
        ("smollm2-135m", "raw"),
    }
    assert all(-1 <= t["floor"] < t["similarity"] <= 1 for t in art["table"])
    assert all(t["answers"] == 24 and 0 <= t["empty_answers"] <= 24 for t in art["table"])
    assert art["protocol"]["floor_pairs"] == 20_000 and len(art["prompts"]) == 3
    assert [(r["chat"], r["n"]) for r in chat] == [
        (False, 24),
        (True, 24),
    ]  # 3 prompts x K = 8, each way
    assert page.count('<table class="protocol">') == 1 and "under the SRT protocol" in page


def test_report_tables_the_protocol_beside_the_study_and_escapes_model_names() -> None:
    """The report's SRT table: ours with its interval and the floor, the study's figure where
    it covers the model (a dash where it does not), model names as text, never markup."""
    row = {"format": "chat", "low": 0.8, "high": 0.9, "floor": 0.12, "n": 20}
    art = {
        "protocol": {"samples": 8, "max_tokens": 48},
        "prompts": ["p1", "p2"],
        "table": [
            {**row, "model": "qwen2.5-coder-0.5b", "similarity": 0.85, "published": 0.865},
            {**row, "model": "<script>x</script>", "similarity": 0.5, "published": None},
        ],
        "chat_minus_raw": [
            {"model": "qwen2.5-coder-0.5b", "effect": 0.07, "low": 0.01, "high": 0.12,
             "published": 0.079}
        ],
    }  # fmt: skip
    ((table, caption),) = protocol_tables({"srt": art, "similarity_matrix_top_p": {}})
    html = str(table)
    assert "<td>0.85 [0.8, 0.9]</td><td>0.12</td><td>0.865</td><td>20</td>" in html
    assert "&lt;script&gt;x&lt;/script&gt;" in html and "<script>" not in html
    assert "<td>0.5 [0.8, 0.9]</td><td>0.12</td><td>—</td>" in html
    assert "K = 8, 48 tokens) on 2 prompts" in caption
    assert "qwen2.5-coder-0.5b: 0.07 [0.01, 0.12] (study: 0.079)" in caption
    assert protocol_tables({"similarity_matrix_top_p": {"matrix": []}}) == []
