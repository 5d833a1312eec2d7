"""The report: built from a real store, every claim shown with its numbers in plain words,
model and prompt text escaped, no network reference, evidence.json complete, prose that follows
the verdicts, each chart once with its values, samples traceable, writes atomic."""

from __future__ import annotations

import ast
import dataclasses
import hashlib
import json
import os
import re
from html.parser import HTMLParser
from pathlib import Path
from typing import Any, Literal

import numpy as np
import pytest

from homogeny.errors import StoreError
from homogeny.experiments.base import make_evidence
from homogeny.report import (
    build,
    build_report,
    figures,
    labels,
    narrative,
    output,
    plots,
    stage_plots,
    summary_plots,
)
from homogeny.report import samples as sample_data
from homogeny.store import SampleRow, Store

HOSTILE_PROMPT = "Describe this: <img src=x onerror=alert(1)> please"
HOSTILE_OUTPUT = "Sure.</script><script>alert(1)</script> done"
MODELS = {"smollm2-135m": "a" * 64, "gemma3-270m": "b" * 64}
SECTION_IDS = [f"claim-c{i}" for i in range(1, 8)] + ["claim-t"]
BIG_SEED = 2**62 + 633609  # more digits than a JavaScript number keeps
EXPERIMENTS = Path(__file__).resolve().parents[1] / "src" / "homogeny" / "experiments"
HEAT = {"labels": list(MODELS), "matrix": [[1.0, 0.61], [0.61, 1.0]]}
TREND = {
    "x": [0, 1, 2, 3],
    "series": {"pass@k": [0.5, 0.45, 0.4, 0.38], "majority@k": [0.3, 0.4, 0.5, 0.55]},
}
STAGES = {
    "stages": ["input", "pretraining", "post-training", "sampling"],
    "shapley": [0.05, 0.21, 0.04, 0.08],
    "low": [0.01, 0.15, -0.01, 0.03],
    "high": [0.09, 0.27, 0.09, 0.13],
    "total": 0.38,
}


def _sample(
    model: str,
    prompt_hash: str,
    prompt_id: str,
    i: int,
    text: str,
    run_id: str,
    seed: int | None = None,
) -> SampleRow:
    return SampleRow(
        key=f"{model}-{prompt_hash}-{i}",
        model_id=model,
        model_sha256=MODELS[model],
        prompt_hash=prompt_hash,
        prompt_id=prompt_id,
        sample_index=i,
        seed=1000 + i if seed is None else seed,
        temperature=1.0,
        top_p=1.0,
        min_p=0.0,
        top_k=0,
        max_tokens=64,
        chat=True,
        params_json=json.dumps({"temperature": 1.0}),
        text=text,
        n_tokens=len(text.split()),
        gen_seconds=0.25,
        run_id=run_id,
    )


def _embeddings(texts: list[str]) -> list[tuple[str, list[float]]]:
    """Stand-in vectors cached the way C4 caches MiniLM's (by the text's sha256): answers to
    the same prompt share a direction, so same-prompt pairs are closer than random pairs."""
    out = []
    for text in texts:
        key = hashlib.sha256(text.encode()).hexdigest()
        topic = np.random.default_rng(len(text.split()) % 3).normal(size=8)
        noise = np.random.default_rng(int(key[:8], 16)).normal(size=8)
        out.append((key, (topic + 0.4 * noise).tolist()))
    return out


# One-sided p-values of each claim's primary row when the store declares roles: T's 0.02
# passes alone but not after Holm across the eight claims (6th smallest: 3 x 0.02 > 0.025).
PRIMARY_P = {
    "c1": 0.002, "c2": 0.004, "c3": 0.3, "c4": 0.001,
    "c5": 0.003, "c6": 0.0005, "c7": 0.99, "T": 0.02,
}  # fmt: skip


def _with_roles(roles: bool, seen: set[str], rows: Any) -> list[Any]:
    """`rows` as a current audit stores them when `roles`: each claim's first row is its
    primary (p-value, independent units, null rate), the others secondary."""
    if not roles:
        return list(rows)
    out = []
    for e in rows:
        first = e.claim not in seen
        seen.add(e.claim)
        extra = {"p_value": PRIMARY_P[e.claim], "n_units": e.n, "null_rate": 0.025}
        out.append(dataclasses.replace(e, role="primary", **extra) if first else e)
    return out


