"""The report in a real browser (Debian's headless Chromium driven by Playwright): no console
error, every claim section and plot drawn, no two figures of the same data, no chart text
outside its chart, every card's samples link filters the browser to a non-empty set, paging,
readable at 375 px (chart text >= 10 px), contrast >= 4.5:1 in light and dark mode, no network
request. Set HOMOGENY_SCREENSHOT=path.png to keep screenshots of the page's top at 1280 px
(path.png) and at 375 px (path-375.png), as in docs/."""

from __future__ import annotations

import importlib.util
import os
import re
import shutil
import time
from pathlib import Path
from typing import Any

import pytest

from homogeny.report import build_report

pytestmark = [pytest.mark.browser, pytest.mark.slow]

CHROMIUM = os.environ.get("HOMOGENY_CHROMIUM") or shutil.which("chromium") or "/usr/bin/chromium"
FLAGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-default-apps",
]


def _fixture_module() -> Any:
    """The realistic store builder shared with test_report.py (loaded by path: tests/ is not
    a package)."""
    spec = importlib.util.spec_from_file_location(
        "_report_store", Path(__file__).with_name("test_report.py")
    )
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _open(context: Any, url: str, events: dict[str, list[str]]) -> Any:
    page = context.new_page()
    page.on("console", lambda m: events["console"].append(f"{m.type}: {m.text}"))
    page.on("pageerror", lambda e: events["errors"].append(str(e)))
    page.on("request", lambda r: events["requests"].append(r.url))
    page.on("dialog", lambda d: (events["dialogs"].append(d.message), d.dismiss()))
    page.goto(url, wait_until="load")
    return page


@pytest.fixture(scope="module")
def browser(tmp_path_factory: pytest.TempPathFactory) -> Any:
    if not Path(CHROMIUM).exists():
        pytest.skip(f"no Chromium at {CHROMIUM} (apt-get install chromium)")
    sync_api = pytest.importorskip(
        "playwright.sync_api", reason="the playwright package is not installed"
    )
    tmp = tmp_path_factory.mktemp("browser")
    with sync_api.sync_playwright() as pw:
        context = pw.chromium.launch_persistent_context(
            str(tmp / "profile"),
            executable_path=CHROMIUM,
            headless=True,
            args=FLAGS,
            viewport={"width": 1280, "height": 900},
        )
        yield context, tmp
        context.close()


@pytest.fixture(scope="module")
def page_report(browser: Any) -> Any:
    context, tmp = browser
    fixtures = _fixture_module()
    store = fixtures.build_store(tmp / "s.duckdb", roles=True)  # as a current audit leaves it
    html_path = build_report(store, tmp / "out")
    store.close()
    events: dict[str, list[str]] = {"console": [], "errors": [], "requests": [], "dialogs": []}
    page = _open(context, html_path.as_uri(), events)
    yield page, html_path, events, fixtures, tmp
    page.close()


def _until(page: Any, script: str, timeout: float = 5.0) -> None:
    """Poll a JS condition from Python (the page's CSP forbids the eval that
    wait_for_function uses)."""
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
    for anchor in [f"claim-c{i}" for i in range(1, 8)] + [
        "claim-t",
        "sources",
        "next",
        "browser",
        "metadata",
    ]:
        box = _box(page, f"#{anchor}")
        assert box["width"] > 300 and box["height"] > 50, anchor
    plots = page.locator("svg.plot")
    assert plots.count() == html_path_svgs(page_report) == 16
    for i in range(plots.count()):
        box = _box(page, "svg.plot", i)
        assert box["width"] > 100 and box["height"] > 30
    marks = page.evaluate(
        "Array.from(document.querySelectorAll('svg.plot'))"
        ".map(s => s.querySelectorAll('rect, circle, polyline, polygon').length)"
    )
    assert all(n > 0 for n in marks)  # every plot draws marks, not only axes


def html_path_svgs(page_report: Any) -> int:
    return page_report[1].read_text(encoding="utf-8").count("<svg")


