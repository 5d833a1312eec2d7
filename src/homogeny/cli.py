"""The `homogeny` command line. Each command imports what it needs only when it runs.

Exit codes (README, "Exit codes"; homogeny.cli_exit): 0 success, 1 some work failed (named),
2 user error (one line, never a traceback), 130 interrupted (rerun to resume).
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Annotated, Any

import typer

from homogeny import cli_analysis, cli_import
from homogeny.cli_common import ExecutorOpt, RayAddressOpt, SeedOpt, StoreOpt, check_work

app = typer.Typer(
    add_completion=False,
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    help="Measure why outputs of different language models converge, stage by stage.",
)
Float = Annotated[float, typer.Option()]


@app.command()
def models(
    as_json: Annotated[bool, typer.Option("--json", help="Print a JSON list.")] = False,
) -> None:
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
        cells = (r["id"], r["family"], r["params"], r["kind"], r["quantization"], size)
        table.add_row(*map(str, cells), "yes" if r["installed"] else "no", ok)
    Console().print(table)


@app.command()
def generate(
    model: Annotated[
        str, typer.Option("--model", help="zoo:ID, gguf:PATH, hf:PATH or openai:URL#MODEL")
    ],
    prompts: Annotated[
        Path,
        typer.Option("--prompts", help="JSONL ({id, prompt|messages}) or text, one prompt a line."),
    ],
    samples: Annotated[int, typer.Option("--samples", "-k", help="Samples per prompt.")] = 4,
    temperature: Float = 1.0,
    top_p: Float = 1.0,
    min_p: Float = 0.0,
    top_k: Annotated[int, typer.Option("--top-k", help="0 = no top-k cut.")] = 0,
    max_tokens: Annotated[int, typer.Option("--max-tokens")] = 128,
    seed: SeedOpt = 0,
    chat: Annotated[
        bool | None,
        typer.Option(
            "--chat/--raw",
            help="Chat template or raw completion (default: chat for instruct, raw for base).",
        ),
    ] = None,
    store: StoreOpt = "homogeny.duckdb",
    executor: ExecutorOpt = "local",
    ray_address: RayAddressOpt = None,
    quiet: Annotated[bool, typer.Option("--quiet", "-q")] = False,
    verbose: Annotated[
        bool, typer.Option("--verbose", "-v", help="Log each stored batch on stderr.")
    ] = False,
) -> None:
    """Sample K continuations of every prompt; cached by key, resumable after any stop."""
    from homogeny.errors import ParameterError
    from homogeny.models import model_info
    from homogeny.models.params import SamplingParams, check_range
    from homogeny.suites.files import read_prompt_file

    if verbose:
        import logging

        logging.basicConfig(level=logging.INFO, format="%(name)s: %(message)s", stream=sys.stderr)
    check_range("samples", samples, 1, 100_000)
    if seed < 0:
        raise ParameterError(f"--seed {seed} is out of range; it must be >= 0")
    params = SamplingParams(
        temperature=temperature, top_p=top_p, min_p=min_p, top_k=top_k, max_tokens=max_tokens,
        chat=chat,
    )  # fmt: skip
    check_work(executor, [model])
    items = read_prompt_file(prompts)
    model_info(model)  # a bad or missing model file fails now, before the store is opened
    settings = {"prompts": str(prompts), "samples": samples, "seed": seed}
    summary = _generate_in_store(
        store, model, items, settings, params, quiet, executor, ray_address
    )
    print(
        f"{summary.model_id}: {summary.requested} samples requested, {summary.cached} cached, "
        f"{summary.generated} generated ({summary.tokens} tokens, "
        f"{summary.tokens_per_second:.1f} tok/s)"
        + (f", {summary.failed} failed" if summary.failed else "")
    )
    if summary.failed:
        from homogeny.cli_exit import work_failed

        work_failed(
            f"{summary.failed} of {summary.requested} samples failed "
            f"({_name_errors(summary.errors)}); rerun the same command to retry them"
        )


def _generate_in_store(
    store: str, model: str, items: list[Any], settings: dict[str, Any], params: Any,
    quiet: bool, executor: str, ray_address: str | None,
) -> Any:  # fmt: skip
    """Run the engine inside one recorded run; the run is `interrupted` if anything stops it."""
    from homogeny.generate.engine import generate as run_generation
    from homogeny.models import parse_spec
    from homogeny.store import Store

    args = {"model": str(parse_spec(model)), **settings, "params": params.canonical()}
    with Store.open(store) as st:
        st.begin_run("generate", args)
        try:
            summary = run_generation(
                model, items, settings["samples"], st, params, seed=settings["seed"],
                progress=not quiet, executor=executor, ray_address=ray_address,
            )  # fmt: skip
            # inside the try: a stop landing while "done" is written still marks the run
            st.finish_run("done" if not summary.failed else "partial")
        except BaseException:
            st.finish_run("interrupted")
            raise
    return summary


def _name_errors(errors: list[str], most: int = 3) -> str:
    """The distinct error messages, most frequent first, at most `most` of them."""
    from collections import Counter

    counted = Counter(errors).most_common()
    named = [f"{n}x {e}" if n > 1 else e for e, n in counted[:most]]
    more = f"; and {len(counted) - most} other errors" if len(counted) > most else ""
    return "; ".join(named) + more


@app.command()
def export(
    store: StoreOpt = "homogeny.duckdb",
    fmt: Annotated[str, typer.Option("--format", help="jsonl or parquet")] = "jsonl",
    out: Annotated[Path, typer.Option("--out", help="Folder for one file per table.")] = Path(
        "homogeny-export"
    ),
) -> None:
    """Write every table of the store to OUT, one file per table."""
    from homogeny.store import Store

    with Store.open(store, read_only=True) as st:
        paths = st.export(out, fmt)
    for p in paths:
        print(p)


app.command()(cli_analysis.score)
app.command("metrics")(cli_analysis.metrics)
app.command()(cli_analysis.run)
app.command()(cli_analysis.audit)
app.command("import")(cli_import.import_generations)


@app.command()
def report(
    store: StoreOpt = "homogeny.duckdb",
    out: Annotated[Path, typer.Option("--out", help="report.html path or a folder.")] = Path(
        "homogeny-report"
    ),
) -> None:
    """Rebuild the report from the store alone (no model is called)."""
    from homogeny.report.build import build_report
    from homogeny.store import Store

    with Store.open(store, read_only=True) as st:
        html = build_report(st, out)  # a .html path: the page, evidence.json beside it
    print(f"report: {html}")


def main() -> None:
    """Entry point: run the app and exit with its code (0, 1, 2 or 130; see cli_exit)."""
    from homogeny.cli_exit import run

    sys.exit(run(app))


if __name__ == "__main__":
    main()