def build_store(
    path: Path, c1_direction: Literal["above", "below"] = "above", roles: bool = False
) -> Store:
    """A store like an audit leaves: two models (one base), samples from a `run c4` and an
    `audit` run, evidence for c1..c7 and T under the experiments' real metric ids (rows from
    models trained here among them), plot artifacts of every shape, charts drawn twice from the
    same data, hostile text in a prompt and an output. `c1_direction` flips C1's verdict (same
    interval, opposite prediction); `roles` makes each claim's first row its primary row."""
    store = Store.open(path)
    seen: set[str] = set()
    for model, sha in MODELS.items():
        params = 135_000_000 if "135" in model else 270_000_000
        kind = "base" if model.startswith("gemma") else "instruct"
        store.upsert_model(
            sha,
            model,
            f"zoo:{model}",
            "llamacpp",
            {"kind": kind, "params": params, "family": model.split("-")[0]},
        )
    for pid, ph, text in [
        ("p-hostile", "h1", HOSTILE_PROMPT),
        ("p-poem", "h2", "Write a two-line poem about the sea."),
        ("p-name", "h3", "Suggest a name for a coffee shop."),
    ]:
        store.upsert_prompt(ph, pid, text, json.dumps([{"role": "user", "content": text}]))

    store.begin_run("run c4", {"models": list(MODELS), "seed": 7, "quick": True})
    rows = []
    for model in MODELS:
        rows.append(_sample(model, "h1", "p-hostile", 0, HOSTILE_OUTPUT, store.run_id))
        rows.append(
            _sample(model, "h2", "p-poem", 0, f"The sea is wide and blue ({model}).", store.run_id)
        )
        rows.append(
            _sample(
                model,
                "h2",
                "p-poem",
                1,
                "Waves roll in, waves roll out; the gulls call.",
                store.run_id,
            )
        )
        rows.append(
            _sample(model, "h3", "p-name", 0, "The Daily Grind", store.run_id, seed=BIG_SEED)
        )
    store.add_samples(rows)
    store.put_embeddings("zoo:minilm-l6", _embeddings([r.text for r in rows]))
    store.add_evidence(
        [
            e.as_row()
            for e in _with_roles(
                roles,
                seen,
                (
                    make_evidence(
                        "c4",
                        "Do different models give more similar outputs than chance?",
                        "inter_model_minus_random",
                        "positive = outputs of different models are closer than shuffled pairs",
                        0.234,
                        (0.118, 0.352),
                        40,
                        plot=HEAT,
                        models=list(MODELS),
                        quick=True,
                    ),
                    make_evidence(
                        "c4",
                        "Are they nearly as alike as one model's own answers?",
                        "hivemind_index",
                        "1 = as alike as a model's own resamples",
                        0.8,
                        (0.7, 0.95),
                        40,
                        threshold=0.9,
                        plot=HEAT,
                        models=list(MODELS),
                        quick=True,
                    ),
                    make_evidence(
                        "c4",
                        "Does per-user framing hide the sameness?",
                        "persona_disguise_gap",
                        "positive = framing hides sameness",
                        0.04,
                        (-0.02, 0.1),
                        40,
                        models=list(MODELS),
                        quick=True,
                    ),
                ),
            )
        ]
    )
    store.put_artifact(
        "c4",
        "similarity_by_temperature",
        {
            "x": [0.2, 0.7, 1.0, 1.5],
            "xlabel": "temperature",
            "series": {
                "smollm2-135m": [0.9, 0.8, 0.7, 0.5],
                "gemma3-270m": [0.85, 0.74, None, 0.45],
            },
        },
    )
    store.finish_run()

    store.begin_run("audit", {"claims": "c1,c2,c3,c5,c6,c7,T", "seed": 7})
    store.add_samples(
        [_sample("smollm2-135m", "h2", "p-poem", 5, "Salt wind over grey water.", store.run_id)]
    )
    store.add_evidence(
        [
            e.as_row()
            for e in _with_roles(
                roles,
                seen,
                (
                    make_evidence(
                        "c1",
                        "Are paraphrases flattened toward their high-frequency form?",
                        "output - prompt closeness",
                        "positive = rare phrasings are pulled toward common ones",
                        0.31,
                        (0.12, 0.5),
                        24,
                        predicted=c1_direction,
                        models=list(MODELS),
                    ),
                    make_evidence(
                        "c2",
                        "Does the format that wins grow within the first RL epoch?",
                        "dominant_share_gain_first_epoch",
                        "share gained by the winning format",
                        0.62,
                        (0.41, 0.8),
                        6,
                        threshold=0.05,
                        plot={
                            "x": [0, 1, 2, 3],
                            "series": {
                                "format A": [0.3, 0.7, 0.9, 0.95],
                                "format B": [0.4, 0.2, 0.05, 0.02],
                            },
                        },
                    ),
                    make_evidence(
                        "c2",
                        "How many epochs until one format passes 90%?",
                        "epochs_until_90pct_format",
                        "epochs of RL",
                        0.6,
                        (0.4, 0.9),
                        6,
                        threshold=1.0,
                        predicted="below",
                    ),
                    make_evidence(
                        "c2",
                        "Does RL narrow coverage?",
                        "pass_at_k_change",
                        "negative = coverage lost",
                        -0.12,
                        (-0.2, -0.05),
                        6,
                        predicted="below",
                        plot=TREND,
                    ),
                    make_evidence(
                        "c2",
                        "Does majority@k gain more than pass@k?",
                        "majority_minus_pass_at_k_change",
                        "positive = RL sharpens the mode",
                        0.37,
                        (0.2, 0.5),
                        6,
                        plot=TREND,
                    ),
                    make_evidence(
                        "c3",
                        "Do bigger models give fewer distinct samples per draw?",
                        "distinct_per_draw_vs_size",
                        "negative = bigger models give fewer distinct samples per draw",
                        -0.08,
                        (-0.2, 0.05),
                        30,
                        predicted="below",
                        models=list(MODELS),
                    ),
                    make_evidence(
                        "c5",
                        "Do matching outputs hide different internals?",
                        "toy_lm_cka_copy_minus_pair",
                        "positive = internal representations differ",
                        0.47,
                        (0.3, 0.6),
                        12,
                    ),
                    make_evidence(
                        "c6",
                        "Is temperature-0 consistency the same as reliability?",
                        "consistency_minus_accuracy_t0",
                        "positive = consistency exceeds reliability",
                        0.51,
                        (0.33, 0.7),
                        100,
                        models=["smollm2-135m"],
                    ),
                    make_evidence(
                        "c7",
                        "Does anchor-free self-training collapse diversity?",
                        "toy_none_coverage_lost_per_round",
                        "positive = coverage lost without an anchor",
                        -0.3,
                        (-0.45, -0.12),
                        8,
                    ),
                    make_evidence(
                        "T",
                        "Is convergence the default, and does counter-pressure remove part of it?",
                        "diversity recovered by the best counter-pressure",
                        "positive = counter-pressure removes convergence",
                        0.28,
                        (0.1, 0.44),
                        50,
                        models=["smollm2-135m"],
                    ),
                    make_evidence(
                        "T",
                        "How much convergence does the input stage add?",
                        "stage share: input",
                        "positive = the stage adds convergence",
                        0.05,
                        (0.01, 0.09),
                        50,
                        plot=STAGES,
                        models=list(MODELS),
                    ),
                ),
            )
        ]
    )
    store.put_artifact(
        "c3",
        "distinct_by_size",
        {
            "labels": ["135M", "270M", "494M"],
            "values": [7.2, 6.8, 6.1],
            "low": [6.5, 6.0, 5.2],
            "high": [7.9, 7.5, 6.9],
        },
    )
    store.put_artifact("c5", "mystery", {"unknown_shape": True, "weights": "not a plot"})
    store.put_artifact("T", "stage_decomposition", STAGES)
    store.put_artifact(
        "T",
        "counter_pressures",
        [
            {
                "name": "temperature 1.5",
                "diversity_gain": 0.3,
                "gain_low": 0.2,
                "gain_high": 0.4,
                "quality_cost": 0.2,
                "cost_low": 0.1,
                "cost_high": 0.3,
            },
            {
                "name": "min-p 0.1",
                "diversity_gain": 0.15,
                "gain_low": 0.05,
                "gain_high": 0.25,
                "quality_cost": 0.03,
                "cost_low": 0.0,
                "cost_high": 0.06,
            },
            {
                "name": "novelty rerank",
                "diversity_gain": 0.42,
                "gain_low": 0.3,
                "gain_high": 0.55,
                "quality_cost": 0.05,
                "cost_low": 0.01,
                "cost_high": 0.09,
            },
        ],
    )
    store.put_artifact(
        "c1",
        "examples",
        [
            {
                "prompt": HOSTILE_PROMPT,
                "outputs": {
                    "smollm2-135m": ["<b>bold</b> claim", "second"],
                    "gemma3-270m": ["plain answer"],
                },
            }
        ],
    )
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
    return html[start : html.index("</section>", start)]


