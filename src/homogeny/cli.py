"""The `homogeny` command line. Each command imports what it needs only when it runs.

User errors (HomogenyError) print one line on stderr and exit 2, never a traceback.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Annotated, Any

import typer

app = typer.Typer(
    add_completion=False, no_args_is_help=True, pretty_exceptions_enable=False,
    help="Measure why outputs of different language models converge, stage by stage.",
)

StoreOpt = Annotated[str, typer.Option("--store", help="DuckDB run store file.")]
ModelsOpt = Annotated[str | None, typer.Option("--models", help="Comma-separated model specs (default: the embedded models).")]


def _console() -> Any:
    from rich.console import Console

    return Console(stderr=True)


def _split_models(models: str | None) -> list[str]:
    if not models:
        from homogeny.models.zoo import DEFAULT_GENERATORS, is_installed

        return [f"zoo:{m}" for m in DEFAULT_GENERATORS if is_installed(m)]
    return [m.strip() for m in models.split(",") if m.strip()]


@app.command()
def models(as_json: Annotated[bool, typer.Option("--json", help="Print a JSON list.")] = False) -> None:
    """List the embedded model zoo: id, family, size, kind, whether installed and sha256-checked."""
    from homogeny.models import zoo

    rows = [zoo.describe(m) for m in zoo.ZOO]
    if as_json:
        print(json.dumps(rows, indent=2))
        return
    from rich.console import Console
    from rich.table import Table

    table = Table(title="homogeny model zoo")
    for col in ("id", "family", "params", "kind", "quantization", "size", "installed", "sha256"):
        table.add_column(col)
    for r in rows:
        ok = {True: "ok", False: "MISMATCH", None: "-"}[r["sha256_ok"]]  # type: ignore[index]
        size = f"{int(r['bytes']) / 1e6:.0f} MB" if r["bytes"] else "-"  # type: ignore[arg-type]
        table.add_row(str(r["id"]), str(r["family"]), str(r["params"]), str(r["kind"]),
                      str(r["quantization"]), size, "yes" if r["installed"] else "no", ok)
    Console().print(table)


@app.command()
def generate(
    model: Annotated[str, typer.Option("--model", help="zoo:ID, gguf:PATH, hf:PATH or openai:URL#MODEL")],
    prompts: Annotated[Path, typer.Option("--prompts", help="JSONL ({id, prompt|messages}) or text, one prompt per line.")],
    samples: Annotated[int, typer.Option("--samples", "-k", help="Samples per prompt.")] = 4,
    temperature: Annotated[float, typer.Option("--temperature")] = 1.0,
    top_p: Annotated[float, typer.Option("--top-p")] = 1.0,
    min_p: Annotated[float, typer.Option("--min-p")] = 0.0,
    top_k: Annotated[int, typer.Option("--top-k", help="0 = no top-k cut.")] = 0,
    max_tokens: Annotated[int, typer.Option("--max-tokens")] = 128,
    seed: Annotated[int, typer.Option("--seed", help="Run seed; each sample's seed derives from it.")] = 0,
    chat: Annotated[bool | None, typer.Option("--chat/--raw", help="Chat template or raw completion (default: chat for instruct, raw for base).")] = None,
    store: StoreOpt = "homogeny.duckdb",
    executor: Annotated[str, typer.Option("--executor", help="local or ray")] = "local",
    ray_address: Annotated[str | None, typer.Option("--ray-address")] = None,
    quiet: Annotated[bool, typer.Option("--quiet", "-q")] = False,
    verbose: Annotated[bool, typer.Option("--verbose", "-v", help="Log each stored batch on stderr.")] = False,
) -> None:
    """Sample K continuations of every prompt; cached by key, resumable after any stop."""
    from homogeny.errors import ParameterError
    from homogeny.generate.engine import generate as run_generation
    from homogeny.generate.params import SamplingParams, check_range
    from homogeny.store import Store
    from homogeny.suites.files import read_prompt_file

    if verbose:
        import logging

        logging.basicConfig(level=logging.INFO, format="%(name)s: %(message)s", stream=sys.stderr)
    check_range("samples", samples, 1, 100_000)
    if seed < 0:
        raise ParameterError(f"--seed {seed} is out of range; it must be >= 0")
    params = SamplingParams(temperature=temperature, top_p=top_p, min_p=min_p, top_k=top_k, max_tokens=max_tokens, chat=chat)
    items = read_prompt_file(prompts)
    from homogeny.generate.engine import model_info

    model_info(model)  # fail fast on a bad model before touching the store
    with Store.open(store) as st:
        st.begin_run("generate", {"model": model, "prompts": str(prompts), "samples": samples, "seed": seed, "params": params.canonical()})
        try:
            summary = run_generation(model, items, samples, st, params, seed=seed, progress=not quiet, executor=executor, ray_address=ray_address)
        except BaseException:
            st.finish_run("interrupted")
            raise
        st.finish_run("done" if not summary.failed else "partial")
    msg = (f"{summary.model_id}: {summary.requested} samples requested, {summary.cached} cached, "
           f"{summary.generated} generated ({summary.tokens} tokens, {summary.tokens_per_second:.1f} tok/s)")
    if summary.failed:
        msg += f", {summary.failed} failed ({summary.errors[0]}); rerun to retry them"
    print(msg)
    if summary.failed:
        raise typer.Exit(1)


@app.command()
def export(
    store: StoreOpt = "homogeny.duckdb",
    fmt: Annotated[str, typer.Option("--format", help="jsonl or parquet")] = "jsonl",
    out: Annotated[Path, typer.Option("--out", help="Folder for one file per table.")] = Path("homogeny-export"),
) -> None:
    """Write every table of the store to OUT, one file per table."""
    from homogeny.store import Store

    with Store.open(store, read_only=True) as st:
        paths = st.export(out, fmt)
    for p in paths:
        print(p)


@app.command()
def score(
    file: Annotated[Path, typer.Argument(help="JSONL with a `text` field per line.")],
    metric: Annotated[str, typer.Option("--metric", "-m", help="Metric name (see docs/metrics.md).")] = "homogenization_rougel",
    by: Annotated[str | None, typer.Option("--by", help="Group by this field.")] = None,
    as_json: Annotated[bool, typer.Option("--json")] = False,
) -> None:
    """Score any JSONL of texts with one metric, optionally per group."""
    from homogeny.metrics.scoring import read_text_jsonl, score_texts

    result = score_texts(read_text_jsonl(file), metric, by=by)
    _print_scores(result, as_json)


@app.command("metrics")
def metrics_cmd(
    store: StoreOpt = "homogeny.duckdb",
    metric: Annotated[str, typer.Option("--metric", "-m")] = "homogenization_rougel",
    by: Annotated[str, typer.Option("--by", help="Group samples by this column.")] = "model_id",
    as_json: Annotated[bool, typer.Option("--json")] = False,
) -> None:
    """Score the stored samples with one metric, per model (or another column)."""
    from homogeny.errors import HomogenyError
    from homogeny.metrics.scoring import score_texts
    from homogeny.store import SAMPLE_COLUMNS, Store

    if by not in SAMPLE_COLUMNS:
        raise HomogenyError(f"--by {by!r} is not a sample column; use one of model_id, prompt_id, temperature, ...")
    with Store.open(store) as st:
        rows = st.query(f"SELECT text, prompt_id, {by} FROM samples" if by != "prompt_id" else "SELECT text, prompt_id FROM samples")
        if not rows:
            raise HomogenyError(f"store {store!r} has no samples; run `homogeny generate` first")
        # per prompt, then averaged with a bootstrap interval over prompts
        unit = "prompt_id" if by != "prompt_id" else None
        result = score_texts(rows, metric, by=by, unit=unit, store=st)
    _print_scores(result, as_json)


def _print_scores(result: dict[str, Any], as_json: bool) -> None:
    if as_json:
        print(json.dumps(result, indent=2, default=str))
        return
    from rich.console import Console
    from rich.table import Table

    groups = result.get("groups", result)
    table = Table(title=str(result.get("metric", "score")))
    for col in ("group", "value", "ci_low", "ci_high", "n"):
        table.add_column(col)
    if isinstance(groups, dict):
        for name, g in groups.items():
            if isinstance(g, dict):
                table.add_row(str(name), _fmt(g.get("value")), _fmt(g.get("ci_low")), _fmt(g.get("ci_high")), str(g.get("n", "")))
    Console().print(table)


def _fmt(x: Any) -> str:
    return f"{x:.4f}" if isinstance(x, (int, float)) else ("-" if x is None else str(x))


@app.command()
def run(
    claim: Annotated[str, typer.Argument(help="c1 .. c7")],
    # the paper's own form, `--pairs LOW.txt HIGH.txt`, leaves HIGH.txt here
    pair_tail: Annotated[list[Path] | None, typer.Argument(hidden=True)] = None,
    models_: ModelsOpt = None,
    quick: Annotated[bool, typer.Option("--quick", help="Fewer prompts and samples, same code path.")] = False,
    seed: Annotated[int, typer.Option("--seed")] = 0,
    store: StoreOpt = "homogeny.duckdb",
    pairs: Annotated[list[Path] | None, typer.Option("--pairs", help="c1: aligned LOW.txt and HIGH.txt files: --pairs LOW.txt HIGH.txt (or --pairs twice).")] = None,
    executor: Annotated[str, typer.Option("--executor")] = "local",
    ray_address: Annotated[str | None, typer.Option("--ray-address")] = None,
) -> None:
    """Run one claim's experiment and print its evidence rows."""
    from homogeny.errors import ParameterError
    from homogeny.experiments.registry import run_claims

    options: dict[str, Any] = {}
    if pair_tail and not pairs:
        raise ParameterError(f"unexpected argument {str(pair_tail[0])!r}: `homogeny run` takes one claim (c1 .. c7)")
    pairs = [*(pairs or []), *(pair_tail or [])]
    if pairs:
        if len(pairs) != 2:
            raise ParameterError("--pairs needs two files: --pairs LOW.txt HIGH.txt")
        if claim.strip().lower() != "c1":
            raise ParameterError(f"--pairs is an input of c1 (Adam's Law pairs), not of {claim!r}; drop it or run c1")
        from homogeny.suites.files import read_pairs

        read_pairs(*pairs)  # a missing or misaligned file fails now, not after C1's other parts
        options["pairs"] = [str(p) for p in pairs]
    evidence = run_claims([claim], _split_models(models_), store, quick=quick, seed=seed, executor=executor, ray_address=ray_address, options=options)
    _print_evidence(evidence)


