"""Reproduce Schroeder & Wood-Doughty 2024's reliability tables from their released judgments.

Data: ../shared/data/llm-reliability (see PROVENANCE.md there): every judge output in
full_judgments.zip, and the paper's alpha and omega tables (computed with reliabilipy) in
judge_reliab_*_{alpha,omega}.txt. homogeny reproduces every cell: alpha to 1e-12, omega to
1e-6 (omega comes from an L-BFGS-B fit whose last digits depend on the scipy version).
"""

from __future__ import annotations

import json
import zipfile
from functools import cache
from pathlib import Path

import pytest

from homogeny.metrics.reliability import judge_reliability, parse_verdict

DATA = Path(__file__).resolve().parents[2] / "shared" / "data" / "llm-reliability"
BENCHMARKS = {"BBH": "bbh", "SQuAD": "squad", "MTBench": "mtb", "Full": ""}


def _require_data() -> None:
    if not (DATA / "full_judgments.zip").exists():
        pytest.skip(f"reliability paper data not found at {DATA}")


@cache
def _judgments() -> dict[tuple[str, str], dict[str, list[float]]]:
    """(judge, temperature) -> question -> coded verdict of each of the 100 replications."""
    out = {}
    with zipfile.ZipFile(DATA / "full_judgments.zip") as zf:
        for name in zf.namelist():
            if name.startswith("__MACOSX") or not name.endswith(".json"):
                continue
            data = json.loads(zf.read(name))
            ((judge, by_temperature),) = data.items()
            for temperature, questions in by_temperature.items():
                coded = {q: [parse_verdict(j) for j in js] for q, js in questions.items()}
                out[(judge.replace("/", "_"), temperature)] = coded
    return out


def _paper_table() -> list[tuple[str, str, str, str, float]]:
    """(judge, statistic, temperature, benchmark, value) for every cell of the paper's tables."""
    rows = []
    for path in sorted(DATA.glob("judge_reliab_*_*.txt")):
        statistic = "alpha" if path.stem.endswith("_alpha") else "omega"
        lines = path.read_text().strip().splitlines()
        judge = lines[0].split(" ")[0]
        header = lines[1].split(",")[1:]
        for line in lines[2:]:
            temperature, *values = line.rsplit(",", len(header))
            rows.extend(
                (judge, statistic, temperature, b, float(v)) for b, v in zip(header, values)
            )
    return rows


@cache
def _ours(judge: str, temperature: str, benchmark: str) -> tuple[float, float]:
    prefix = BENCHMARKS[benchmark]
    verdicts = {q: v for q, v in _judgments()[(judge, temperature)].items() if q.startswith(prefix)}
    res = judge_reliability(verdicts)
    return res.alpha, res.omega


def _check(rows: list[tuple[str, str, str, str, float]]) -> None:
    for judge, statistic, temperature, benchmark, paper in rows:
        alpha, omega = _ours(judge, temperature, benchmark)
        ours = alpha if statistic == "alpha" else omega
        tolerance = 1e-12 if statistic == "alpha" else 1e-6
        assert ours == pytest.approx(paper, abs=tolerance), (
            judge,
            statistic,
            temperature,
            benchmark,
        )


def test_reproduces_one_judge_at_one_temperature() -> None:
    _require_data()
    rows = [
        r for r in _paper_table() if r[0].startswith("google_gemma") and r[2] == "temperature: 0.25"
    ]
    assert len(rows) == 8
    _check(rows)


@pytest.mark.slow
def test_reproduces_every_cell_of_the_papers_tables() -> None:
    _require_data()
    rows = _paper_table()
    assert len(rows) == 3 * 2 * 5 * 4
    _check(rows)


def test_temperature_zero_is_perfectly_consistent() -> None:
    """At machine-epsilon temperature every answered question has one verdict: reliability 1
    by the paper's rule, although (C6) that is one draw repeated, not a reliable judgment."""
    _require_data()
    coded = _judgments()[("Nexusflow_Starling-LM-7B-beta", "temperature: 2.220446049250313e-16")]
    res = judge_reliability(coded)
    assert (res.alpha, res.omega, res.n_items) == (1.0, 1.0, 0)
    assert res.n_constant + res.n_dropped == len(coded) == 55
