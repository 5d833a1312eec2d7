"""The report: built from a real store, every claim shown with its numbers, model and prompt
text escaped, no network reference, evidence.json complete, prose that follows the verdicts."""

from __future__ import annotations

import json
import re
from html.parser import HTMLParser
from pathlib import Path
from typing import Any, Literal

import pytest

from homogeny.experiments.base import make_evidence
from homogeny.report import build, build_report, narrative, plots
from homogeny.store import SampleRow, Store

HOSTILE_PROMPT = "Describe this: <img src=x onerror=alert(1)> please"
HOSTILE_OUTPUT = "Sure.</script><script>alert(1)</script> done"
MODELS = {"smollm2-135m": "a" * 64, "gemma3-270m": "b" * 64}
SECTION_IDS = [f"claim-c{i}" for i in range(1, 8)] + ["claim-t"]


def _sample(model: str, prompt_hash: str, prompt_id: str, i: int, text: str, run_id: str) -> SampleRow:
    return SampleRow(
        key=f"{model}-{prompt_hash}-{i}", model_id=model, model_sha256=MODELS[model],
        prompt_hash=prompt_hash, prompt_id=prompt_id, sample_index=i, seed=1000 + i,
        temperature=1.0, top_p=1.0, min_p=0.0, top_k=0, max_tokens=64, chat=True,
        params_json=json.dumps({"temperature": 1.0}), text=text, n_tokens=len(text.split()),
        gen_seconds=0.25, run_id=run_id,
    )


