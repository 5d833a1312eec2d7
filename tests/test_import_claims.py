"""C3 and C4 on imported texts (issue 15): NoveltyBench generations imported as `imported:NAME`
models (texts only) give C3's size trend on a same-family ladder (homogeny's equivalence and
NoveltyBench's partitions side by side) and C4's convergence across vendors, with humans as a
reference; studies needing log-probabilities or new samples say "not testable on imported
texts"; `homogeny audit --generations` imports and audits without crashing on claims that
cannot run on texts. Skipped when ../shared/data is absent."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

NB = Path(__file__).resolve().parents[1] / ".." / "shared" / "data" / "noveltybench"
pytestmark = pytest.mark.skipif(
    not (NB / "generations").is_dir(), reason="../shared/data/noveltybench is absent"
)
GEMMA = ["google/gemma-2-2b-it", "google/gemma-2-9b-it", "google/gemma-2-27b-it"]
VENDORS = ["gpt-4o-2024-11-20", "claude-3-5-haiku@20241022"]
PROMPTS = 10


def _rows(path: Path) -> list[dict]:
    return [json.loads(line) for line in path.read_text().splitlines() if line.strip()]


def _model_file(name: str) -> Path:
    return next(
        p for p in (NB / "generations").rglob("scores.jsonl") if name.endswith(p.parent.name)
    )


@pytest.fixture(scope="module")
def subset(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """3 Gemma 2 sizes + 2 vendors x the first 10 prompts humans answered, and those humans."""
    humans = _rows(NB / "sample_data" / "humans.jsonl")[:PROMPTS]
    ids = {r["id"] for r in humans}
    out = tmp_path_factory.mktemp("nb") / "subset.jsonl"
    lines = [r for m in GEMMA + VENDORS for r in _rows(_model_file(m)) if r["id"] in ids]
    out.write_text("".join(json.dumps(r) + "\n" for r in lines + humans))
    return out


@pytest.fixture(scope="module")
def store(subset: Path) -> str:
    """The subset imported into a fresh store."""
    from homogeny.importing.load import import_files

    path = str(subset.parent / "nb.duckdb")
    summary = import_files([subset], path)
    assert summary.new == len(GEMMA + VENDORS) * PROMPTS * 10 + PROMPTS * 8
    return path


def _specs(names: list[str]) -> list[str]:
    return [f"imported:{n}" for n in names]


@pytest.fixture(scope="module")
def c3_rows(store: str) -> list:
    from homogeny.experiments.registry import run_claims

    return run_claims(["c3"], _specs(GEMMA + ["human"]), store, log=lambda m: None)


@pytest.fixture(scope="module")
def c4_rows(store: str) -> list:
    from homogeny.experiments.registry import run_claims

    return run_claims(["c4"], _specs(GEMMA + VENDORS + ["human"]), store, log=lambda m: None)


def _contract(rows: list) -> None:
    assert sum(r.role == "primary" for r in rows) == 1
    assert all(r.role and r.unit for r in rows), [(r.metric, r.role, r.unit) for r in rows]


def test_c3_size_trend_on_an_imported_ladder_both_equivalences(c3_rows: list) -> None:
    _contract(c3_rows)
    by = {(r.metric, r.subject.split(":")[0]): r for r in c3_rows}
    primary = next(r for r in c3_rows if r.role == "primary")
    assert primary.metric == "distinct_per_draw_vs_size" and primary.verdict != "not testable"
    assert primary.n == 2  # two ladder steps of Gemma 2: the unit is the step, not the prompt
    assert "gemma-2-27b-it" in primary.subject
    theirs = next(r for r in c3_rows if r.metric == "noveltybench_distinct_per_draw_vs_size")
    assert theirs.verdict != "not testable" and theirs.n == 2
    assert any("human" in label for label in theirs.plot["labels"])  # reference, not a rung
    for metric in (
        "ladder_distinct_per_draw_vs_size",
        "ladder_noveltybench_distinct_per_draw_vs_size",
    ):
        assert by[(metric, "gemma-2")].verdict != "not testable"
    steps = [r for r in c3_rows if r.metric == "same_family_distinct_per_draw"]
    assert len(steps) == 2 and all(r.n == PROMPTS for r in steps)
    for metric in ("top1_mass_vs_size", "entropy_vs_size"):  # need log-probabilities
        row = next(r for r in c3_rows if r.metric == metric)
        assert row.verdict == "not testable" and "imported texts" in row.sign
    assert all("human" not in m for r in c3_rows if r.role == "primary" for m in r.models)


def test_c4_convergence_across_imported_vendors_with_humans_as_a_check(c4_rows: list) -> None:
    _contract(c4_rows)
    by = {r.metric: r for r in c4_rows}
    primary = by["share_intra_above_0_8"]
    assert primary.role == "primary" and primary.n == PROMPTS
    assert len(primary.models) == len(GEMMA + VENDORS)  # humans never pooled
    assert "human (reference)" in primary.plot["labels"]
    assert by["hivemind_index"].verdict != "not testable" and by["hivemind_index"].n == PROMPTS
    human = by["model_minus_human_intra_similarity"]
    assert human.role == "check" and human.n == PROMPTS
    assert human.effect > 0  # five LLMs' resamples are more alike than ten strangers' answers
    for metric in ("min_p_minus_top_p_intra_similarity", "persona_disguise_gap"):
        assert by[metric].verdict == "not testable" and "imported texts" in by[metric].sign


def test_audit_models_add_the_stored_imported_models_unless_some_are_named(store: str) -> None:
    from homogeny.audit_imported import audit_models

    every = audit_models(["zoo:smollm2-135m"], store)
    assert every[0] == "zoo:smollm2-135m" and "imported:human" in every
    assert len(every) == 1 + len(GEMMA + VENDORS) + 1
    assert audit_models(["imported:human"], store) == ["imported:human"]


def test_audit_generations_imports_and_runs_claims_that_cannot_run_as_not_testable(
    cli, store: str, subset: Path, tmp_path: Path, c3_rows: list, c4_rows: list
) -> None:
    copy = tmp_path / "audit.duckdb"
    shutil.copy(store, copy)  # embeddings cached: the audit reads them back
    specs = ",".join(_specs(GEMMA + VENDORS + ["human"]))
    res = cli("audit", "--generations", str(subset), "--models", specs, "--claims", "c1,c3,c4",
              "--store", str(copy), "--out", str(tmp_path / "report"))  # fmt: skip
    assert res.returncode == 0, res.stderr[-3000:]
    assert "0 new" in res.stdout  # importing twice adds nothing
    from homogeny.store import Store

    with Store.open(str(copy), read_only=True) as st:
        rows = {(r["claim"], r["metric"]): r for r in st.evidence()}
        assert st.count("samples") == len(GEMMA + VENDORS) * PROMPTS * 10 + PROMPTS * 8
    c1 = [r for (claim, _), r in rows.items() if claim == "c1"]
    assert len(c1) == 1 and c1[0]["verdict"] == "not testable" and c1[0]["role"] == "primary"
    assert "imported texts" in c1[0]["sign"]
    assert rows[("c3", "distinct_per_draw_vs_size")]["verdict"] != "not testable"
    assert rows[("c4", "share_intra_above_0_8")]["verdict"] != "not testable"
    assert (tmp_path / "report" / "report.html").is_file()
