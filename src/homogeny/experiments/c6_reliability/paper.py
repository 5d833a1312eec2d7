"""The paper's own tables: recompute Schroeder & Wood-Doughty's omega and alpha from their
released judgments (../shared/data/llm-reliability) and compare with what they printed."""

from __future__ import annotations

import json
import zipfile
from pathlib import Path
from typing import Any

PAPER_TOLERANCE = 1e-4  # the tables print 16 digits; agreement to 4 decimals is a reproduction
DEFAULT_DATA = Path(__file__).resolve().parents[5] / "shared" / "data" / "llm-reliability"


def paper_data_dir(given: str = "") -> Path | None:
    """The folder holding the paper's released judgments (full_judgments.zip and its
    judge_reliab_* tables): `given` (option reliability_data), else
    ../shared/data/llm-reliability beside a source checkout. None when absent."""
    folder = Path(given) if given else DEFAULT_DATA
    return folder if (folder / "full_judgments.zip").exists() else None


def paper_table(path: Path) -> dict[str, float]:
    """One judge_reliab_* table: temperature -> the paper's value for all benchmarks ("Full")."""
    lines = path.read_text(encoding="utf-8").splitlines()[2:]
    return {
        line.split(",")[0].split(":")[1].strip(): float(line.split(",")[4])
        for line in lines
        if line.strip()
    }


def _tables(folder: Path, judge: str) -> dict[str, dict[str, float]]:
    stem = judge.replace("/", "_")
    paths = {s: folder / f"judge_reliab_{stem}_{s}.txt" for s in ("omega", "alpha")}
    return {s: paper_table(p) for s, p in paths.items() if p.exists()}


def paper_check(folder: Path, max_judges: int | None = None) -> list[dict[str, Any]]:
    """Recompute the paper's omega and alpha ("Full" column) from its released judgments with
    homogeny's judge_reliability; one row per judge, temperature and statistic."""
    from homogeny.metrics import judge_reliability
    from homogeny.metrics.reliability import parse_verdict

    rows = []
    with zipfile.ZipFile(folder / "full_judgments.zip") as zf:
        names = sorted(
            n for n in zf.namelist() if n.startswith("full_judgements_") and n.endswith(".json")
        )
        for name in names[:max_judges]:
            for judge, by_temp in json.loads(zf.read(name)).items():
                tables = _tables(folder, judge)
                for temp_key, questions in by_temp.items():
                    temp = temp_key.split(":")[1].strip()
                    coded = {q: [parse_verdict(v) for v in vs] for q, vs in questions.items()}
                    rel = judge_reliability(coded)
                    for stat, table in tables.items():
                        if temp in table:
                            ours = rel.omega if stat == "omega" else rel.alpha
                            rows.append({
                                "judge": judge, "temperature": float(temp), "statistic": stat,
                                "paper": table[temp], "homogeny": float(ours),
                            })  # fmt: skip
    return rows