def build_store(path: Path, c1_direction: Literal["above", "below"] = "above") -> Store:
    """A store like an audit leaves: two models, samples from a `run c4` and an `audit` run,
    evidence for c1..c7 and T, plot artifacts of every shape, hostile text in a prompt and
    an output. `c1_direction` flips C1's verdict (same interval, opposite prediction)."""
    store = Store.open(path)
    for model, sha in MODELS.items():
        params = 135_000_000 if "135" in model else 270_000_000
        store.upsert_model(sha, model, f"zoo:{model}", "llamacpp", {"kind": "instruct", "params": params, "family": model.split("-")[0]})
    for pid, ph, text in [("p-hostile", "h1", HOSTILE_PROMPT), ("p-poem", "h2", "Write a two-line poem about the sea."),
                          ("p-name", "h3", "Suggest a name for a coffee shop.")]:
        store.upsert_prompt(ph, pid, text, json.dumps([{"role": "user", "content": text}]))

    store.begin_run("run c4", {"models": list(MODELS), "seed": 7, "quick": True})
    rows = []
    for model in MODELS:
        rows.append(_sample(model, "h1", "p-hostile", 0, HOSTILE_OUTPUT, store.run_id))
        rows.append(_sample(model, "h2", "p-poem", 0, f"The sea is wide and blue ({model}).", store.run_id))
        rows.append(_sample(model, "h2", "p-poem", 1, "Waves roll in, waves roll out; the gulls call.", store.run_id))
        rows.append(_sample(model, "h3", "p-name", 0, "The Daily Grind", store.run_id))
    store.add_samples(rows)
    store.add_evidence([e.as_row() for e in (
        make_evidence("c4", "Do different models give more similar outputs than chance?", "cross-model similarity gap",
                      "positive = outputs of different models are closer than shuffled pairs", 0.234, (0.118, 0.352), 40,
                      plot={"labels": ["within", "across"], "matrix": [[1.0, 0.61], [0.61, 1.0]]}, models=list(MODELS)),
        make_evidence("c4", "Does per-user framing hide the sameness?", "framing masking index",
                      "positive = framing hides sameness", 0.04, (-0.02, 0.1), 40, models=list(MODELS)),
    )])
    store.put_artifact("c4", "similarity_by_temperature", {"x": [0.2, 0.7, 1.0, 1.5], "xlabel": "temperature", "series": {
        "smollm2-135m": [0.9, 0.8, 0.7, 0.5], "gemma3-270m": [0.85, 0.74, None, 0.45]}})
    store.finish_run()

    store.begin_run("audit", {"claims": "c1,c2,c3,c5,c6,c7,T", "seed": 7})
    store.add_samples([_sample("smollm2-135m", "h2", "p-poem", 5, "Salt wind over grey water.", store.run_id)])
    store.add_evidence([e.as_row() for e in (
        make_evidence("c1", "Are paraphrases flattened toward their high-frequency form?", "flattening gap",
                      "positive = rare phrasings are pulled toward common ones", 0.31, (0.12, 0.5), 24,
                      predicted=c1_direction, models=list(MODELS)),
        make_evidence("c2", "Does RL collapse format diversity in the first epoch?", "format entropy drop",
                      "positive = entropy falls after RL", 0.62, (0.41, 0.8), 6,
                      plot={"x": [0, 1, 2, 3], "series": {"format A": [0.3, 0.7, 0.9, 0.95], "format B": [0.4, 0.2, 0.05, 0.02]}}),
        make_evidence("c3", "Do bigger models give fewer distinct samples per draw?", "distinct@k difference (small - big)",
                      "positive = the smaller model gives more distinct samples", -0.08, (-0.2, 0.05), 30),
        make_evidence("c5", "Do matching outputs hide different internals?", "1 - linear CKA",
                      "positive = internal representations differ", 0.47, (0.3, 0.6), 12),
        make_evidence("c6", "Is temperature-0 consistency the same as reliability?", "omega gap",
                      "positive = consistency exceeds reliability", 0.51, (0.33, 0.7), 100),
        make_evidence("c7", "Does anchor-free self-training collapse diversity?", "distinct-2 loss",
                      "positive = diversity lost without an anchor", -0.3, (-0.45, -0.12), 8),
        make_evidence("T", "Is convergence the default, and does counter-pressure remove part of it?",
                      "share of convergence removed", "positive = counter-pressure removes convergence", 0.28, (0.1, 0.44), 50),
    )])
    store.put_artifact("c3", "distinct_by_size", {"labels": ["135M", "270M", "494M"], "values": [7.2, 6.8, 6.1],
                                                   "low": [6.5, 6.0, 5.2], "high": [7.9, 7.5, 6.9]})
    store.put_artifact("c5", "mystery", {"unknown_shape": True, "weights": "not a plot"})
    store.put_artifact("T", "stage_decomposition", {"stages": ["input", "pretraining", "post-training", "sampling"],
                                                    "shapley": [0.05, 0.21, 0.04, 0.08], "low": [0.01, 0.15, -0.01, 0.03],
                                                    "high": [0.09, 0.27, 0.09, 0.13], "total": 0.38})
    store.put_artifact("T", "counter_pressures", [
        {"name": "temperature 1.5", "diversity_gain": 0.3, "gain_low": 0.2, "gain_high": 0.4, "quality_cost": 0.2, "cost_low": 0.1, "cost_high": 0.3},
        {"name": "min-p 0.1", "diversity_gain": 0.15, "gain_low": 0.05, "gain_high": 0.25, "quality_cost": 0.03, "cost_low": 0.0, "cost_high": 0.06},
        {"name": "novelty rerank", "diversity_gain": 0.42, "gain_low": 0.3, "gain_high": 0.55, "quality_cost": 0.05, "cost_low": 0.01, "cost_high": 0.09},
    ])
    store.put_artifact("c1", "examples", [{"prompt": HOSTILE_PROMPT, "outputs": {
        "smollm2-135m": ["<b>bold</b> claim", "second"], "gemma3-270m": ["plain answer"]}}])
    store.finish_run()
    return store


class _Tags(HTMLParser):
    """Collects the start tags and the text of each element id, as a browser tokenises them."""

    def __init__(self) -> None:
        super().__init__()
        self.tags: list[tuple[str, dict[str, str | None]]] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append((tag, dict(attrs)))


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> tuple[Store, Path, str]:
    tmp = tmp_path_factory.mktemp("report")
    store = build_store(tmp / "s.duckdb")
    path = build_report(store, tmp / "out")
    return store, path, path.read_text(encoding="utf-8")


def _section(html: str, anchor: str) -> str:
    start = html.index(f'<section id="{anchor}"')
    return html[start:html.index("</section>", start)]


