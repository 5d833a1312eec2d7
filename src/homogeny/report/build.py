"""Build the report from the store alone: `report.html` (one self-contained page) and
`evidence.json` (every evidence row with the run metadata). No model is called here.
"""

from __future__ import annotations

import json
import math
import platform
import re
import time
from pathlib import Path
from typing import Any

import jinja2
from markupsafe import Markup

from homogeny import __version__
from homogeny.report import figures as figs
from homogeny.report import hivemind, narrative, output, plots, summary_plots, verdict_table
from homogeny.report import samples as sample_data
from homogeny.report import scope as scope_box
from homogeny.experiments.verdicts import holm_adjusted
from homogeny.store import Store

INQUIRING_LINE = (
    "What makes output convergence across models inevitable given input-side homogenization?"
)
LEDE = (
    "This explores whether AI outputs from different models are doomed to look alike because "
    "the inputs themselves get flattened first — and whether that convergence is really "
    "inevitable or just a stack of design choices."
)
EXAMPLE_CHARS = 1500
_CLAIM_TOKEN = re.compile(r"\b(c[1-7]|t)\b", re.IGNORECASE)
_THRESHOLD = re.compile(r"entirely [<>] (-?[0-9.]+(?:e-?[0-9]+)?)")


def build_report(store: Store, out: Path) -> Path:
    """Write the page and evidence.json from what the store holds and return the page's path:
    `out` is a folder (report.html and evidence.json in it) or a path ending in .html. Each file
    is written atomically, and a file there that homogeny did not write is left alone (an
    error). Reads the store only; never loads or calls a model."""
    html_path, json_path = output.targets(Path(out))
    output.check_targets(html_path, json_path)
    data = collect(store)
    html = render(data)
    output.write_atomic(html_path, html)
    output.write_atomic(json_path, evidence_json(data))
    return html_path


def normalise_claim(claim: Any) -> str:
    """Claims are stored as "c1".."c7" and "T"; accept any case."""
    text = str(claim or "").strip()
    return "T" if text.lower() == "t" else text.lower()


def collect(store: Store) -> dict[str, Any]:
    """Everything the page needs, read from the store in one place."""
    evidence = holm_adjusted(store.evidence())
    by_claim: dict[str, list[dict[str, Any]]] = {}
    for row in evidence:
        by_claim.setdefault(normalise_claim(row["claim"]), []).append(_enrich(row))
    artifacts: dict[str, dict[str, Any]] = {}
    for (claim, name), value in sorted(store.artifacts().items()):
        artifacts.setdefault(normalise_claim(claim), {})[name] = value
    runs = store.runs()
    run_claims = {r["run_id"]: claim_of_run(r) for r in runs}
    models = store.models()
    model_ids = [m["model_id"] for m in models] or sorted(
        {
            m
            for rows in by_claim.values()
            for r in rows
            for m in str(r.get("models") or "").split(",")
            if m
        }
    )
    full = store.samples()
    table = scope_box.model_table(models, full)
    return {
        "evidence": evidence,
        "claim_verdicts": verdict_table.entries(evidence),
        "by_claim": by_claim,
        "artifacts": artifacts,
        "runs": runs,
        "run_claims": run_claims,
        "models": models,
        "model_ids": model_ids,
        "model_stats": model_stats(store),
        "store_path": store.path,
        "model_table": table,
        "scope": scope_box.scope(by_claim, table, len({s.get("prompt_hash") for s in full})),
        "samples": sample_data.browser_samples(store, run_claims, full),
        "hivemind": hivemind.similarity_view(store, full, run_claims),
        "examples": {
            c: examples_for(store, c, artifacts.get(c, {}), run_claims)
            for c in narrative.CLAIM_ORDER
        },
        "generated_at": time.time(),
    }


def _enrich(row: dict[str, Any]) -> dict[str, Any]:
    """An evidence row plus its parsed plot and the threshold its rule names."""
    out = dict(row)
    try:
        out["plot"] = json.loads(row.get("plot_json") or "{}")
    except (TypeError, ValueError):
        out["plot"] = {}
    if not isinstance(row.get("threshold"), (int, float)):  # stores from before the typed rows
        match = _THRESHOLD.search(str(row.get("rule") or ""))
        out["threshold"] = float(match.group(1)) if match else None
    return out


def claim_of_run(run: dict[str, Any]) -> str:
    """The claim a run measured: from its command ("run c4") or its arguments ({"claim": "c4"});
    "—" when it measured several (an audit) or none."""
    if run.get("claim"):
        return normalise_claim(run["claim"])
    found = {normalise_claim(m) for m in _CLAIM_TOKEN.findall(str(run.get("command") or ""))}
    if not found:
        try:
            args = json.loads(run.get("settings_json") or run.get("args_json") or "{}")
        except ValueError:
            args = {}
        claims = args.get("claim") or args.get("claims") if isinstance(args, dict) else None
        if isinstance(claims, str):
            claims = [c for c in re.split(r"[,\s]+", claims) if c]
        if isinstance(claims, list):
            found = {normalise_claim(c) for c in claims}
    return found.pop() if len(found) == 1 else "—"


