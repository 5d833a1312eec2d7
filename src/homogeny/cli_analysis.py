"""The `homogeny` commands that score texts and run claims: score, metrics, run, audit.

They are plain functions; homogeny.cli registers them on the app. Each imports what it needs
only when it runs, and checks its input before any store is opened.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer

from homogeny.cli_common import (
    ExecutorOpt,
    ModelsOpt,
    RayAddressOpt,
    ReportOutOpt,
    StoreOpt,
    check_environment,
    check_work,
    split_models,
)

MetricOpt = Annotated[
    str, typer.Option("--metric", "-m", help="Metric name (see docs/metrics.md).")
]
JsonOpt = Annotated[bool, typer.Option("--json", help="Print JSON.")]
QuickOpt = Annotated[
    bool, typer.Option("--quick", help="Fewer prompts and samples, same code path.")
]
PairOpt = Annotated[
    str | None,
    typer.Option(
        "--pair",
        help="T: a same-checkpoint pair BASE_SPEC,TUNED_SPEC (e.g. a base model and its "
        "instruct version) that identifies the post-training weights stage.",
    ),
]
ProtocolOpt = Annotated[
    str | None,
    typer.Option(
        "--protocol",
        help="c4: a published measurement protocol to run as well; srt = K 8, top-p 0.9, "
        "T 1, 48 tokens, MiniLM, 20,000-pair floor (docs/audit.md).",
    ),
]
PROTOCOLS = ("srt",)


def score(
    file: Annotated[Path, typer.Argument(help="JSONL with a `text` field per line.")],
    metric: MetricOpt = "homogenization_rougel",
    by: Annotated[str | None, typer.Option("--by", help="Group by this field.")] = None,
    as_json: JsonOpt = False,
) -> None:
    """Score any JSONL of texts with one metric, optionally per group."""
    from homogeny.metrics.scoring import read_text_jsonl, score_texts

    check_environment()
    result = score_texts(read_text_jsonl(file), metric, by=by)
    print_scores(result, as_json)


def metrics(
    store: StoreOpt = "homogeny.duckdb",
    metric: MetricOpt = "homogenization_rougel",
    by: Annotated[str, typer.Option("--by", help="Group samples by this column.")] = "model_id",
    as_json: JsonOpt = False,
) -> None:
    """Score the stored samples with one metric, per model (or another column)."""
    from homogeny.errors import HomogenyError
    from homogeny.store import SAMPLE_COLUMNS, Store

    if by not in SAMPLE_COLUMNS:
        raise HomogenyError(
            f"--by {by!r} is not a sample column; use one of model_id, prompt_id, temperature, ..."
        )
    from homogeny.metrics.scoring import score_texts

    check_environment()
    if metric == "distinct":  # NoveltyBench's classes on imported partitions (not on texts)
        from homogeny.importing.distinct import score_partitions

        with Store.open(store, read_only=True) as st:
            return print_scores(score_partitions(st, by), as_json)
    with Store.open(store) as st:
        rows = st.sample_texts(by)
        if not rows:
            raise HomogenyError(f"store {store!r} has no samples; run `homogeny generate` first")
        # per prompt, then averaged with a bootstrap interval over prompts
        unit = "prompt_id" if by != "prompt_id" else None
        result = score_texts(rows, metric, by=by, unit=unit, store=st)
    print_scores(result, as_json)


def print_scores(result: dict[str, Any], as_json: bool) -> None:
    """Print a scoring result as JSON or as a table of groups."""
    if as_json:
        import json

        print(json.dumps(result, indent=2, default=str))
        return
    from rich.console import Console
    from rich.markup import escape
    from rich.table import Table

    groups = result.get("groups", result)
    table = Table(title=str(result.get("metric", "score")))
    for col in ("group", "value", "ci_low", "ci_high", "n"):
        table.add_column(col)
    if isinstance(groups, dict):
        for name, g in groups.items():
            if isinstance(g, dict):
                cells = (g.get("value"), g.get("ci_low"), g.get("ci_high"))
                label = escape(str(name))  # `imported:NAME[ARM]` is not rich markup
                table.add_row(label, *map(_fmt, cells), str(g.get("n", "")))
    Console().print(table)


def _fmt(x: Any) -> str:
    return f"{x:.4f}" if isinstance(x, (int, float)) else ("-" if x is None else str(x))


def _pair_options(claim: str, pairs: list[Path], pair_tail: list[Path]) -> dict[str, Any]:
    """`run c1 --pairs LOW.txt HIGH.txt` (or --pairs twice): both files read and checked now,
    not after C1's other parts."""
    from homogeny.errors import ParameterError

    if pair_tail and not pairs:
        raise ParameterError(
            f"unexpected argument {str(pair_tail[0])!r}: `homogeny run` takes one claim (c1 .. c7)"
        )
    pairs = [*pairs, *pair_tail]
    if not pairs:
        return {}
    if len(pairs) != 2:
        raise ParameterError("--pairs needs two files: --pairs LOW.txt HIGH.txt")
    if claim.strip().lower() != "c1":
        raise ParameterError(
            f"--pairs is an input of c1 (Adam's Law pairs), not of {claim!r}; drop it or run c1"
        )
    from homogeny.suites.files import read_pairs

    read_pairs(*pairs)
    return {"pairs": [str(p) for p in pairs]}