def test_no_two_figures_draw_the_same_data(page_report: Any) -> None:
    page = page_report[0]
    tables = page.evaluate(
        "Array.from(document.querySelectorAll('figure')).map(f => "
        "(f.querySelector('.sr-only tbody') || {}).textContent)"
    )
    assert len(tables) == 16 and all(tables) and len(set(tables)) == len(tables)
    # the values table is there for screen readers, not drawn
    box = page.locator("figure .sr-only").first.bounding_box()
    assert box is not None and box["width"] <= 1 and box["height"] <= 1


SVG_TEXT_BOXES = """() => Array.from(document.querySelectorAll('svg.plot')).flatMap((svg, i) => {
  const s = svg.getBoundingClientRect();
  const scale = s.width / svg.viewBox.baseVal.width;
  return Array.from(svg.querySelectorAll('text')).map(t => {
    const b = t.getBoundingClientRect();
    return {svg: i, text: t.textContent, left: b.left - s.left, right: s.right - b.right,
            top: b.top - s.top, bottom: s.bottom - b.bottom,
            px: parseFloat(t.getAttribute('font-size')) * scale};
  });
})"""


def test_no_chart_text_is_clipped(page_report: Any) -> None:
    page = page_report[0]
    boxes = page.evaluate(SVG_TEXT_BOXES)
    assert len(boxes) > 100
    outside = [b for b in boxes if min(b["left"], b["right"], b["top"], b["bottom"]) < -0.5]
    assert outside == []


def test_every_samples_link_filters_to_a_non_empty_set(page_report: Any) -> None:
    page = page_report[0]
    links = page.locator("a.samples-link")
    assert links.count() >= 8
    for i in range(links.count()):
        link = links.nth(i)
        expected = int(link.get_attribute("data-count"))
        link.click()
        rows = page.locator("#browser-table tbody tr").count()
        assert rows == min(expected, 50) > 0
        assert page.inner_text("#browser-count").startswith(f"{expected} of 9 samples match")
        assert "Showing the samples behind:" in page.inner_text("#f-evidence")
    page.click("#f-evidence-clear")
    assert (
        page.locator("#browser-table tbody tr").count() == 9
        and page.locator("#f-evidence").is_hidden()
    )


def test_sampling_parameters_and_seeds_are_shown_in_full(page_report: Any) -> None:
    page, _, _, fixtures, _ = page_report
    page.fill("#f-search", "Daily Grind")
    params = page.eval_on_selector_all(
        "#browser-table tbody td.params", "tds => tds.map(t => t.textContent)"
    )
    assert len(params) == 2
    for text in params:
        for part in (
            "T 1",
            "top-p 1",
            "min-p 0",
            "top-k 0",
            "max 64 tokens",
            "chat template",
            f"seed {fixtures.BIG_SEED}",
        ):
            assert part in text, (part, text)
    page.fill("#f-search", "")


def test_prompts_are_listed_by_text(page_report: Any) -> None:
    page = page_report[0]
    labels = page.eval_on_selector_all(
        "#f-prompt option", "os => os.slice(1).map(o => o.textContent)"
    )
    assert labels == sorted(labels, key=str.lower) and labels[0].startswith("Describe this")


def _contrast(fg: str, bg: str) -> float:
    def lum(colour: str) -> float:
        r, g, b = (int(v) / 255 for v in re.findall(r"[\d.]+", colour)[:3])
        lin = [c / 12.92 if c <= 0.03928 else ((c + 0.055) / 1.055) ** 2.4 for c in (r, g, b)]
        return 0.2126 * lin[0] + 0.7152 * lin[1] + 0.0722 * lin[2]

    hi, lo = sorted((lum(fg), lum(bg)), reverse=True)
    return (hi + 0.05) / (lo + 0.05)


