"""The report of `homogeny audit --generations` over NoveltyBench's released generations, with no
local model, in a real browser (issue 15): the page renders without errors, the answer names
the frontier models it speaks for (Llama 3.1 405B, Gemma 2 27B, GPT-4o, Claude) and shows the
human floor (people's answers to the same prompts, with the value C4 measured), and C3 and C4
draw their charts. A subset keeps embedding cheap: the Llama 3 and Gemma 2 ladders, GPT-4o,
Claude 3.5 Haiku and the humans, on the first 10 prompts the humans answered.

Skipped when ../shared/data/noveltybench, Chromium or playwright is absent. With
HOMOGENY_SCREENSHOT=docs/report.png (as for tests/test_report_browser.py) the answer's
screenshot is kept beside it as docs/report-imported.png."""

from __future__ import annotations

import importlib.util
import json
import os
import re
from pathlib import Path
from typing import Any

import pytest

NB = Path(__file__).resolve().parents[1].parent / "shared" / "data" / "noveltybench"
pytestmark = [
    pytest.mark.browser,
    pytest.mark.slow,
    pytest.mark.skipif(not (NB / "generations").is_dir(), reason=f"{NB} is absent"),
]
LADDERS = [
    "meta-llama/Llama-3.2-1B-Instruct",
    "meta-llama/Llama-3.2-3B-Instruct",
    "meta-llama/Llama-3.1-8B-Instruct",
    "meta-llama/Llama-3.3-70B-Instruct",
    "meta-llama/Llama-3.1-405B-Instruct",
    "google/gemma-2-2b-it",
    "google/gemma-2-9b-it",
    "google/gemma-2-27b-it",
]
VENDORS = ["openai/gpt-4o-2024-11-20", "anthropic/claude-3-5-haiku@20241022"]
PROMPTS = 10


def _browser_module() -> Any:
    """tests/test_report_browser.py, loaded by path (tests/ is not a package): its Chromium
    fixture and page helpers are reused here."""
    spec = importlib.util.spec_from_file_location(
        "_report_browser", Path(__file__).with_name("test_report_browser.py")
    )
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


_BROWSER = _browser_module()
browser = _BROWSER.browser  # the module-scoped headless Chromium context


def _rows(path: Path) -> list[dict[str, Any]]:
    return [json.loads(line) for line in path.read_text().splitlines() if line.strip()]


@pytest.fixture(scope="module")
def audited(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    """The subset written as one NoveltyBench file, audited (c3, c4) through the CLI with
    only its imported models named: no local model runs."""
    from conftest import run_cli

    tmp = tmp_path_factory.mktemp("nb-report")
    humans = _rows(NB / "sample_data" / "humans.jsonl")[:PROMPTS]
    ids = {r["id"] for r in humans}
    rows = [
        r
        for m in LADDERS + VENDORS
        for r in _rows(NB / "generations" / m / "scores.jsonl")
        if r["id"] in ids
    ]
    subset = tmp / "subset.jsonl"
    subset.write_text("".join(json.dumps(r) + "\n" for r in rows + humans))
    specs = ",".join(sorted({f"imported:{r['model']}" for r in rows + humans}))
    store, out = tmp / "nb.duckdb", tmp / "report"
    res = run_cli("audit", "--generations", str(subset), "--models", specs, "--claims", "c3,c4",
                  "--store", str(store), "--out", str(out), timeout=1800)  # fmt: skip
    assert res.returncode == 0, res.stdout[-2000:] + res.stderr[-3000:]
    return {"html": out / "report.html", "store": store, "specs": specs.split(",")}


@pytest.fixture(scope="module")
def page(browser: Any, audited: dict[str, Any]) -> Any:
    context, _ = browser
    events: dict[str, list[str]] = {"console": [], "errors": [], "requests": [], "dialogs": []}
    opened = _BROWSER._open(context, audited["html"].as_uri(), events)
    yield opened, events
    opened.close()


def _text(page: Any, selector: str) -> str:
    return re.sub(r"\s+", " ", page.inner_text(selector))


def test_the_page_renders_without_errors_or_network(page: Any, audited: dict[str, Any]) -> None:
    opened, events = page
    assert events["errors"] == [] and events["dialogs"] == []
    assert [c for c in events["console"] if c.startswith(("error", "warning"))] == []
    assert events["requests"] == [audited["html"].as_uri()]
    for anchor in ("answer", "scope", "claim-c3", "claim-c4"):
        box = _BROWSER._box(opened, f"#{anchor}")
        assert box["width"] > 300 and box["height"] > 50, anchor
    for claim in ("c3", "c4"):
        marks = opened.evaluate(
            f"Array.from(document.querySelectorAll('#claim-{claim} svg.plot'))"
            ".map(s => s.querySelectorAll('rect, circle, polyline, polygon').length)"
        )
        assert marks and all(n > 0 for n in marks), claim


def test_the_answer_names_the_frontier_models_and_no_local_one(page: Any) -> None:
    opened, _ = page
    answer = _text(opened, "#answer")
    measured = answer[answer.index("Measured on") : answer.index(" claims were tested")]
    assert "Measured on 10 stored models" in measured  # the humans are not counted as a model
    for name in ("llama-3.1-405b-instruct", "gemma-2-27b-it", "gpt-4o-2024-11-20",
                 "claude-3-5-haiku", "Llama-3.3-70B-Instruct"):  # fmt: skip
        assert name.lower() in measured.lower(), name
    assert "zoo:" not in answer and "embedded (shipped" not in _text(opened, "#scope")
    assert "C3 (sampling)" in answer and "C4 (across models)" in answer


def test_the_human_floor_is_shown_with_c4s_values(page: Any, audited: dict[str, Any]) -> None:
    from homogeny.report.plots import fmt
    from homogeny.store import Store

    with Store.open(str(audited["store"]), read_only=True) as st:
        row = next(
            r for r in st.evidence("c4") if r["metric"] == "model_minus_human_intra_similarity"
        )
    models, people = json.loads(row["plot_json"])["values"]
    assert models > people  # resamples of one model are more alike than strangers' answers
    opened, _ = page
    answer = _text(opened, "#answer")
    assert "against a human floor (people's answers to the same prompts, imported:human" in answer
    assert f"cosine alike, different people's {fmt(people)})" in answer
    assert f"a model's answers to a prompt are {fmt(models)}" in answer
    assert "human floor (people's answers, not a model): imported:human" in _text(opened, "#scope")
    bars = opened.eval_on_selector_all(
        "#claim-c4 svg.plot text", "ts => ts.map(t => t.textContent)"
    )
    assert "humans (reference)" in bars and "human (reference)" in bars  # reference bars drawn


def test_screenshot_of_the_answer(page: Any, browser: Any) -> None:
    opened, _ = page
    _, tmp = browser
    opened.set_viewport_size({"width": 1280, "height": 1100})
    opened.evaluate("document.querySelector('#answer').scrollIntoView()")
    _BROWSER._until(opened, "document.querySelector('#answer').getBoundingClientRect().top < 40")
    shot = tmp / "report-imported.png"
    opened.screenshot(path=str(shot))
    assert shot.stat().st_size > 20_000
    target = os.environ.get("HOMOGENY_SCREENSHOT")
    if target:
        kept = Path(target).with_name("report-imported.png")
        kept.parent.mkdir(parents=True, exist_ok=True)
        kept.write_bytes(shot.read_bytes())