def test_every_claim_section_is_present_with_its_verdict(built: tuple[Store, Path, str]) -> None:
    _, path, html = built
    assert path.name == "report.html" and (path.parent / "evidence.json").exists()
    for anchor in SECTION_IDS:
        assert f'id="{anchor}"' in html
        assert f'href="#{anchor}"' in html  # reachable from the table of contents
    # the verdict as a word and a shape, not only a colour
    assert 'badge contradicted">◆ contradicted' in _section(html, "claim-c7")
    assert 'badge inconclusive">○ inconclusive' in _section(html, "claim-c3")
    assert 'badge supported">● supported' in _section(html, "claim-c4")
    assert (
        "What makes output convergence across models inevitable given input-side homogenization?"
        in html
    )


def test_evidence_numbers_appear_with_their_intervals_and_units(
    built: tuple[Store, Path, str],
) -> None:
    html = built[2]
    c4 = _section(html, "claim-c4")
    assert ">0.234<" in c4 and "95% CI [0.118, 0.352]" in c4 and "n = 40" in c4
    assert '<span class="unit">cosine similarity</span>' in c4
    assert "positive = outputs of different models are closer than shuffled pairs" in c4
    # a sentence a reader can quote, with its numbers
    assert (
        "Answers from different models to the same prompt are 0.234 cosine more alike than "
        "random pairs (95% CI 0.118 to 0.352, n = 40)."
    ) in c4
    assert "95% CI [−0.2, 0.05]" in _section(html, "claim-c3")  # a true minus sign
    answer = _section(html, "answer")
    assert (
        "outputs closer than the prompts that asked for them: 0.31 ROUGE-L, chance-corrected, "
        "95% CI 0.12 to 0.5, n = 24" in answer
    )


def test_the_rule_line_is_shown_once_per_claim(built: tuple[Store, Path, str]) -> None:
    html = built[2]
    c2 = _section(html, "claim-c2")
    assert (
        c2.count("Decision rule") == 1
    )  # sides and thresholds differ: one rule, each card its side
    assert "<b>Predicted:</b> below 1 (collapse within the first epoch)" in c2
    assert "<b>Predicted:</b> above 0.05" in c2
    c1 = _section(html, "claim-c1")
    assert (
        c1.count("supported if the 95% interval lies entirely")
        + c1.count("supported if the 95% CI lies entirely")
        == 1
    )
    assert "<b>Rule:</b>" not in html


def test_answer_never_shows_a_raw_metric_id(built: tuple[Store, Path, str]) -> None:
    store, _, html = built
    answer = re.sub(r"<[^>]+>", " ", _section(html, "answer").split('<aside class="scope"')[0])
    nexts = _section(html, "next")
    ids = {r["metric"] for r in store.evidence()}
    assert len(ids) == 14
    for metric in ids:
        assert metric not in answer and metric not in nexts, metric
    # the raw id is still there for whoever wants it: in the card's details line
    assert "<code>inter_model_minus_random</code>" in _section(html, "claim-c4")


def _experiment_metric_ids() -> list[str]:
    """Every metric id the experiments can emit, read from their source: the metric argument of
    each make_evidence / evidence / not_testable / _evidence call (a module constant resolved,
    f-string parts as "X"), plus the ids in the row tables non-literal arguments come from."""
    trees = [ast.parse(path.read_text()) for path in sorted(EXPERIMENTS.rglob("*.py"))]
    consts: dict[str, set[str]] = {}  # module constants by name (any module: they are imported)
    for tree in trees:
        for n in tree.body:
            if (
                isinstance(n, ast.Assign)
                and isinstance(n.value, ast.Constant)
                and isinstance(n.value.value, str)
            ):
                for t in n.targets:
                    if isinstance(t, ast.Name):
                        consts.setdefault(t.id, set()).add(n.value.value)

    def texts(node: ast.AST | None) -> list[str]:
        if isinstance(node, ast.Constant) and isinstance(node.value, str):
            return [node.value]
        if isinstance(node, ast.Name):
            return sorted(consts.get(node.id, ()))
        if isinstance(node, ast.JoinedStr):
            return ["".join(v.value if isinstance(v, ast.Constant) else "X" for v in node.values)]
        return []

    found: list[str] = []
    for tree in trees:
        for node in ast.walk(tree):
            if isinstance(node, ast.Call):
                f = node.func
                fname = (
                    f.id
                    if isinstance(f, ast.Name)
                    else f.attr
                    if isinstance(f, ast.Attribute)
                    else ""
                )
                index = {
                    "make_evidence": 2,
                    "not_testable": 2,
                    "_evidence": 2,
                    "evidence": 1,
                    "TrendRow": 0,
                }.get(fname)
                if index is not None:
                    found += texts(
                        node.args[index]
                        if len(node.args) > index
                        else next((k.value for k in node.keywords if k.arg == "metric"), None)
                    )
            if isinstance(node, ast.Assign) and any(
                isinstance(t, ast.Name) and t.id.endswith(("_ROWS", "_METRICS"))
                for t in node.targets
            ):
                items = (
                    node.value.values
                    if isinstance(node.value, ast.Dict)
                    else getattr(node.value, "elts", [])
                )
                rows = [
                    t
                    for e in items
                    if isinstance(e, ast.Tuple) and e.elts
                    for t in texts(e.elts[0])
                ]
                if any(t.id == "SAME_FAMILY_ROWS" for t in node.targets if isinstance(t, ast.Name)):
                    rows = ["same_family_" + r.replace("_vs_size", "") for r in rows]
                found += rows
    return sorted(set(found))