def model_stats(store: Store) -> dict[str, dict[str, Any]]:
    """Per model: samples, tokens, generation time, seeds, and the sampling settings used."""
    return store.model_stats()


def examples_for(
    store: Store, claim: str, claim_artifacts: dict[str, Any], run_claims: dict[str, str]
) -> list[dict[str, Any]]:
    """Example outputs side by side: the claim's "examples" artifact, else the same prompt
    answered by several models in the claim's runs."""
    stored = claim_artifacts.get("examples")
    if isinstance(stored, list):
        clean = []
        for ex in stored[:4]:
            if isinstance(ex, dict) and isinstance(ex.get("outputs"), dict):
                outputs = {
                    str(m): [_clip(t) for t in (v if isinstance(v, list) else [v])][:3]
                    for m, v in ex["outputs"].items()
                }
                clean.append(
                    {"prompt": str(ex.get("prompt", "")), "outputs": sample_data.highlight(outputs)}
                )
        if clean:
            return clean
    runs = [r for r, c in run_claims.items() if c == claim]
    if not runs:
        return []
    out = []
    for prompt_hash in store.shared_prompts(runs, limit=2):
        samples = store.prompt_samples(prompt_hash, runs)
        by_model: dict[str, list[str]] = {}
        for s in samples:
            if len(by_model.setdefault(s["model_id"], [])) < 3:
                by_model[s["model_id"]].append(_clip(s["text"]))
        out.append(
            {
                "prompt": samples[0]["prompt_text"] or samples[0]["prompt_id"],
                "outputs": sample_data.highlight(by_model),
            }
        )
    return out


def _clip(text: Any) -> str:
    text = str(text or "")
    return text if len(text) <= EXAMPLE_CHARS else text[:EXAMPLE_CHARS] + " …"


def script_json(value: Any) -> Markup:
    """JSON safe inside a <script type="application/json"> element: <, > and & become \\u
    escapes, so no text (not even "</script>" or "<!--") can close or confuse the element."""
    text = json.dumps(json_safe(value), ensure_ascii=False, default=str)
    text = text.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")
    return Markup(text.replace("\u2028", "\\u2028").replace("\u2029", "\\u2029"))


def _when(ts: Any) -> str:
    return (
        time.strftime("%Y-%m-%d %H:%M:%S UTC", time.gmtime(ts))
        if isinstance(ts, (int, float))
        else "—"
    )


def _duration(run: dict[str, Any]) -> str:
    a, b = run.get("started_at"), run.get("finished_at")
    if not isinstance(a, (int, float)) or not isinstance(b, (int, float)):
        return "—"
    secs = max(b - a, 0.0)
    return f"{secs:.1f} s" if secs < 120 else f"{secs / 60:.1f} min"


def _args(run: dict[str, Any]) -> list[tuple[str, str]]:
    try:
        args = json.loads(run.get("settings_json") or run.get("args_json") or "{}")
    except ValueError:
        return [("args", str(run.get("settings_json") or run.get("args_json")))]
    if not isinstance(args, dict):
        return [("args", json.dumps(args))]
    return [
        (str(k), v if isinstance(v, str) else json.dumps(v, default=str)) for k, v in args.items()
    ]


def _model_rows(data: dict[str, Any]) -> list[dict[str, Any]]:
    rows = []
    known = {m["model_id"] for m in data["models"]}
    for m in data["models"]:
        try:
            info = json.loads(m.get("info_json") or "{}")
        except ValueError:
            info = {}
        rows.append(
            {
                **m,
                "info": info if isinstance(info, dict) else {},
                "stats": data["model_stats"].get(m["model_id"], {}),
            }
        )
    rows += [
        {"model_id": mid, "model_sha256": "", "spec": "", "backend": "", "info": {}, "stats": st}
        for mid, st in data["model_stats"].items()
        if mid not in known
    ]
    return rows


def _params(n: Any) -> str:
    if not isinstance(n, (int, float)) or n <= 0:
        return "—"
    return f"{n / 1e9:.1f}B" if n >= 1e9 else f"{n / 1e6:.0f}M"