def test_every_claim_section_is_present_with_its_verdict(built: tuple[Store, Path, str]) -> None:
    _, path, html = built
    assert path.name == "report.html" and (path.parent / "evidence.json").exists()
    for anchor in SECTION_IDS:
        assert f'id="{anchor}"' in html
        assert f'href="#{anchor}"' in html  # reachable from the table of contents
    assert 'badge contradicted">contradicted' in _section(html, "claim-c7")
    assert 'badge inconclusive">inconclusive' in _section(html, "claim-c3")
    assert 'badge supported">supported' in _section(html, "claim-c4")
    assert "What makes output convergence across models inevitable given input-side homogenization?" in html


def test_evidence_numbers_appear_with_their_intervals(built: tuple[Store, Path, str]) -> None:
    html = built[2]
    c4 = _section(html, "claim-c4")
    assert ">0.234<" in c4 and "95% CI [0.118, 0.352]" in c4 and "n = 40" in c4
    assert "positive = outputs of different models are closer than shuffled pairs" in c4
    assert "supported if the 95% CI lies entirely &gt; 0" in c4
    assert "95% CI [−0.2, 0.05]" in _section(html, "claim-c3")  # a true minus sign
    assert "flattening gap = 0.31, 95% CI 0.12 to 0.5, n = 24" in html  # in the answer's prose


def test_model_and_prompt_text_show_as_text(built: tuple[Store, Path, str]) -> None:
    html = built[2]
    assert "<img" not in html
    assert "&lt;img src=x onerror=alert(1)&gt;" in html
    assert "<script>alert" not in html and "</script><script>" not in html
    assert "&lt;b&gt;bold&lt;/b&gt;" in html
    parser = _Tags()
    parser.feed(html)
    tags = [t for t, _ in parser.tags]
    assert "img" not in tags
    assert tags.count("script") == 2  # the data blob and the browser code, nothing injected
    assert not any(k.startswith("on") for _, attrs in parser.tags for k in attrs)


def test_embedded_samples_round_trip_exactly(built: tuple[Store, Path, str]) -> None:
    html = built[2]
    blob = re.search(r'<script type="application/json" id="sample-data">(.*?)</script>', html, re.DOTALL)
    assert blob is not None and "<" not in blob.group(1)
    data = json.loads(blob.group(1))
    assert data["total"] == 9 and data["shown"] == 9
    texts = [row[3] for row in data["samples"]]
    assert texts.count(HOSTILE_OUTPUT) == 2
    assert [HOSTILE_PROMPT] == [p[1] for p in data["prompts"].values() if p[0] == "p-hostile"]
    claims = {row[3]: row[2] for row in data["samples"]}
    assert claims["The Daily Grind"] == "c4" and claims["Salt wind over grey water."] == "—"


def test_page_references_no_network_resource(built: tuple[Store, Path, str]) -> None:
    html = built[2]
    assert "http://" not in html and "https://" not in html
    assert not re.search(r"""(src|href|action)\s*=\s*["']?\s*//""", html, re.IGNORECASE)
    assert "@import" not in html and "url(" not in html
    parser = _Tags()
    parser.feed(html)
    for tag, attrs in parser.tags:
        for key in ("src", "href"):
            value = attrs.get(key)
            assert value is None or value.startswith(("#", "data:")), (tag, key, value)


def test_plots_of_every_shape_are_drawn(built: tuple[Store, Path, str]) -> None:
    html = built[2]
    # 8 forest plots, c4 curve + c4 heatmap, c2 curve, c3 bars, waterfall, frontier; the
    # unknown shape in c5's "mystery" artifact draws nothing and breaks nothing.
    assert html.count("<svg") == 14
    t = _section(html, "claim-t")
    assert "Stage decomposition (Shapley values)" in t and "Counter-pressures" in t
    assert "novelty rerank" in t and "credits 55% of the measured convergence" in t