def _print_evidence(rows: list[Any]) -> None:
    from rich.console import Console
    from rich.table import Table

    table = Table(title="evidence", show_lines=False)
    for col in ("claim", "metric", "effect", "95% CI", "n", "verdict"):
        table.add_column(col)
    for e in rows:
        colour = {"supported": "green", "contradicted": "red"}.get(e.verdict, "white")
        table.add_row(e.claim, e.metric, f"{e.effect:.4f}", f"[{e.ci_low:.4f}, {e.ci_high:.4f}]", str(e.n), f"[{colour}]{e.verdict}[/]")
    console = Console()
    console.print(table)
    rules = sorted({e.rule for e in rows})
    for r in rules:
        console.print(f"rule: {r}")


@app.command()
def audit(
    models_: ModelsOpt = None,
    claims: Annotated[str | None, typer.Option("--claims", help="Comma-separated claims (default: c1..c7).")] = None,
    quick: Annotated[bool, typer.Option("--quick")] = False,
    seed: Annotated[int, typer.Option("--seed")] = 0,
    store: StoreOpt = "homogeny.duckdb",
    out: Annotated[Path, typer.Option("--out", help="Folder for report.html and evidence.json.")] = Path("homogeny-report"),
    executor: Annotated[str, typer.Option("--executor")] = "local",
    ray_address: Annotated[str | None, typer.Option("--ray-address")] = None,
) -> None:
    """Run every claim, decompose convergence by stage, test counter-pressures, write the report."""
    from homogeny.audit import run_audit

    chosen = [c.strip().lower() for c in claims.split(",")] if claims else None
    html = run_audit(_split_models(models_), store, out, claims=chosen, quick=quick, seed=seed, executor=executor, ray_address=ray_address)
    print(f"report: {html}")


