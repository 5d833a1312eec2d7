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
from homogeny.errors import StoreError
from homogeny.report import narrative, plots
from homogeny.store import Store

INQUIRING_LINE = "What makes output convergence across models inevitable given input-side homogenization?"
LEDE = ("This explores whether AI outputs from different models are doomed to look alike because "
        "the inputs themselves get flattened first — and whether that convergence is really "
        "inevitable or just a stack of design choices.")
BROWSER_CAP = 3000
EXAMPLE_CHARS = 1500
SPECIAL_ARTIFACTS = ("examples", "stage_decomposition", "counter_pressures")
_CLAIM_TOKEN = re.compile(r"\b(c[1-7]|t)\b", re.IGNORECASE)
_THRESHOLD = re.compile(r"entirely [<>] (-?[0-9.]+(?:e-?[0-9]+)?)")


def build_report(store: Store, out_dir: Path) -> Path:
    """Write `out_dir/report.html` and `out_dir/evidence.json` from what the store holds and
    return the html path. Reads the store only; never loads or calls a model."""
    out = Path(out_dir)
    try:
        out.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise StoreError(f"cannot create report folder {str(out)!r}: {exc.strerror}") from None
    data = collect(store)
    html = render(data)
    html_path = out / "report.html"
    try:
        html_path.write_text(html, encoding="utf-8")
        (out / "evidence.json").write_text(evidence_json(data), encoding="utf-8")
    except OSError as exc:
        raise StoreError(f"cannot write the report to {str(out)!r}: {exc.strerror}") from None
    return html_path


def normalise_claim(claim: Any) -> str:
    """Claims are stored as "c1".."c7" and "T"; accept any case."""
    text = str(claim or "").strip()
    return "T" if text.lower() == "t" else text.lower()


def collect(store: Store) -> dict[str, Any]:
    """Everything the page needs, read from the store in one place."""
    evidence = store.evidence()
    by_claim: dict[str, list[dict[str, Any]]] = {}
    for row in evidence:
        by_claim.setdefault(normalise_claim(row["claim"]), []).append(_enrich(row))
    artifacts: dict[str, dict[str, Any]] = {}
    for (claim, name), value in sorted(store.artifacts().items()):
        artifacts.setdefault(normalise_claim(claim), {})[name] = value
    runs = store.query("SELECT * FROM runs ORDER BY started_at")
    run_claims = {r["run_id"]: claim_of_run(r) for r in runs}
    models = store.query("SELECT * FROM models ORDER BY model_id")
    model_ids = [m["model_id"] for m in models] or sorted(
        {m for rows in by_claim.values() for r in rows for m in str(r.get("models") or "").split(",") if m})
    return {
        "evidence": evidence, "by_claim": by_claim, "artifacts": artifacts, "runs": runs,
        "run_claims": run_claims, "models": models, "model_ids": model_ids,
        "model_stats": model_stats(store), "store_path": store.path,
        "samples": browser_samples(store, run_claims),
        "examples": {c: examples_for(store, c, artifacts.get(c, {}), run_claims) for c in narrative.CLAIM_ORDER},
        "generated_at": time.time(),
    }


def _enrich(row: dict[str, Any]) -> dict[str, Any]:
    """An evidence row plus its parsed plot and the threshold its rule names."""
    out = dict(row)
    try:
        out["plot"] = json.loads(row.get("plot_json") or "{}")
    except (TypeError, ValueError):
        out["plot"] = {}
    match = _THRESHOLD.search(str(row.get("rule") or ""))
    out["threshold"] = float(match.group(1)) if match else None
    return out


def claim_of_run(run: dict[str, Any]) -> str:
    """The claim a run measured: from its command ("run c4") or its arguments ({"claim": "c4"});
    "—" when it measured several (an audit) or none."""
    found = {normalise_claim(m) for m in _CLAIM_TOKEN.findall(str(run.get("command") or ""))}
    if not found:
        try:
            args = json.loads(run.get("args_json") or "{}")
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
    stats = {r["model_id"]: r for r in store.query(
        "SELECT model_id, count(*) AS samples, sum(n_tokens) AS tokens, sum(gen_seconds) AS seconds, "
        "count(DISTINCT seed) AS seeds, min(seed) AS seed_min, max(seed) AS seed_max, "
        "count(DISTINCT prompt_hash) AS prompts FROM samples GROUP BY model_id")}
    for r in store.query(
            "SELECT model_id, temperature, top_p, min_p, top_k, max_tokens, chat, count(*) AS n "
            "FROM samples GROUP BY ALL ORDER BY model_id, n DESC"):
        stats[r["model_id"]].setdefault("settings", []).append(r)
    return stats


