"""The report in a real browser (Debian's headless Chromium driven by Playwright): no console
error, every claim section and plot drawn, the sample browser filters, no network request.
Set HOMOGENY_SCREENSHOT=path.png to keep a screenshot of the page's top (docs/report.png)."""

from __future__ import annotations

import importlib.util
import os
import shutil
import time
from pathlib import Path
from typing import Any

import pytest

from homogeny.report import build_report

pytestmark = [pytest.mark.browser, pytest.mark.slow]

CHROMIUM = os.environ.get("HOMOGENY_CHROMIUM") or shutil.which("chromium") or "/usr/bin/chromium"
FLAGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking",
         "--disable-component-update", "--disable-sync", "--disable-default-apps"]


def _fixture_module() -> Any:
    """The realistic store builder shared with test_report.py (loaded by path: tests/ is not a package)."""
    spec = importlib.util.spec_from_file_location("_report_store", Path(__file__).with_name("test_report.py"))
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="module")
def page_report(tmp_path_factory: pytest.TempPathFactory) -> Any:
    if not Path(CHROMIUM).exists():
        pytest.skip(f"no Chromium at {CHROMIUM} (apt-get install chromium)")
    sync_api = pytest.importorskip("playwright.sync_api", reason="the playwright package is not installed")
    fixtures = _fixture_module()
    tmp = tmp_path_factory.mktemp("browser")
    store = fixtures.build_store(tmp / "s.duckdb")
    html_path = build_report(store, tmp / "out")
    store.close()
    events: dict[str, list[str]] = {"console": [], "errors": [], "requests": [], "dialogs": []}
    with sync_api.sync_playwright() as pw:
        context = pw.chromium.launch_persistent_context(
            str(tmp / "profile"), executable_path=CHROMIUM, headless=True, args=FLAGS,
            viewport={"width": 1280, "height": 900},
        )
        page = context.new_page()
        page.on("console", lambda m: events["console"].append(f"{m.type}: {m.text}"))
        page.on("pageerror", lambda e: events["errors"].append(str(e)))
        page.on("request", lambda r: events["requests"].append(r.url))
        page.on("dialog", lambda d: (events["dialogs"].append(d.message), d.dismiss()))
        page.goto(html_path.as_uri(), wait_until="load")
        yield page, html_path, events, fixtures, tmp
        context.close()


def _until(page: Any, script: str, timeout: float = 5.0) -> None:
    """Poll a JS condition from Python (the page's CSP forbids the eval that wait_for_function uses)."""
    deadline = time.monotonic() + timeout
    while not page.evaluate(script):
        assert time.monotonic() < deadline, f"timed out waiting for {script}"
        time.sleep(0.05)


def _box(page: Any, selector: str, index: int = 0) -> dict[str, float]:
    box = page.locator(selector).nth(index).bounding_box()
    assert box is not None, f"{selector}[{index}] is not rendered"
    return box


def test_page_loads_without_console_errors_or_network(page_report: Any) -> None:
    page, html_path, events, _, _ = page_report
    assert events["errors"] == []
    assert [c for c in events["console"] if c.startswith(("error", "warning"))] == []
    assert events["requests"] == [html_path.as_uri()]  # the file itself and nothing else
    assert events["dialogs"] == []  # no injected alert() ran
    assert page.evaluate("document.querySelectorAll('img, iframe, object, embed').length") == 0
    assert page.evaluate("document.scripts.length") == 2


def test_every_claim_section_and_plot_is_rendered(page_report: Any) -> None:
    page = page_report[0]
    for anchor in [f"claim-c{i}" for i in range(1, 8)] + ["claim-t", "sources", "next", "browser", "metadata"]:
        box = _box(page, f"#{anchor}")
        assert box["width"] > 300 and box["height"] > 50, anchor
    plots = page.locator("svg.plot")
    assert plots.count() == 14
    for i in range(plots.count()):
        box = _box(page, "svg.plot", i)
        assert box["width"] > 100 and box["height"] > 30
    marks = page.evaluate("Array.from(document.querySelectorAll('svg.plot')).map(s => s.querySelectorAll('rect, circle, polyline').length)")
    assert all(n > 0 for n in marks)  # every plot draws marks, not only axes


def test_sample_browser_filters_by_search_model_and_claim(page_report: Any) -> None:
    page, _, events, fixtures, _ = page_report
    rows = page.locator("#browser-table tbody tr")
    assert rows.count() == 9
    page.fill("#f-search", "gulls")
    assert rows.count() == 2 and "2 of 9" in page.inner_text("#browser-count")
    page.fill("#f-search", "")
    page.select_option("#f-model", "gemma3-270m")
    assert rows.count() == 4
    page.select_option("#f-claim", "c4")
    assert rows.count() == 4
    page.select_option("#f-model", "")
    page.select_option("#f-claim", "—")
    assert rows.count() == 1
    page.select_option("#f-claim", "")
    page.fill("#f-search", "onerror")  # matches the hostile prompt, shown as text
    texts = page.eval_on_selector_all("#browser-table tbody td.text", "tds => tds.map(t => t.textContent)")
    assert texts == [fixtures.HOSTILE_OUTPUT, fixtures.HOSTILE_OUTPUT]
    assert page.evaluate("document.scripts.length") == 2 and events["dialogs"] == []
    page.fill("#f-search", "")


def test_table_of_contents_stays_in_view(page_report: Any) -> None:
    page = page_report[0]
    page.evaluate("document.querySelector('#metadata').scrollIntoView()")
    box = _box(page, "nav.toc")
    assert 0 <= box["y"] < 60
    page.click("nav.toc a[href='#claim-c3']")
    _until(page, "Math.abs(document.querySelector('#claim-c3').getBoundingClientRect().top) < 40")


def test_screenshot(page_report: Any) -> None:
    page, _, _, _, tmp = page_report
    page.evaluate("window.scrollTo(0, 0)")
    _until(page, "window.scrollY === 0")
    full = tmp / "report-full.png"
    page.screenshot(path=str(full), full_page=True)
    assert full.stat().st_size > 20_000
    target = os.environ.get("HOMOGENY_SCREENSHOT")
    if target:
        Path(target).parent.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=target)
        assert Path(target).stat().st_size > 10_000
