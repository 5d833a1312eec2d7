"""`homogeny audit`: claim selection, resume by settings, a failing claim recorded while the
audit goes on, user errors and interrupts stopping it, and the whole audit on smollm2."""

from __future__ import annotations

import io
import json
from pathlib import Path

import pytest
from rich.console import Console

from homogeny.audit import chosen_claims, completed, run_audit, run_stages
from homogeny.errors import HomogenyError, ParameterError
from homogeny.experiments.base import ExperimentContext, make_evidence
from homogeny.experiments.registry import EXPERIMENTS
from homogeny.store import Store


class OneRow:
    """A real, tiny experiment: one evidence row, no model."""

    claim, title, question = "c2", "one row", "does the audit store a finished claim?"

    def run(self, ctx: ExperimentContext) -> list:
        return [
            make_evidence(
                "c2", self.question, "m", "positive = yes", 1.0, (0.5, 1.5), 5, quick=ctx.quick
            )
        ]


class Broken:
    claim, title, question = "c1", "broken", "?"

    def run(self, ctx: ExperimentContext) -> list:
        raise RuntimeError("boom in the experiment")


class UserMistake:
    claim, title, question = "c1", "user error", "?"

    def run(self, ctx: ExperimentContext) -> list:
        raise ParameterError("--pairs file is missing")


class Interrupted:
    claim, title, question = "c1", "ctrl-c", "?"

    def run(self, ctx: ExperimentContext) -> list:
        raise KeyboardInterrupt


def _ctx(store: Store, **kw) -> ExperimentContext:
    return ExperimentContext(
        store=store,
        models=["zoo:smollm2-135m"],
        quick=True,
        progress=False,
        log=lambda m: None,
        **kw,
    )


def _quiet() -> Console:
    return Console(file=io.StringIO())


def test_default_claims_run_in_order_with_the_thesis_last() -> None:
    assert chosen_claims(None) == ["c1", "c2", "c3", "c4", "c5", "c6", "c7", "T"]
    assert chosen_claims(["C4", "c1", "t"]) == ["c1", "c4", "T"]
    assert chosen_claims(["T"]) == ["T"]


def test_an_unknown_claim_is_one_clear_error() -> None:
    with pytest.raises(HomogenyError, match="unknown claim 'c9'"):
        chosen_claims(["c1", "c9"])


def test_a_failing_claim_is_recorded_and_the_others_still_run(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setitem(EXPERIMENTS, "c1", f"{__name__}:Broken")
    monkeypatch.setitem(EXPERIMENTS, "c2", f"{__name__}:OneRow")
    with Store.open(tmp_path / "s.duckdb") as store:
        errors = run_stages(store, _ctx(store), ["c1", "c2"], console=_quiet())
        assert [e["claim"] for e in errors] == ["c1"]
        assert "RuntimeError: boom in the experiment" in errors[0]["error"]
        assert store.artifact("audit", "errors")[0]["claim"] == "c1"
        assert [r["metric"] for r in store.evidence("c2")] == ["m"]
        statuses = {
            r["command"]: r["status"] for r in store.query("SELECT command, status FROM runs")
        }
        assert statuses == {"audit c1": "interrupted", "audit c2": "done"}


def test_a_finished_claim_is_skipped_on_rerun_unless_settings_change(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setitem(EXPERIMENTS, "c2", f"{__name__}:OneRow")
    with Store.open(tmp_path / "s.duckdb") as store:
        ctx = _ctx(store)
        assert not completed(store, "c2", ctx)
        run_stages(store, ctx, ["c2"], console=_quiet())
        assert completed(store, "c2", ctx)
        run_stages(store, ctx, ["c2"], console=_quiet())
        assert store.count("runs") == 1  # skipped: nothing ran again
        other_seed = _ctx(store, seed=1)
        assert not completed(store, "c2", other_seed)
        run_stages(store, ctx, ["c2"], force=True, console=_quiet())
        assert store.count("runs") == 2


def test_user_errors_and_interrupts_stop_the_audit(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setitem(EXPERIMENTS, "c2", f"{__name__}:OneRow")
    with Store.open(tmp_path / "s.duckdb") as store:
        monkeypatch.setitem(EXPERIMENTS, "c1", f"{__name__}:UserMistake")
        with pytest.raises(ParameterError):
            run_stages(store, _ctx(store), ["c1", "c2"], console=_quiet())
        monkeypatch.setitem(EXPERIMENTS, "c1", f"{__name__}:Interrupted")
        with pytest.raises(KeyboardInterrupt):
            run_stages(store, _ctx(store), ["c1", "c2"], console=_quiet())
        assert store.evidence("c2") == []  # nothing after the stop ran
        assert {r["status"] for r in store.query("SELECT status FROM runs")} == {"interrupted"}


def test_a_bad_model_fails_before_any_work(tmp_path: Path) -> None:
    with pytest.raises(HomogenyError, match="no-such-model"):
        run_audit(["zoo:no-such-model"], str(tmp_path / "s.duckdb"), tmp_path / "out", quick=True)
    assert not (tmp_path / "s.duckdb").exists()


@pytest.mark.slow
def test_quick_audit_on_smollm_writes_the_report_and_resumes(smollm: str, tmp_path: Path) -> None:
    pytest.importorskip("homogeny.report.build")
    store_path, out = str(tmp_path / "s.duckdb"), tmp_path / "report"
    html = run_audit([smollm], store_path, out, claims=["c4"], quick=True)
    assert html == out / "report.html" and html.exists()
    evidence = json.loads((out / "evidence.json").read_text())
    claims = {row["claim"] for row in evidence["evidence"]}
    assert {"c4", "T"} <= claims
    assert evidence["stage_decomposition"]["stages"][0] == "all-off level"
    assert evidence["counter_pressures"]
    with Store.open(store_path, read_only=True) as store:
        samples, runs = store.count("samples"), store.count("runs")
    run_audit([smollm], store_path, out, claims=["c4"], quick=True)  # a rerun: both stages skipped
    with Store.open(store_path, read_only=True) as store:
        assert store.count("samples") == samples
        assert store.count("runs") == runs
        assert store.artifact("audit", "errors") == []