def test_every_metric_the_experiments_emit_has_a_label() -> None:
    ids = _experiment_metric_ids()
    assert len(ids) >= 35 and "inter_model_minus_random" in ids and "entropy_vs_size" in ids
    missing = [m for m in ids if not labels.known(m)]
    assert missing == [], f"metric ids without an entry in report/label_table.py: {missing}"
    for m in ids:
        row = {"metric": m, "effect": 0.1, "ci_low": 0.0, "ci_high": 0.2, "n": 5}
        label, _ = labels.lookup(m)
        assert label.unit and label.zero and "{effect}" in label.template, m
        assert "_" not in labels.name(row) and labels.quote(row).endswith(
            "(95% CI 0 to 0.2, n = 5)."
        ), m


def test_labels_fill_subject_unit_and_quote() -> None:
    row = {
        "metric": "NLL(low) - NLL(high) smollm2-135m",
        "effect": 0.42,
        "ci_low": 0.1,
        "ci_high": 0.7,
        "n": 20,
    }
    assert labels.name(row) == "extra surprise of rare wording (smollm2-135m)"
    assert labels.unit(row) == "nats per token" and labels.value_text(row) == "0.42 nats per token"
    assert labels.quote(row) == (
        "Smollm2-135m finds the rare wording 0.42 nats per token harder than the common one "
        "(95% CI 0.1 to 0.7, n = 20)."
    )
    typed = {**row, "metric": "nll_low_minus_high", "unit": "nats", "subject": "qwen"}
    assert labels.unit(typed) == "nats"  # the row's own unit wins
    assert (
        labels.name({"metric": "brand_new_metric"}) == "brand new metric"
    )  # unknown ids are never dropped
    assert labels.name({"metric": "brand_new", "subject": "m1"}) == "brand new (m1)"
    assert labels.trained_here({"metric": "toy_none_coverage_lost_per_round"})
    assert not labels.trained_here({"metric": "inter_model_minus_random"})
    # the typed rows: a fixed id, the model in `subject`; without one the sentence still reads
    saving = {
        "metric": "toy_anchor_pass_at_1_saving",
        "subject": "anchor ground_truth",
        "effect": 0.1,
        "ci_low": 0.05,
        "ci_high": 0.2,
        "n": 3,
    }
    assert (
        labels.name(saving)
        == "pass@1 loss per round an external anchor saves (anchor ground truth)"
    )
    bare = {
        "metric": "refinement_similarity_self_minus_judged",
        "effect": 0.1,
        "ci_low": 0.0,
        "ci_high": 0.2,
        "n": 4,
    }
    assert labels.name(bare) == "convergence of self-refinement without a judge"
    assert labels.quote(bare).startswith("The model's self-refinement answers are 0.1 cosine")


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


def _blob(html: str) -> dict[str, Any]:
    blob = re.search(
        r'<script type="application/json" id="sample-data">(.*?)</script>', html, re.DOTALL
    )
    assert blob is not None and "<" not in blob.group(1)
    return json.loads(blob.group(1))


def test_embedded_samples_round_trip_exactly(built: tuple[Store, Path, str]) -> None:
    data = _blob(built[2])
    col = {c: i for i, c in enumerate(data["columns"])}
    assert data["total"] == 9 and data["shown"] == 9
    texts = [row[col["text"]] for row in data["samples"]]
    assert texts.count(HOSTILE_OUTPUT) == 2
    assert [HOSTILE_PROMPT] == [p[1] for p in data["prompts"].values() if p[0] == "p-hostile"]
    claims = {row[col["text"]]: row[col["claim"]] for row in data["samples"]}
    assert claims["The Daily Grind"] == "c4" and claims["Salt wind over grey water."] == "—"
    # every sampling parameter travels; seeds as strings keep every digit in JavaScript
    grind = next(r for r in data["samples"] if r[col["text"]] == "The Daily Grind")
    assert grind[col["seed"]] == str(BIG_SEED) and isinstance(grind[col["seed"]], str)
    assert (
        grind[col["top_p"]],
        grind[col["min_p"]],
        grind[col["top_k"]],
        grind[col["max_tokens"]],
    ) == (1.0, 0.0, 0, 64)