@app.command()
def report(
    store: StoreOpt = "homogeny.duckdb",
    out: Annotated[Path, typer.Option("--out", help="report.html path or a folder.")] = Path("homogeny-report"),
) -> None:
    """Rebuild the report from the store alone (no model is called)."""
    from homogeny.report.build import build_report
    from homogeny.store import Store

    with Store.open(store, read_only=True) as st:
        html = build_report(st, out)  # a .html path is the page itself; never another file
    print(f"report: {html}")


def main() -> None:
    """Entry point: run the app, turning user errors into one line and exit code 2."""
    from homogeny.errors import HomogenyError

    try:
        app(standalone_mode=False)
    except HomogenyError as exc:
        print(f"homogeny: error: {exc}", file=sys.stderr)
        sys.exit(2)
    except KeyboardInterrupt:
        print("homogeny: interrupted; everything finished so far is stored, rerun the same command to resume", file=sys.stderr)
        sys.exit(130)
    except typer.Exit as exc:
        sys.exit(exc.exit_code)
    except typer.Abort:
        sys.exit(130)
    except Exception as exc:  # click usage errors come through here in non-standalone mode
        import click

        if isinstance(exc, click.ClickException):
            exc.show()
            sys.exit(2)
        raise


if __name__ == "__main__":
    main()