COLOURS = """sel => Array.from(document.querySelectorAll(sel)).slice(0, 3).map(el => {
  let bg = 'rgba(0, 0, 0, 0)', node = el;
  while (node && (bg === 'rgba(0, 0, 0, 0)' || bg === 'transparent')) {
    bg = getComputedStyle(node).backgroundColor; node = node.parentElement;
  }
  return [getComputedStyle(el).color, bg === 'rgba(0, 0, 0, 0)' ? 'rgb(255, 255, 255)' : bg];
})"""
TEXT_SELECTORS = [
    "body",
    "p.cite",
    ".ev .small",
    "figcaption",
    "nav.toc .meta",
    "nav.toc a",
    ".badge",
    ".label",
    "#browser-count",
    "th",
    ".rule",
    ".scope li",
    "footer",
    ".lede",
    ".statement",
    ".verdict-table td",
    ".verdict-table .unit",
]


def test_chart_text_contrast_is_at_least_4_5(page_report: Any) -> None:
    page = page_report[0]
    fills = page.evaluate(
        "Array.from(document.querySelectorAll('svg.plot text')).map(t => getComputedStyle(t).fill)"
    )
    inked = [f for f in set(fills) if f != "rgb(255, 255, 255)"]  # white is on dark heatmap cells
    assert inked and all(_contrast(f, "rgb(255, 255, 255)") >= 4.5 for f in inked), inked


@pytest.mark.parametrize("scheme", ["light", "dark"])
def test_text_contrast_is_at_least_4_5(page_report: Any, scheme: str) -> None:
    page, _, events, _, _ = page_report
    page.emulate_media(color_scheme=scheme)
    try:
        for sel in TEXT_SELECTORS:
            pairs = page.evaluate(f"({COLOURS})({sel!r})")
            assert pairs, sel
            for fg, bg in pairs:
                assert _contrast(fg, bg) >= 4.5, (scheme, sel, fg, bg)
        if scheme == "dark":
            assert (
                _contrast(
                    "rgb(0, 0, 0)", page.evaluate("getComputedStyle(document.body).backgroundColor")
                )
                < 2
            )
    finally:
        page.emulate_media(color_scheme="light")
    assert events["errors"] == []


def test_narrow_screen_keeps_chart_text_readable(browser: Any, page_report: Any) -> None:
    context, _ = browser
    events: dict[str, list[str]] = {"console": [], "errors": [], "requests": [], "dialogs": []}
    page = _open(context, page_report[1].as_uri(), events)
    try:
        page.set_viewport_size({"width": 375, "height": 800})
        page.reload(wait_until="load")
        boxes = page.evaluate(SVG_TEXT_BOXES)
        assert boxes and min(b["px"] for b in boxes) >= 10
        flag = "document.querySelector('.banner').getBoundingClientRect().top"
        assert page.evaluate(
            f"{flag} < document.querySelector('nav.toc').getBoundingClientRect().top"
        )
        assert page.evaluate("document.documentElement.scrollWidth") <= 376  # only figures scroll
        width = page.evaluate(
            "document.querySelector('#browser-table td.text').getBoundingClientRect().width"
        )
        assert width > 250  # the sample table is not one word per line
        target = os.environ.get("HOMOGENY_SCREENSHOT")
        if target:
            narrow = Path(target).with_name(Path(target).stem + "-375.png")
            page.screenshot(path=str(narrow))
            assert narrow.stat().st_size > 10_000
    finally:
        page.close()
    assert events["errors"] == [] and [c for c in events["console"] if c.startswith("error")] == []


def test_browser_pages_through_every_sample(browser: Any) -> None:
    context, tmp = browser
    fixtures = _fixture_module()
    store = fixtures.build_store(tmp / "many.duckdb")
    store.begin_run("run c3", {})
    store.add_samples(
        [
            fixtures._sample(
                "smollm2-135m", "h2", "p-poem", 100 + i, f"extra verse {i}", store.run_id
            )
            for i in range(111)
        ]
    )
    html = build_report(store, tmp / "many")
    store.close()
    events: dict[str, list[str]] = {"console": [], "errors": [], "requests": [], "dialogs": []}
    page = _open(context, html.as_uri(), events)
    try:
        rows = page.locator("#browser-table tbody tr")
        assert rows.count() == 50 and "120 of 120 samples match; showing 1–50" in page.inner_text(
            "#browser-count"
        )
        page.click("#p-next")
        page.click("#p-next")
        assert rows.count() == 20 and "showing 101–120" in page.inner_text("#browser-count")
        assert (
            page.inner_text("#p-where") == "page 3 of 3" and page.locator("#p-next").is_disabled()
        )
        page.select_option("#f-model", "gemma3-270m")  # a new filter starts at page 1
        assert rows.count() == 4 and page.inner_text("#p-where") == "page 1 of 1"
    finally:
        page.close()
    assert events["errors"] == []


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
    texts = page.eval_on_selector_all(
        "#browser-table tbody td.text", "tds => tds.map(t => t.textContent)"
    )
    assert texts == [fixtures.HOSTILE_OUTPUT, fixtures.HOSTILE_OUTPUT]
    assert page.evaluate("document.scripts.length") == 2 and events["dialogs"] == []
    page.fill("#f-search", "")