def test_browser_keeps_the_page_small_and_says_what_it_left_out(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(sample_data, "BROWSER_BYTES", 700)
    html = build_report(build_store(tmp_path / "s.duckdb"), tmp_path / "out").read_text()
    data = _blob(html)
    assert data["total"] == 9 and 0 < data["shown"] < 9
    assert f"The {data['shown']} most recent of 9 stored samples are embedded" in html


def test_page_stays_under_2_mb_with_many_long_samples(tmp_path: Path) -> None:
    store = build_store(tmp_path / "s.duckdb")
    store.begin_run("run c3", {})
    verse = "The tide keeps its own counsel; the gulls argue over nothing at all. "
    store.add_samples(
        [
            _sample("smollm2-135m", "h2", "p-poem", 100 + i, f"{i}: " + verse * 160, store.run_id)
            for i in range(300)
        ]
    )  # about 3.4 MB of output text
    store.finish_run()
    page = build_report(store, tmp_path / "out")
    assert page.stat().st_size < 2_000_000
    data = _blob(page.read_text())
    assert data["total"] == 309 and 100 < data["shown"] < 309
    assert (
        'are in the store: <span class="mono">homogeny export</span> writes them all'
        in page.read_text()
    )


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


def test_each_chart_is_drawn_once_with_its_values(built: tuple[Store, Path, str]) -> None:
    html = built[2]
    # 8 effect plots; c4 similarity by kind of pair, curve and one heatmap (two rows share
    # it); c2 curve and one trend chart (two rows share it); c3 bars; waterfall and frontier
    # (the stage row's copy of the waterfall is dropped). The unknown shape in c5's "mystery"
    # artifact draws nothing.
    assert html.count("<svg") == 16
    tables = re.findall(
        r'<div class="sr-only"><table class="values">.*?<tbody>(.*?)</tbody></table>',
        html,
        re.DOTALL,
    )
    assert (
        len(tables) == 16 and len(set(tables)) == 16
    )  # every chart has a values table, no two alike
    t = _section(html, "claim-t")
    assert "Stage decomposition" in t and "Counter-pressures" in t
    assert "novelty rerank" in t and "credits 55% of the measured convergence" in t
    sizes = [int(x) for x in re.findall(r'<text [^>]*font-size="(\d+)"', html)]
    assert sizes and min(sizes) >= 10


def test_effect_plot_groups_rows_by_unit_on_a_shared_axis() -> None:
    rows = [
        {
            "metric": "inter_model_minus_random",
            "effect": 0.2,
            "ci_low": 0.1,
            "ci_high": 0.3,
            "verdict": "supported",
        },
        {
            "metric": "min_p_minus_top_p_intra_similarity",
            "effect": -0.05,
            "ci_low": -0.1,
            "ci_high": 0.02,
            "verdict": "inconclusive",
        },
        {
            "metric": "NLL(low) - NLL(high) smollm2-135m",
            "effect": 2.4,
            "ci_low": 2.0,
            "ci_high": 2.9,
            "verdict": "contradicted",
            "threshold": 3.0,
        },
    ]
    svg = str(summary_plots.forest_plot(rows))
    assert (
        svg.count("Unit: ") == 2
        and "Unit: cosine similarity" in svg
        and "Unit: nats per token" in svg
    )
    assert "<polygon" in svg and 'fill="#ffffff"' in svg  # contradicted diamond, inconclusive ring
    assert "◆ contradicted" in svg and "○ inconclusive" in svg and "● supported" in svg
    assert 'stroke-dasharray="3,2"' in svg  # the threshold mark
    assert (
        "inter_model_minus_random" not in svg and "cross-model similarity above random pairs" in svg
    )
    assert "<td>nats per token</td>" in svg  # the values table


def test_cards_link_to_the_samples_behind_them(built: tuple[Store, Path, str]) -> None:
    html = built[2]
    data = _blob(html)
    col = {c: i for i, c in enumerate(data["columns"])}
    links = re.findall(
        r'<a class="samples-link" href="#browser" data-run="([^"]*)" data-claim="([^"]*)" '
        r'data-models="([^"]*)" data-count="(\d+)"',
        html,
    )
    assert len(links) >= 8
    for run, claim, models, count in links:
        picked = [
            s
            for s in data["samples"]
            if (not run or s[col["run"]] == run)
            and (not claim or s[col["claim"]] == claim)
            and (not models or s[col["model"]] in models.split(","))
        ]
        assert len(picked) == int(count) > 0
    c7 = _section(html, "claim-c7")  # a tiny model trained here: no stored samples, said so
    assert "samples-link" not in c7 and "trained here in memory" in c7


def test_scope_box_says_what_was_measured(built: tuple[Store, Path, str]) -> None:
    html = built[2]
    answer = _section(html, "answer")
    scope = answer.split('<aside class="scope"')[1]
    assert "embedded (shipped with homogeny): gemma3-270m (base), smollm2-135m (instruct)" in scope
    assert "trained here" in scope and "C5, C7" in scope
    assert (
        "outputs capped at 64 tokens" in scope and "9 stored samples of 3 distinct prompts" in scope
    )
    assert "gemma3-270m is a base model" in scope
    assert "mixed: 3 of 14 evidence rows from quick runs" in scope
    assert "Partly a quick run." in html.split('<section id="question"')[0]  # flagged at the top
    assert "2 stored models (gemma3-270m (a base model), smollm2-135m)" in answer
    assert (
        '<td class="mono">smollm2-135m</td><td>embedded</td><td>instruct</td><td>5</td><td>3</td>'
        in scope
    )


def test_shared_phrases_are_highlighted() -> None:
    out = sample_data.highlight(
        {"a": ["The sea is wide and blue today."], "b": ["Oh, the sea is wide indeed"]}
    )
    assert [t for t, shared in out["a"][0] if shared] == ["The sea is wide"]
    assert [t for t, shared in out["b"][0] if shared] == ["the sea is wide"]
    assert sample_data.highlight({"a": ["one two three"]}) == {"a": [[("one two three", False)]]}


def test_evidence_json_holds_every_row_and_the_runs(built: tuple[Store, Path, str]) -> None:
    store, path, _ = built
    doc = json.loads((path.parent / "evidence.json").read_text())
    stored = {r["evidence_id"]: r for r in store.evidence()}
    assert len(doc["evidence"]) == len(stored) == 14
    for row in doc["evidence"]:
        original = stored[row["evidence_id"]]
        assert set(row) == set(original)
        assert row["effect"] == original["effect"] and row["ci_low"] == original["ci_low"]
        assert row["verdict"] == original["verdict"] and row["rule"] == original["rule"]
    assert {r["command"] for r in doc["runs"]} == {"run c4", "audit"}
    assert all(r["finished_at"] >= r["started_at"] for r in doc["runs"])
    assert {m["model_sha256"] for m in doc["models"]} == set(MODELS.values())
    assert (
        doc["claims"]["c7"]["verdict"] == "contradicted"
        and doc["claims"]["c3"]["verdict"] == "inconclusive"
    )
    assert doc["stage_decomposition"]["total"] == 0.38


def test_run_metadata_lists_models_seeds_and_times(built: tuple[Store, Path, str]) -> None:
    meta = _section(built[2], "metadata")
    for sha in MODELS.values():
        assert sha in meta
    assert "135M" in meta and "270M" in meta
    assert f"4 distinct (1000 … {BIG_SEED})" in meta  # smollm2's seeds, every digit
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
    assert 'badge contradicted">◆ contradicted' in _section(pages["below"], "claim-c1")
    # the open questions follow too: only the contradicted run asks about C1
    assert "C1 was contradicted here" in _section(pages["below"], "next")
    assert "C1 was contradicted here" not in _section(pages["above"], "next")


def test_claims_without_evidence_say_they_were_not_run(tmp_path: Path) -> None:
    store = Store.open(tmp_path / "s.duckdb")
    store.begin_run("run c4", {})
    store.add_evidence(
        [make_evidence("c4", "q", "gap", "positive = alike", 0.2, (0.1, 0.3), 10).as_row()]
    )
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


@pytest.mark.parametrize(
    ("command", "args", "claim"),
    [
        ("run c4", "{}", "c4"),
        ("run T", "{}", "T"),
        ("audit", '{"claims": "c1,c2"}', "—"),
        ("audit", '{"claims": ["c5"]}', "c5"),
        ("generate", '{"claim": "c3"}', "c3"),
        ("generate", "{}", "—"),
    ],
)
def test_claim_of_a_run_comes_from_its_command(command: str, args: str, claim: str) -> None:
    assert build.claim_of_run({"command": command, "args_json": args}) == claim


def test_claim_verdict_rule() -> None:
    assert narrative.claim_verdict([]) == "not run"
    assert (
        narrative.claim_verdict([{"verdict": "supported"}, {"verdict": "inconclusive"}])
        == "supported"
    )
    assert (
        narrative.claim_verdict([{"verdict": "supported"}, {"verdict": "contradicted"}]) == "mixed"
    )
    assert narrative.claim_verdict([{"verdict": "inconclusive"}]) == "inconclusive"


def test_engines_overview_names_the_mixed_engines() -> None:
    rows = {
        "supported": [{"verdict": "supported"}],
        "mixed": [{"verdict": "supported"}, {"verdict": "contradicted"}],
    }
    text = narrative.engines_overview(
        {"c1": rows["mixed"], "c2": rows["mixed"], "c3": rows["supported"]}
    )
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

    rooted = narrative.toy_stage_sentence(
        [row(narrative.TOY_PRETRAINING, 0.3, 0.28, 0.33), row(narrative.TOY_RL, -0.2, -0.23, -0.19)]
    )
    assert "RL pulled the models apart" in rooted and "rooted in pretraining" in rooted
    assert "0.3 (95% CI 0.28 to 0.33, n = 32)" in rooted
    against = narrative.toy_stage_sentence(
        [row(narrative.TOY_PRETRAINING, 0.1, 0.05, 0.15), row(narrative.TOY_RL, 0.3, 0.2, 0.4)]
    )
    assert "against Chen" in against and "apart" not in against
    overlap = narrative.toy_stage_sentence(
        [row(narrative.TOY_PRETRAINING, 0.1, 0.0, 0.3), row(narrative.TOY_RL, 0.2, 0.1, 0.4)]
    )
    assert "does not separate them" in overlap
    assert narrative.toy_stage_sentence([row(narrative.TOY_PRETRAINING, 0.1, 0.0, 0.3)]) == ""


def test_number_format() -> None:
    assert (
        plots.fmt(-0.08) == "−0.08" and plots.fmt(0.234) == "0.234" and plots.fmt(1234.7) == "1,235"
    )
    assert plots.fmt(float("nan")) == "—" and plots.fmt(None) == "—" and plots.fmt(0) == "0"
    assert (
        plots.tick_label(0.25, [0.0, 0.25, 0.5]) == "0.25"
        and plots.tick_label(1.0, [0.5, 1.0]) == "1.0"
    )


def test_pareto_front_keeps_points_nothing_beats() -> None:
    pts = [(0.2, 0.3), (0.03, 0.15), (0.05, 0.42), (0.1, 0.1)]
    assert stage_plots.pareto_front(pts) == [(0.03, 0.15), (0.05, 0.42)]


def test_plot_shapes_and_hostile_labels() -> None:
    render = summary_plots.render_any
    assert render({"unknown": 1}) == [] and render("text") == []
    assert render({"x": [1, 2], "series": {"a": [1.0]}}) == []  # lengths disagree
    nested = render(
        {"curve": {"x": [1, 2], "series": {"a": [1, 2]}}, "bars": {"labels": ["a"], "values": [2]}},
        "top",
    )
    assert [title for title, _ in nested] == ["top: curve", "top: bars"]
    svg = plots.bar_chart({"labels": ["<script>x</script>"], "values": [float("nan")]})
    assert svg is None  # nothing finite to draw
    svg = plots.heatmap({"labels": ["<b>m</b>", "n"], "matrix": [[1, 0.5], [0.5, 1]]})
    assert svg is not None and "<b>" not in svg and "&lt;b&gt;m&lt;/b&gt;" in svg
    assert 'stroke="#111827" stroke-width="2"' in svg  # the diagonal (a model with itself) outlined
    forest = summary_plots.forest_plot(
        [{"metric": "gap", "effect": 0.2, "ci_low": 0.1, "ci_high": 0.3, "verdict": "supported"}]
    )
    assert forest is not None and "0.2 [0.1, 0.3]" in forest
    long = "a-very-long-model-name-that-would-be-clipped " * 3
    forest = summary_plots.forest_plot(
        [
            {
                "metric": f"hidden - surface closeness {long}",
                "effect": 0.2,
                "ci_low": 0.1,
                "ci_high": 0.3,
                "verdict": "supported",
            }
        ]
    )
    assert forest is not None
    name_lines = re.findall(
        r'<text x="8.0" y="[0-9.]+" text-anchor="start" font-size="13"', str(forest)
    )
    assert len(name_lines) >= 3  # the long name wraps over lines instead of running off the chart
    assert 'class="plot fit"' in str(forest) and 'width="420"' in str(forest)  # fits a phone


def test_figures_skip_charts_already_drawn() -> None:
    seen: set[str] = set()
    rows = [
        {
            "metric": "pass_at_k_change",
            "effect": 0.1,
            "ci_low": 0.0,
            "ci_high": 0.2,
            "verdict": "inconclusive",
            "plot": TREND,
            "rule": "r",
        },
        {
            "metric": "majority_minus_pass_at_k_change",
            "effect": 0.1,
            "ci_low": 0.0,
            "ci_high": 0.2,
            "verdict": "inconclusive",
            "plot": TREND,
            "rule": "r",
        },
    ]
    figs = figures.claim_figures(rows, {}, seen)
    assert len(figs) == 2  # the effect plot and one trend chart, not two
    assert figures.claim_figures(rows, {}, seen) == []  # everything already on the page
    assert figures.claim_rules(rows) == [
        {"rule": "r", "names": [labels.name(rows[0]), labels.name(rows[1])]}
    ]


def test_report_writes_are_atomic_and_leave_other_files_alone(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    store = build_store(tmp_path / "s.duckdb")
    page = build_report(store, tmp_path / "mine.html")  # a page path: evidence.json beside it
    assert page == tmp_path / "mine.html" and (tmp_path / "evidence.json").exists()
    before = page.read_bytes()
    assert b'<meta name="generator" content="homogeny' in before

    def broken(fd: int) -> None:
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(output.os, "fsync", broken)
    with pytest.raises(StoreError, match="No space left on device"):
        build_report(store, tmp_path / "mine.html")
    assert page.read_bytes() == before  # the old report, whole
    with pytest.raises(StoreError):
        build_report(store, tmp_path / "fresh")
    assert not (tmp_path / "fresh" / "report.html").exists()  # never a 0-byte page
    assert not [f for f in os.listdir(tmp_path) if f.endswith(".tmp")]
    monkeypatch.undo()
    notes = tmp_path / "notes.html"
    notes.write_text("<html>my own notes</html>")
    with pytest.raises(StoreError, match="is not a homogeny report"):
        build_report(store, notes)
    assert notes.read_text() == "<html>my own notes</html>"
    other = tmp_path / "other"
    other.mkdir()
    (other / "evidence.json").write_text('{"mine": true}')
    with pytest.raises(StoreError, match="evidence.json"):
        build_report(store, other)
    assert (other / "evidence.json").read_text() == '{"mine": true}' and not (
        other / "report.html"
    ).exists()
    assert (
        build_report(store, tmp_path / "mine.html") == page
    )  # its own earlier page is fine to replace


def test_script_json_cannot_close_its_element() -> None:
    value: dict[str, Any] = {"t": "</script><!-- <script>&"}
    text = build.script_json(value)
    assert "<" not in text and ">" not in text and "&" not in text
    assert json.loads(text) == value


def test_claims_say_what_else_the_store_holds(built: tuple[Store, Path, str]) -> None:
    t = _section(built[2], "claim-t")
    assert "Stored with this claim" in t and "counter_pressures, stage_decomposition" in t


def test_claim_verdict_follows_the_primary_row_when_rows_name_roles() -> None:
    rows = [
        {"verdict": "inconclusive", "role": "primary"},
        {"verdict": "supported", "role": "secondary"},
    ]
    assert narrative.claim_verdict(rows) == "inconclusive"  # a secondary row never decides
    rows.append(
        {"verdict": "contradicted", "role": "precondition", "sign": "needs two answering models"}
    )
    assert narrative.claim_verdict(rows) == "not testable"
    rows[0].update(metric="share_intra_above_0_8", effect=0.4, ci_low=0.2, ci_high=0.6, n=10)
    assert narrative.claim_sentence("c4", rows) == (
        "C4 (across models) could not be tested here: needs two answering models."
    )


def test_hivemind_view_compares_pairs_with_the_random_baseline(
    built: tuple[Store, Path, str],
) -> None:
    c4 = _section(built[2], "claim-c4")
    assert "Pairwise similarity of answers by kind of pair" in c4
    for kind in (
        "same prompt, different models",
        "same prompt, same model",
        "different prompts (random pairs)",
    ):
        assert f"{kind}: mean" in c4
    # the model x model heatmap states the random-pair baseline beside its diagonal
    assert (
        "random pairs (answers to different prompts): " in c4 and "outlined: the same model" in c4
    )
    same, rand = (
        float(re.search(rf"{k}: mean (-?[0-9.]+)", c4).group(1))  # type: ignore[union-attr]
        for k in ("same prompt, different models", r"different prompts \(random pairs\)")
    )
    assert same > rand  # the stand-in vectors share a direction per prompt


def test_cli_report_to_a_page_path_leaves_other_files_alone(tmp_path: Path, cli: Any) -> None:
    build_store(tmp_path / "s.duckdb").close()
    (tmp_path / "report.html").write_text("<p>someone else's report</p>")
    page = tmp_path / "audit.html"
    proc = cli("report", "--store", str(tmp_path / "s.duckdb"), "--out", str(page), timeout=300)
    assert proc.returncode == 0, proc.stderr
    assert page.exists() and "homogeny" in page.read_text()[:2000]
    assert (tmp_path / "report.html").read_text() == "<p>someone else's report</p>"
    notes = tmp_path / "notes.html"
    notes.write_text("<p>my notes</p>")
    proc = cli("report", "--store", str(tmp_path / "s.duckdb"), "--out", str(notes), timeout=300)
    assert proc.returncode == 2 and len(proc.stderr.strip().splitlines()) == 1
    assert "is not a homogeny report" in proc.stderr and notes.read_text() == "<p>my notes</p>"


def test_raw_metric_ids_appear_only_in_details_lines(built: tuple[Store, Path, str]) -> None:
    store, _, html = built
    page = re.sub(r"<details.*?</details>|<script.*?</script>", "", html, flags=re.DOTALL)
    for metric in {r["metric"] for r in store.evidence()}:
        if "_" in metric:  # the snake_case ids; readable phrases may well be said in words
            assert metric not in page, metric


def test_cards_name_a_role_only_where_it_tells_something() -> None:
    row = {"metric": "hivemind_index", "effect": 0.8, "ci_low": 0.7, "ci_high": 0.9, "n": 9}
    samples: dict[str, Any] = {"samples": []}
    legacy = figures.cards([{**row, "role": "secondary"}], samples, {})
    assert legacy[0]["role"] == ""  # every row of an older store is "secondary": no news
    typed = figures.cards(
        [{**row, "role": "primary"}, {**row, "role": "secondary"}, {**row, "role": "sanity"}],
        samples,
        {},
    )
    assert [c["role"] for c in typed] == ["", "secondary", "sanity"]


def test_c1_typed_and_older_ids_read_the_same() -> None:
    typed = {"metric": "hidden_minus_surface_closeness_middle", "subject": "smollm2-135m"}
    older = {"metric": "hidden - surface closeness smollm2-135m middle"}
    assert (
        labels.name(typed)
        == labels.name(older)
        == ("paraphrase closeness inside the model minus in wording (smollm2-135m middle)")
    )
    assert (
        labels.name({"metric": "nll_low_minus_high", "subject": "qwen"})
        == "extra surprise of rare wording (qwen)"
    )


def _verdict_rows(html: str) -> dict[str, str]:
    """claim -> verdict, as the claim-verdict table at the top of the page shows them."""
    table = _section(html, "verdicts")
    return dict(re.findall(r'<tr data-claim="([^"]+)" data-verdict="([^"]+)">', table))


def test_the_claim_verdict_table_heads_the_page(tmp_path: Path) -> None:
    """One line per claim that ran, before the answer, with the verdict evidence.json exports
    (T's p of 0.02 passes alone but not after Holm across the eight claims)."""
    store = build_store(tmp_path / "s.duckdb", roles=True)
    path = build_report(store, tmp_path / "out")
    ran = {build.normalise_claim(r["claim"]) for r in store.evidence()}
    store.close()
    html = path.read_text(encoding="utf-8")
    assert html.index('<section id="question"') < html.index('<section id="verdicts"')
    assert html.index('<section id="verdicts"') < html.index('<section id="answer"')
    assert '<a href="#verdicts">Claim verdicts</a>' in html  # in the contents
    shown = _verdict_rows(html)
    exported = json.loads((path.parent / "evidence.json").read_text())["claim_verdicts"]
    assert len(shown) == len(exported) == len(ran) == 8
    assert shown == {
        ("T" if e["claim"] == "T" else e["claim"].upper()): e["verdict"] for e in exported
    }
    t = next(e for e in exported if e["claim"] == "T")
    assert t["verdict"] == "inconclusive" and t["verdict_unadjusted"] == "supported"
    assert t["p_holm"] == pytest.approx(0.06)  # 3 x 0.02: the sixth smallest of eight
    table = _section(html, "verdicts")
    row = re.search(r'<tr data-claim="T".*?</tr>', table, re.DOTALL)
    assert row is not None and "0.06" in row.group(0) and "2.5%" in row.group(0)
    assert ">0.28<" in row.group(0) and ">[0.1, 0.44]<" in row.group(0) and ">50<" in row.group(0)
    assert narrative.CLAIMS["T"].question in row.group(0)


def test_the_claim_verdict_table_says_why_a_claim_is_not_testable(tmp_path: Path) -> None:
    """A failed precondition makes the claim "not testable here" with its reason; the reason
    (experiment or model text) is escaped; the Holm-adjusted p follows Holm's step-down."""

    def primary(claim: str, p: float) -> Any:
        return make_evidence(
            claim, "q", "hivemind_index", "s", 0.9, (0.8, 1.0), 12, threshold=0.5,
            role="primary", n_units=12, null_rate=0.025, p_value=p,
        )  # fmt: skip

    failed = make_evidence(
        "c6", HOSTILE_PROMPT, "consistency_t0", "s", -1.0, (-2.0, -0.5), 10, role="precondition"
    )
    with Store.open(tmp_path / "s.duckdb") as store:
        rows = [primary("c4", 0.001), primary("c3", 0.03), primary("c6", 0.001), failed]
        store.add_evidence([r.as_row() for r in rows])
        path = build_report(store, tmp_path / "out")
    html = path.read_text(encoding="utf-8")
    table = _section(html, "verdicts")
    assert _verdict_rows(html) == {
        "C3": "inconclusive",  # its interval is on the predicted side, but p 0.03 > 0.025
        "C4": "supported",
        "C6": "not testable here",
    }
    assert "precondition failed: Describe this: &lt;img src=x onerror=alert(1)&gt;" in table
    assert "<img" not in table
    exported = {
        e["claim"]: e
        for e in json.loads((path.parent / "evidence.json").read_text())["claim_verdicts"]
    }
    assert exported["c4"]["p_holm"] == pytest.approx(0.003)
    assert exported["c6"]["p_holm"] == pytest.approx(0.003)
    assert exported["c3"]["p_holm"] == pytest.approx(0.03)  # the largest, times 1
    assert exported["c3"]["verdict_unadjusted"] == "supported"


def test_holm_p_agrees_with_the_claim_verdicts() -> None:
    """Supported after Holm exactly when the adjusted p is at most the one-sided 0.025."""
    from homogeny.report import verdict_table

    rng = np.random.default_rng(3)
    for _ in range(200):
        k = int(rng.integers(1, 9))
        rows = [
            {"claim": f"c{i + 1}", "role": "primary", "verdict": "supported",
             "p_value": float(rng.choice([rng.uniform(0, 0.03), rng.uniform(0, 1)]))}
            for i in range(k)
        ]  # fmt: skip
        for e in verdict_table.entries(rows):
            assert (e["verdict"] == "supported") == (e["p_holm"] <= 0.025), (rows, e)


def test_an_older_store_without_roles_has_no_verdict_table(
    built: tuple[Store, Path, str],
) -> None:
    html = built[2]
    assert 'id="verdicts"' not in html and 'href="#verdicts"' not in html
