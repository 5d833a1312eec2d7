"""The Artificial Hivemind view of the stored samples, from embeddings already cached in the
store (no model is called): the distribution of pairwise similarity between answers to the
same prompt from different models, from the same model, and between answers to different
prompts (the random-pair baseline), and that baseline's mean for the model x model heatmap."""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from typing import Any

import numpy as np
from markupsafe import Markup, escape

from homogeny.report.plots import fmt, line_plot
from homogeny.store import Store

EMBED_MODEL = "zoo:minilm-l6"  # the model C4 embeds with (homogeny.embeddings.DEFAULT_EMBED_MODEL)
MAX_SAMPLES = 1500  # pairs grow as the square; a deterministic subset beyond this
BINS = np.linspace(-0.2, 1.0, 25)
KINDS = (
    "same prompt, different models",
    "same prompt, same model",
    "different prompts (random pairs)",
)


def similarity_view(
    store: Store, samples: Sequence[dict[str, Any]], run_claims: dict[str, str], claim: str = "c4"
) -> dict[str, Any] | None:
    """Histograms (share of pairs per cosine bin) of the three kinds of pair among the claim's
    samples whose embeddings the store holds, their means and pair counts; None when fewer
    than two models or two prompts have embedded samples."""
    rows = sorted(
        (s for s in samples if run_claims.get(str(s.get("run_id"))) == claim and s.get("text")),
        key=lambda s: str(s.get("key")),
    )[:MAX_SAMPLES]
    hashes = [hashlib.sha256(str(s["text"]).encode("utf-8")).hexdigest() for s in rows]
    vectors = store.embeddings(EMBED_MODEL, sorted(set(hashes))) if hashes else {}
    keep = [(s, vectors[h]) for s, h in zip(rows, hashes) if h in vectors]
    models = np.array([str(s.get("model_id")) for s, _ in keep])
    prompts = np.array([str(s.get("prompt_hash")) for s, _ in keep])
    if len(set(models)) < 2 or len(set(prompts)) < 2:
        return None
    x = np.asarray([v for _, v in keep], dtype=float)
    x /= np.maximum(np.linalg.norm(x, axis=1, keepdims=True), 1e-12)
    sim = x @ x.T
    upper = np.triu(np.ones_like(sim, dtype=bool), k=1)
    same_p, same_m = prompts[:, None] == prompts[None, :], models[:, None] == models[None, :]
    masks = (upper & same_p & ~same_m, upper & same_p & same_m, upper & ~same_p)
    values = [sim[m] for m in masks]
    centres = (BINS[:-1] + BINS[1:]) / 2
    series = {
        k: (np.histogram(v, BINS)[0] / max(v.size, 1)).tolist()
        for k, v in zip(KINDS, values)
        if v.size
    }
    return {
        "x": [round(float(c), 3) for c in centres],
        "series": series,
        "xlabel": "cosine similarity of a pair of answers (MiniLM)",
        "ylabel": "share of pairs",
        "means": {k: float(v.mean()) for k, v in zip(KINDS, values) if v.size},
        "pairs": {k: int(v.size) for k, v in zip(KINDS, values)},
        "baseline": float(values[2].mean()) if values[2].size else None,
        "n_samples": len(keep),
    }


def with_baseline(rows: Sequence[dict[str, Any]], baseline: float | None) -> list[dict[str, Any]]:
    """The claim's rows with the random-pair baseline added to every model x model matrix
    they plot (the heatmap then states it beside its diagonal)."""
    if baseline is None:
        return list(rows)
    out = []
    for r in rows:
        plot = r.get("plot")
        if isinstance(plot, dict) and "matrix" in plot and "baseline" not in plot:
            r = {**r, "plot": {**plot, "baseline": baseline}}
        out.append(r)
    return out


def figures(view: dict[str, Any] | None) -> list[tuple[Markup | None, str]]:
    """C4's distribution of pairwise similarity by kind of pair, with its caption."""
    if not view:
        return []
    means = "; ".join(
        f"{k}: mean {fmt(v)} ({view['pairs'][k]:,} pairs)" for k, v in view["means"].items()
    )
    caption = (
        f"How alike two answers are, by kind of pair, over {view['n_samples']:,} stored C4 samples "
        f"(cosine of their MiniLM embeddings, cached in the store). {means}."
    )
    return [(line_plot(view, "Pairwise similarity of answers by kind of pair"), caption)]


def protocol_tables(claim_artifacts: dict[str, Any]) -> list[tuple[Markup | None, str]]:
    """Each published protocol C4 ran (`--protocol srt`: the artifact named after it) as a
    table: homogeny's intra-model similarity per model and format with its 95% CI and the
    protocol's floor, beside the study's published figure where the study covers the model."""
    from homogeny.experiments.presets import PROTOCOLS

    out: list[tuple[Markup | None, str]] = []
    for name in sorted(n for n in claim_artifacts if n in PROTOCOLS):
        art = claim_artifacts[name]
        table = art.get("table") if isinstance(art, dict) else None
        if table:
            out.append((_protocol_table(table), _protocol_caption(name, art)))
    return out


def _protocol_table(table: Sequence[dict[str, Any]]) -> Markup:
    heads = ("model", "format", "intra-model similarity [95% CI]", "floor", "study", "n")
    rows = [
        (
            escape(str(t.get("model"))),
            escape(str(t.get("format"))),
            f"{fmt(t.get('similarity'))} [{fmt(t.get('low'))}, {fmt(t.get('high'))}]",
            fmt(t.get("floor")),
            fmt(t.get("published")),
            escape(str(t.get("n"))),
        )
        for t in table
    ]
    head = "".join(f"<th>{h}</th>" for h in heads)
    body = "".join("<tr>" + "".join(f"<td>{c}</td>" for c in r) + "</tr>" for r in rows)
    return Markup(
        f'<div class="tablewrap"><table class="protocol"><thead><tr>{head}</tr></thead>'
        f"<tbody>{body}</tbody></table></div>"
    )


def _protocol_caption(name: str, art: dict[str, Any]) -> str:
    proto = art.get("protocol") or {}
    effects = "; ".join(
        f"{e.get('model')}: {fmt(e.get('effect'))} [{fmt(e.get('low'))}, {fmt(e.get('high'))}]"
        f" (study: {fmt(e.get('published'))})"
        for e in art.get("chat_minus_raw") or []
    )
    caption = (
        f"C4 under the {name.upper()} protocol (K = {proto.get('samples', '?')}, "
        f"{proto.get('max_tokens', '?')} tokens) on {len(art.get('prompts') or [])} prompts; "
        "'study' is the published figure where the study covers the model (— where it does "
        "not); n counts prompts."
    )
    return caption + (f" Chat template minus raw prompt: {effects}." if effects else "")