def test_table_of_contents_stays_in_view(page_report: Any) -> None:
    """Far down the page (scrolled there at once: the page scrolls smoothly, and a box read
    mid-animation would measure the animation, not the layout) the contents stay at the top,
    and its links, the claim-verdict table's among them, still take you there."""
    page = page_report[0]
    page.evaluate("document.querySelector('#metadata').scrollIntoView({behavior: 'instant'})")
    _until(page, "window.scrollY > 1000")
    box = _box(page, "nav.toc")
    assert 0 <= box["y"] < 60
    page.click("nav.toc a[href='#claim-c3']")
    _until(page, "Math.abs(document.querySelector('#claim-c3').getBoundingClientRect().top) < 40")
    assert 0 <= _box(page, "nav.toc")["y"] < 60
    page.click("nav.toc a[href='#verdicts']")
    _until(page, "Math.abs(document.querySelector('#verdicts').getBoundingClientRect().top) < 40")
    assert 0 <= _box(page, "nav.toc")["y"] < 60


def test_claim_verdict_table_fits_and_scrolls_sideways_on_a_phone(
    browser: Any, page_report: Any
) -> None:
    """At 1280 px the table fits the column; at 375 px it scrolls inside its own box (the
    page itself does not), with each row's claim kept in view."""
    context, _ = browser
    page = page_report[0]
    wrap = "document.querySelector('.verdict-table')"
    assert page.locator(".verdict-table tbody tr").count() == 8
    assert page.evaluate(f"{wrap}.scrollWidth <= {wrap}.clientWidth")
    events: dict[str, list[str]] = {"console": [], "errors": [], "requests": [], "dialogs": []}
    narrow = _open(context, page_report[1].as_uri(), events)
    try:
        narrow.set_viewport_size({"width": 375, "height": 800})
        narrow.reload(wait_until="load")
        assert narrow.evaluate(f"{wrap}.scrollWidth > {wrap}.clientWidth")
        assert narrow.evaluate("document.documentElement.scrollWidth") <= 376
        narrow.evaluate(f"{wrap}.scrollLeft = 400")
        claim = narrow.locator(".verdict-table tbody th").first.bounding_box()
        frame = narrow.locator(".verdict-table").bounding_box()
        assert claim is not None and frame is not None and claim["x"] >= frame["x"] - 1
    finally:
        narrow.close()
    assert events["errors"] == []


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


def test_print_layout_breaks_pages_and_cuts_no_output(page_report: Any) -> None:
    page = page_report[0]
    page.emulate_media(media="print")
    try:
        style = page.evaluate(
            """() => ({
              nav: getComputedStyle(document.querySelector('nav.toc')).display,
              claim: getComputedStyle(document.querySelector('section.claim')).breakBefore,
              figure: getComputedStyle(document.querySelector('figure')).breakInside,
              out: Array.from(document.querySelectorAll('.out, #browser-table td.text')).map(
                e => [getComputedStyle(e).maxHeight, getComputedStyle(e).overflowY]),
            })"""
        )
    finally:
        page.emulate_media(media="screen")
    assert style["nav"] == "none" and style["claim"] == "page" and style["figure"] == "avoid"
    assert style["out"] and all(h == "none" and o == "visible" for h, o in style["out"])
    pdf = page.pdf(format="A4")
    assert pdf.startswith(b"%PDF") and len(pdf) > 20_000