def browser_samples(store: Store, run_claims: dict[str, str]) -> dict[str, Any]:
    """The most recent samples (capped) for the in-page browser, prompts stored once."""
    total = store.count("samples")
    rows = store.query(
        "SELECT s.model_id, s.prompt_id, s.prompt_hash, s.run_id, s.text, s.temperature, s.seed, "
        "s.sample_index, p.text AS prompt_text FROM samples s LEFT JOIN prompts p USING (prompt_hash) "
        "ORDER BY s.created_at DESC, s.key LIMIT ?", [BROWSER_CAP])
    prompts: dict[str, list[str]] = {}
    items = []
    for r in rows:
        prompts.setdefault(r["prompt_hash"], [str(r["prompt_id"] or ""), str(r["prompt_text"] or r["prompt_id"] or "")])
        items.append([r["model_id"], r["prompt_hash"], run_claims.get(r["run_id"], "—"), r["text"] or "",
                      r["temperature"], r["seed"], r["sample_index"]])
    return {"total": total, "shown": len(items), "prompts": prompts, "samples": items}


def examples_for(store: Store, claim: str, claim_artifacts: dict[str, Any],
                 run_claims: dict[str, str]) -> list[dict[str, Any]]:
    """Example outputs side by side: the claim's "examples" artifact, else the same prompt
    answered by several models in the claim's runs."""
    stored = claim_artifacts.get("examples")
    if isinstance(stored, list):
        clean = []
        for ex in stored[:4]:
            if isinstance(ex, dict) and isinstance(ex.get("outputs"), dict):
                outputs = {str(m): [_clip(t) for t in (v if isinstance(v, list) else [v])][:3]
                           for m, v in ex["outputs"].items()}
                clean.append({"prompt": str(ex.get("prompt", "")), "outputs": outputs})
        if clean:
            return clean
    runs = [r for r, c in run_claims.items() if c == claim]
    if not runs:
        return []
    shared = store.query(
        "SELECT prompt_hash FROM samples WHERE run_id IN (SELECT unnest(?)) GROUP BY prompt_hash "
        "HAVING count(DISTINCT model_id) >= 2 ORDER BY count(DISTINCT model_id) DESC, prompt_hash LIMIT 2",
        [runs])
    out = []
    for row in shared:
        samples = store.query(
            "SELECT s.model_id, s.text, p.text AS prompt_text, s.prompt_id FROM samples s "
            "LEFT JOIN prompts p USING (prompt_hash) WHERE s.prompt_hash = ? AND s.run_id IN (SELECT unnest(?)) "
            "ORDER BY s.model_id, s.sample_index", [row["prompt_hash"], runs])
        by_model: dict[str, list[str]] = {}
        for s in samples:
            if len(by_model.setdefault(s["model_id"], [])) < 3:
                by_model[s["model_id"]].append(_clip(s["text"]))
        out.append({"prompt": samples[0]["prompt_text"] or samples[0]["prompt_id"], "outputs": by_model})
    return out


def _clip(text: Any) -> str:
    text = str(text or "")
    return text if len(text) <= EXAMPLE_CHARS else text[:EXAMPLE_CHARS] + " …"


def claim_figures(claim: str, rows: list[dict[str, Any]], artifacts: dict[str, Any]) -> list[dict[str, Any]]:
    """The plots for one claim section: the forest plot, then any artifact or evidence plot."""
    figures: list[dict[str, Any]] = []
    forest = plots.forest_plot(rows, "Effect sizes with 95% CI (dashed: decision threshold)")
    if forest is not None:
        figures.append({"svg": forest, "caption": "Each row on its own axis; colour gives the row's verdict."})
    for name, value in artifacts.items():
        if name not in SPECIAL_ARTIFACTS:
            figures += [{"svg": s, "caption": name.replace("_", " ")} for s in plots.render_any(value, name.replace("_", " "))]
    for row in rows:
        figures += [{"svg": s, "caption": str(row.get("metric"))} for s in plots.render_any(row.get("plot"), str(row.get("metric")))]
    return figures[:10]


def script_json(value: Any) -> Markup:
    """JSON safe inside a <script type="application/json"> element: <, > and & become \\u
    escapes, so no text (not even "</script>" or "<!--") can close or confuse the element."""
    text = json.dumps(json_safe(value), ensure_ascii=False, default=str)
    text = text.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")
    return Markup(text.replace("\u2028", "\\u2028").replace("\u2029", "\\u2029"))


def _when(ts: Any) -> str:
    return time.strftime("%Y-%m-%d %H:%M:%S UTC", time.gmtime(ts)) if isinstance(ts, (int, float)) else "—"


def _duration(run: dict[str, Any]) -> str:
    a, b = run.get("started_at"), run.get("finished_at")
    if not isinstance(a, (int, float)) or not isinstance(b, (int, float)):
        return "—"
    secs = max(b - a, 0.0)
    return f"{secs:.1f} s" if secs < 120 else f"{secs / 60:.1f} min"