def test_evidence_json_holds_every_row_and_the_runs(built: tuple[Store, Path, str]) -> None:
    store, path, _ = built
    doc = json.loads((path.parent / "evidence.json").read_text())
    stored = {r["evidence_id"]: r for r in store.evidence()}
    assert len(doc["evidence"]) == len(stored) == 9
    for row in doc["evidence"]:
        original = stored[row["evidence_id"]]
        assert set(row) == set(original)
        assert row["effect"] == original["effect"] and row["ci_low"] == original["ci_low"]
        assert row["verdict"] == original["verdict"] and row["rule"] == original["rule"]
    assert {r["command"] for r in doc["runs"]} == {"run c4", "audit"}
    assert all(r["finished_at"] >= r["started_at"] for r in doc["runs"])
    assert {m["model_sha256"] for m in doc["models"]} == set(MODELS.values())
    assert doc["claims"]["c7"]["verdict"] == "contradicted" and doc["claims"]["c3"]["verdict"] == "inconclusive"
    assert doc["stage_decomposition"]["total"] == 0.38


def test_run_metadata_lists_models_seeds_and_times(built: tuple[Store, Path, str]) -> None:
    meta = _section(built[2], "metadata")
    for sha in MODELS.values():
        assert sha in meta
    assert "135M" in meta and "270M" in meta
    assert "3 distinct (1000 … 1005)" in meta  # smollm2's seeds
    assert "run c4" in meta and "seed</span>=7" in meta


def test_narrative_follows_the_verdict(tmp_path: Path) -> None:
    pages = {}
    for direction in ("above", "below"):
        store = build_store(tmp_path / f"{direction}.duckdb", c1_direction=direction)  # type: ignore[arg-type]
        pages[direction] = build_report(store, tmp_path / direction).read_text()
        store.close()
    supported, contradicted = (_section(pages[d], "answer") for d in ("above", "below"))
    assert "here it held" in supported and "here it held" not in contradicted
    assert "did not hold" in contradicted and "did not hold" not in supported
    assert 'badge contradicted">contradicted' in _section(pages["below"], "claim-c1")
    # the open questions follow too: only the contradicted run asks about C1
    assert "C1 was contradicted here" in _section(pages["below"], "next")
    assert "C1 was contradicted here" not in _section(pages["above"], "next")


def test_claims_without_evidence_say_they_were_not_run(tmp_path: Path) -> None:
    store = Store.open(tmp_path / "s.duckdb")
    store.begin_run("run c4", {})
    store.add_evidence([make_evidence("c4", "q", "gap", "positive = alike", 0.2, (0.1, 0.3), 10).as_row()])
    html = build_report(store, tmp_path / "out").read_text()
    assert "C1 (input) was not run" in _section(html, "answer")
    assert "Not run: no evidence for C2" in _section(html, "claim-c2")
    assert "The stage decomposition was not run." in html
    doc = json.loads((tmp_path / "out" / "evidence.json").read_text())
    assert doc["claims"]["c1"]["verdict"] == "not run" and len(doc["evidence"]) == 1


def test_empty_store_gives_a_page_that_says_so(tmp_path: Path) -> None:
    store = Store.open(tmp_path / "s.duckdb")
    html = build_report(store, tmp_path / "out").read_text()
    assert "No evidence is stored yet" in html
    assert all(f'id="{a}"' in html for a in SECTION_IDS)