def render(data: dict[str, Any]) -> str:
    """The page, rendered with autoescaping on: every model and prompt text becomes text."""
    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(str(Path(__file__).parent / "templates")),
        autoescape=True,
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.filters.update(
        fmt=plots.fmt,
        when=_when,
        duration=_duration,
        args=_args,
        params=_params,
        mark=lambda v: figs.VERDICT_SYMBOLS.get(str(v), ""),
    )
    env.globals["shared_n"] = sample_data.SHARED_N
    by_claim, artifacts, samples = data["by_claim"], data["artifacts"], data["samples"]
    t_art = artifacts.get("T", {})
    stages, pressures = t_art.get("stage_decomposition"), t_art.get("counter_pressures")
    waterfall = summary_plots.waterfall(stages) if isinstance(stages, dict) else None
    frontier = summary_plots.frontier(pressures)
    seen = {figs.signature(c) for c in (waterfall, frontier) if c is not None}
    claims = []
    for c in narrative.CLAIM_ORDER:
        rows = by_claim.get(c, [])
        extra: list[tuple[Markup | None, str]] = []
        if c == "c4":
            extra = hivemind.figures(data["hivemind"]) + hivemind.protocol_tables(
                artifacts.get(c, {})
            )
            if data["hivemind"]:
                rows = hivemind.with_baseline(rows, data["hivemind"]["baseline"])
        claims.append(
            {
                "id": c,
                "label": c.upper() if c != "T" else "T",
                "anchor": narrative.anchor(c),
                "info": narrative.CLAIMS[c],
                "rows": rows,
                "verdict": narrative.claim_verdict(rows),
                "sentence": narrative.claim_sentence(c, rows),
                "rules": figs.claim_rules(rows),
                "cards": figs.cards(rows, samples, data["run_claims"]),
                "figures": figs.claim_figures(rows, artifacts.get(c, {}), seen, extra),
                "examples": data["examples"].get(c, []),
                "stored": sorted(artifacts.get(c, {})),
            }
        )
    others = [
        figs.cards(rows, samples, data["run_claims"])
        for c, rows in by_claim.items()
        if c not in narrative.CLAIM_ORDER
    ]
    template = env.get_template("report.html.j2")
    return template.render(
        question=INQUIRING_LINE,
        lede=LEDE,
        claims=claims,
        others=[c for group in others for c in group],
        answer=narrative.answer_paragraphs(
            by_claim, data["model_ids"], stages, pressures, measured_on=data["scope"]["measured_on"]
        ),
        scope=data["scope"],
        model_table=data["model_table"],
        sources=narrative.sources(by_claim),
        next_lines=narrative.next_lines(by_claim, data["model_ids"], stages),
        verdict_rule=narrative.VERDICT_RULE,
        waterfall=waterfall,
        stages=stages,
        frontier=frontier,
        pressures=pressures if isinstance(pressures, list) else [],
        stage_sentence=narrative.stage_sentence(stages),
        pressure_sentence=narrative.pressure_sentence(pressures),
        samples=samples,
        samples_json=script_json(samples),
        runs=data["runs"],
        run_claims=data["run_claims"],
        models=_model_rows(data),
        store_path=data["store_path"],
        generated_at=data["generated_at"],
        version=__version__,
        env_versions=_versions(),
        n_evidence=len(data["evidence"]),
        verdict_table=verdict_table.rows(data["claim_verdicts"]),
        verdict_caption=verdict_table.CAPTION,
    )


def _versions() -> list[tuple[str, str]]:
    import duckdb

    return [
        ("homogeny", __version__),
        ("python", platform.python_version()),
        ("duckdb", duckdb.__version__),
        ("jinja2", jinja2.__version__),
        ("platform", platform.platform()),
    ]


def evidence_json(data: dict[str, Any]) -> str:
    """Every evidence row as stored, the claim verdicts, the decomposition and the runs."""
    t_art = data["artifacts"].get("T", {})
    doc = {
        "question": INQUIRING_LINE,
        "generated_at": data["generated_at"],
        "homogeny_version": __version__,
        "store": data["store_path"],
        "claims": {
            c: {
                "verdict": narrative.claim_verdict(data["by_claim"].get(c, [])),
                "title": narrative.CLAIMS[c].heading,
                "citation": narrative.CLAIMS[c].citation,
                "n_rows": len(data["by_claim"].get(c, [])),
            }
            for c in narrative.CLAIM_ORDER
        },
        "verdict_rule": narrative.VERDICT_RULE,
        "claim_verdicts": data["claim_verdicts"],
        "evidence": data["evidence"],
        "stage_decomposition": t_art.get("stage_decomposition"),
        "counter_pressures": t_art.get("counter_pressures"),
        "artifacts": sorted([c, n] for c, names in data["artifacts"].items() for n in names),
        "runs": data["runs"],
        "models": data["models"],
        "samples": {"total": data["samples"]["total"]},
    }
    return json.dumps(json_safe(doc), indent=2, default=str, allow_nan=False)


def json_safe(value: Any) -> Any:
    """Replace NaN and infinities (not JSON) with null, all the way down."""
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, dict):
        return {str(k): json_safe(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [json_safe(v) for v in value]
    return value