def _args(run: dict[str, Any]) -> list[tuple[str, str]]:
    try:
        args = json.loads(run.get("args_json") or "{}")
    except ValueError:
        return [("args", str(run.get("args_json")))]
    if not isinstance(args, dict):
        return [("args", json.dumps(args))]
    return [(str(k), v if isinstance(v, str) else json.dumps(v, default=str)) for k, v in args.items()]


def _model_rows(data: dict[str, Any]) -> list[dict[str, Any]]:
    rows = []
    known = {m["model_id"] for m in data["models"]}
    for m in data["models"]:
        try:
            info = json.loads(m.get("info_json") or "{}")
        except ValueError:
            info = {}
        rows.append({**m, "info": info if isinstance(info, dict) else {}, "stats": data["model_stats"].get(m["model_id"], {})})
    rows += [{"model_id": mid, "model_sha256": "", "spec": "", "backend": "", "info": {}, "stats": st}
             for mid, st in data["model_stats"].items() if mid not in known]
    return rows


def _params(n: Any) -> str:
    if not isinstance(n, (int, float)) or n <= 0:
        return "—"
    return f"{n / 1e9:.1f}B" if n >= 1e9 else f"{n / 1e6:.0f}M"


def render(data: dict[str, Any]) -> str:
    """The page, rendered with autoescaping on: every model and prompt text becomes text."""
    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(str(Path(__file__).parent / "templates")),
        autoescape=True, undefined=jinja2.StrictUndefined, trim_blocks=True, lstrip_blocks=True,
    )
    env.filters.update(fmt=plots.fmt, when=_when, duration=_duration, args=_args, params=_params)
    by_claim, artifacts = data["by_claim"], data["artifacts"]
    t_art = artifacts.get("T", {})
    stages, pressures = t_art.get("stage_decomposition"), t_art.get("counter_pressures")
    claims = []
    for c in narrative.CLAIM_ORDER:
        rows = by_claim.get(c, [])
        claims.append({
            "id": c, "label": c.upper() if c != "T" else "T", "anchor": narrative.anchor(c),
            "info": narrative.CLAIMS[c], "rows": rows, "verdict": narrative.claim_verdict(rows),
            "sentence": narrative.claim_sentence(c, rows),
            "figures": claim_figures(c, rows, artifacts.get(c, {})), "examples": data["examples"].get(c, []),
        })
    others = {c: rows for c, rows in by_claim.items() if c not in narrative.CLAIM_ORDER}
    template = env.get_template("report.html.j2")
    return template.render(
        question=INQUIRING_LINE, lede=LEDE, claims=claims, others=others,
        answer=narrative.answer_paragraphs(by_claim, data["model_ids"], stages, pressures),
        sources=narrative.sources(by_claim),
        next_lines=narrative.next_lines(by_claim, data["model_ids"], stages),
        verdict_rule=narrative.VERDICT_RULE,
        waterfall=plots.waterfall(stages) if isinstance(stages, dict) else None, stages=stages,
        frontier=plots.frontier(pressures), pressures=pressures if isinstance(pressures, list) else [],
        stage_sentence=narrative.stage_sentence(stages), pressure_sentence=narrative.pressure_sentence(pressures),
        samples=data["samples"], samples_json=script_json(data["samples"]), browser_cap=BROWSER_CAP,
        runs=data["runs"], run_claims=data["run_claims"], models=_model_rows(data),
        store_path=data["store_path"], generated_at=data["generated_at"], version=__version__,
        env_versions=_versions(), n_evidence=len(data["evidence"]),
    )


def _versions() -> list[tuple[str, str]]:
    import duckdb

    return [("homogeny", __version__), ("python", platform.python_version()),
            ("duckdb", duckdb.__version__), ("jinja2", jinja2.__version__), ("platform", platform.platform())]


def evidence_json(data: dict[str, Any]) -> str:
    """Every evidence row as stored, the claim verdicts, the decomposition and the runs."""
    t_art = data["artifacts"].get("T", {})
    doc = {
        "question": INQUIRING_LINE,
        "generated_at": data["generated_at"], "homogeny_version": __version__, "store": data["store_path"],
        "claims": {c: {"verdict": narrative.claim_verdict(data["by_claim"].get(c, [])),
                       "title": narrative.CLAIMS[c].title, "citation": narrative.CLAIMS[c].citation,
                       "n_rows": len(data["by_claim"].get(c, []))} for c in narrative.CLAIM_ORDER},
        "verdict_rule": narrative.VERDICT_RULE,
        "evidence": data["evidence"],
        "stage_decomposition": t_art.get("stage_decomposition"),
        "counter_pressures": t_art.get("counter_pressures"),
        "artifacts": sorted([c, n] for c, names in data["artifacts"].items() for n in names),
        "runs": data["runs"], "models": data["models"],
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