def claim_flag_options(claims: list[str], pair: str | None, protocol: str | None) -> dict:
    """Per-claim plan options from --pair (claim T) and --protocol (claim c4), checked now:
    a flag for a claim that is not in the run is a user error, not silently dropped."""
    from homogeny.errors import ParameterError

    options: dict[str, dict[str, Any]] = {}
    wanted = {"T": pair, "c4": protocol}
    flags = {"T": "--pair", "c4": "--protocol"}
    for claim, value in wanted.items():
        if value is None:
            continue
        if claim.lower() not in [c.lower() for c in claims]:
            raise ParameterError(
                f"{flags[claim]} is an input of claim {claim}, which this run leaves out; "
                f"drop {flags[claim]} or include {claim}"
            )
        options[claim] = _flag_value(claim, value)
    return options


def _flag_value(claim: str, value: str) -> dict[str, Any]:
    from homogeny.errors import ParameterError

    if claim == "c4":
        if value.strip().lower() not in PROTOCOLS:
            raise ParameterError(
                f"--protocol {value!r} is not a known protocol; use one of {', '.join(PROTOCOLS)}"
            )
        return {"protocol": value.strip().lower()}
    specs = [s.strip() for s in value.split(",") if s.strip()]
    if len(specs) != 2:
        raise ParameterError(f"--pair {value!r} needs two model specs: --pair BASE_SPEC,TUNED_SPEC")
    from homogeny.models import model_info

    for spec in specs:
        model_info(spec)  # a bad spec fails here, before any work
    return {"pair": ",".join(specs)}


def run(
    claim: Annotated[str, typer.Argument(help="c1 .. c7, or T (stages and counter-pressures)")],
    # the paper's own form, `--pairs LOW.txt HIGH.txt`, leaves HIGH.txt here
    pair_tail: Annotated[list[Path] | None, typer.Argument(hidden=True)] = None,
    models_: ModelsOpt = None,
    quick: QuickOpt = False,
    seed: Annotated[int, typer.Option("--seed")] = 0,
    store: StoreOpt = "homogeny.duckdb",
    pairs: Annotated[
        list[Path] | None,
        typer.Option(
            "--pairs",
            help="c1: aligned LOW.txt and HIGH.txt files: --pairs LOW.txt HIGH.txt (or twice).",
        ),
    ] = None,
    pair: PairOpt = None,
    protocol: ProtocolOpt = None,
    executor: ExecutorOpt = "local",
    ray_address: RayAddressOpt = None,
) -> None:
    """Run one claim's experiment and print its evidence rows."""
    from homogeny.experiments.registry import run_claims

    options = _pair_options(claim, pairs or [], pair_tail or [])
    for per_claim in claim_flag_options([claim.strip()], pair, protocol).values():
        options.update(per_claim)
    models = split_models(models_)
    check_work(executor, models)
    evidence = run_claims(
        [claim], models, store, quick=quick, seed=seed, executor=executor,
        ray_address=ray_address, options=options,
    )  # fmt: skip
    print_evidence(evidence)


def print_evidence(rows: list[Any]) -> None:
    """Print evidence rows as a table, then the rules that decided them."""
    from rich.console import Console
    from rich.table import Table

    table = Table(title="evidence", show_lines=False)
    for col in ("claim", "metric", "effect", "95% CI", "n", "verdict"):
        table.add_column(col)
    for e in rows:
        colour = {"supported": "green", "contradicted": "red"}.get(e.verdict, "white")
        interval = f"[{e.ci_low:.4f}, {e.ci_high:.4f}]"
        verdict = f"[{colour}]{e.verdict}[/]"
        table.add_row(e.claim, e.metric, f"{e.effect:.4f}", interval, str(e.n), verdict)
    console = Console()
    console.print(table)
    for r in sorted({e.rule for e in rows}):
        console.print(f"rule: {r}")


def audit(
    models_: ModelsOpt = None,
    claims: Annotated[
        str | None, typer.Option("--claims", help="Comma-separated claims (default: c1..c7).")
    ] = None,
    quick: QuickOpt = False,
    seed: Annotated[int, typer.Option("--seed")] = 0,
    store: StoreOpt = "homogeny.duckdb",
    out: ReportOutOpt = Path("homogeny-report"),
    executor: ExecutorOpt = "local",
    ray_address: RayAddressOpt = None,
    generations: Annotated[
        list[Path] | None,
        typer.Option(
            "--generations",
            help="Generations made elsewhere (NoveltyBench or JSONL files or folders; repeat "
            "for more), imported into --store first; their imported:NAME models join the run.",
        ),
    ] = None,
    pair: PairOpt = None,
    protocol: ProtocolOpt = None,
) -> None:
    """Run every claim, decompose convergence by stage, test counter-pressures, write the report."""
    from homogeny.audit import run_audit
    from homogeny.experiments.claims import CLAIM_IDS

    chosen = [c.strip().lower() for c in claims.split(",")] if claims else None
    options = claim_flag_options([*(chosen or CLAIM_IDS), "T"], pair, protocol)  # T always runs
    models = split_models(models_)
    check_work(executor, models)
    if generations:  # every file is checked before the store opens (bad line: exit 2)
        from homogeny.audit_imported import audit_models, import_generations

        import_generations(generations, store)
        models = audit_models(models, store)
    html = run_audit(
        models, store, out, claims=chosen, quick=quick, seed=seed, executor=executor,
        ray_address=ray_address, options=options,
    )  # fmt: skip
    print(f"report: {html}")
    _fail_on_audit_errors(store)


def _fail_on_audit_errors(store: str) -> None:
    """Exit 1 naming the claims that failed (the audit records them and goes on)."""
    from homogeny.cli_exit import work_failed
    from homogeny.store import Store

    with Store.open(store, read_only=True) as st:
        errors = st.artifact("audit", "errors") or []
    if errors:
        named = "; ".join(f"{e['claim']}: {e['error']}" for e in errors)
        work_failed(
            f"{len(errors)} claim(s) failed ({named}); rerun the same command to retry them"
        )