def test_browser_cap_is_stated(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(build, "BROWSER_CAP", 3)
    html = build_report(build_store(tmp_path / "s.duckdb"), tmp_path / "out").read_text()
    assert "The 3 most recent of 9 stored samples are embedded" in html


@pytest.mark.parametrize(("command", "args", "claim"), [
    ("run c4", "{}", "c4"), ("run T", "{}", "T"), ("audit", '{"claims": "c1,c2"}', "—"),
    ("audit", '{"claims": ["c5"]}', "c5"), ("generate", '{"claim": "c3"}', "c3"), ("generate", "{}", "—"),
])
def test_claim_of_a_run_comes_from_its_command(command: str, args: str, claim: str) -> None:
    assert build.claim_of_run({"command": command, "args_json": args}) == claim


def test_claim_verdict_rule() -> None:
    assert narrative.claim_verdict([]) == "not run"
    assert narrative.claim_verdict([{"verdict": "supported"}, {"verdict": "inconclusive"}]) == "supported"
    assert narrative.claim_verdict([{"verdict": "supported"}, {"verdict": "contradicted"}]) == "mixed"
    assert narrative.claim_verdict([{"verdict": "inconclusive"}]) == "inconclusive"


def test_engines_overview_names_the_mixed_engines() -> None:
    rows = {"supported": [{"verdict": "supported"}], "mixed": [{"verdict": "supported"}, {"verdict": "contradicted"}]}
    text = narrative.engines_overview({"c1": rows["mixed"], "c2": rows["mixed"], "c3": rows["supported"]})
    assert "only probability concentration showed its pressure" in text
    assert "input flattening and training collapse gave mixed evidence" in text
    assert "mixed" not in narrative.engines_overview({"c3": rows["supported"]})


def test_mid_sentence_lowering_keeps_acronyms() -> None:
    assert narrative.lower_first("RL post-training amplifies") == "RL post-training amplifies"
    assert narrative.lower_first("Prompts drift") == "prompts drift"
    assert narrative.lower_first("") == ""


def test_toy_stage_sentence_says_which_stage_the_intervals_separate() -> None:
    def row(metric: str, effect: float, lo: float, hi: float) -> dict[str, object]:
        return {"metric": metric, "effect": effect, "ci_low": lo, "ci_high": hi, "n": 32}

    rooted = narrative.toy_stage_sentence([row(narrative.TOY_PRETRAINING, 0.3, 0.28, 0.33),
                                           row(narrative.TOY_RL, -0.2, -0.23, -0.19)])
    assert "RL pulled the models apart" in rooted and "rooted in pretraining" in rooted
    assert "0.3 (95% CI 0.28 to 0.33, n = 32)" in rooted
    against = narrative.toy_stage_sentence([row(narrative.TOY_PRETRAINING, 0.1, 0.05, 0.15),
                                            row(narrative.TOY_RL, 0.3, 0.2, 0.4)])
    assert "against Chen" in against and "apart" not in against
    overlap = narrative.toy_stage_sentence([row(narrative.TOY_PRETRAINING, 0.1, 0.0, 0.3),
                                            row(narrative.TOY_RL, 0.2, 0.1, 0.4)])
    assert "does not separate them" in overlap
    assert narrative.toy_stage_sentence([row(narrative.TOY_PRETRAINING, 0.1, 0.0, 0.3)]) == ""


def test_number_format() -> None:
    assert plots.fmt(-0.08) == "−0.08" and plots.fmt(0.234) == "0.234" and plots.fmt(1234.7) == "1,235"
    assert plots.fmt(float("nan")) == "—" and plots.fmt(None) == "—" and plots.fmt(0) == "0"
    assert plots.tick_label(0.25, [0.0, 0.25, 0.5]) == "0.25" and plots.tick_label(1.0, [0.5, 1.0]) == "1.0"


def test_pareto_front_keeps_points_nothing_beats() -> None:
    pts = [(0.2, 0.3), (0.03, 0.15), (0.05, 0.42), (0.1, 0.1)]
    assert plots.pareto_front(pts) == [(0.03, 0.15), (0.05, 0.42)]


def test_plot_shapes_and_hostile_labels() -> None:
    assert plots.render_any({"unknown": 1}) == [] and plots.render_any("text") == []
    assert plots.render_any({"x": [1, 2], "series": {"a": [1.0]}}) == []  # lengths disagree
    nested = plots.render_any({"curve": {"x": [1, 2], "series": {"a": [1, 2]}}, "bars": {"labels": ["a"], "values": [2]}})
    assert len(nested) == 2
    svg = plots.bar_chart({"labels": ["<script>x</script>"], "values": [float("nan")]})
    assert svg is None  # nothing finite to draw
    svg = plots.heatmap({"labels": ["<b>m</b>", "n"], "matrix": [[1, 0.5], [0.5, 1]]})
    assert svg is not None and "<b>" not in svg and "&lt;b&gt;m&lt;/b&gt;" in svg
    forest = plots.forest_plot([{"metric": "gap", "effect": 0.2, "ci_low": 0.1, "ci_high": 0.3, "verdict": "supported"}])
    assert forest is not None and "0.2 [0.1, 0.3]" in forest


def test_script_json_cannot_close_its_element() -> None:
    value: dict[str, Any] = {"t": "</script><!-- <script>&"}
    text = build.script_json(value)
    assert "<" not in text and ">" not in text and "&" not in text
    assert json.loads(text) == value
