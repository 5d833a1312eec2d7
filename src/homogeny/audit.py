"""`homogeny audit`: every claim's experiment, the stage decomposition and counter-pressures
(claim T), then one report, all against one store.

Everything generated goes through the cached engine, so a stopped audit resumes: Ctrl-C
stops after the current stored transaction and the rerun regenerates nothing already made.
A claim whose last completed run used the same models, size and seed is not run again
(unless `force`). A claim that fails with an unexpected error is logged, recorded in the
store (artifact ("audit", "errors")) and reported, and the audit goes on with the others;
a user error (HomogenyError) or an interrupt stops the audit.
"""

from __future__ import annotations

import json
import time
import traceback
from collections.abc import Callable
from pathlib import Path
from typing import Any, Self

from homogeny.errors import HomogenyError, did_you_mean
from homogeny.experiments.base import Evidence, ExperimentContext
from homogeny.experiments.claims import CLAIM_IDS as CLAIMS
from homogeny.experiments.claims import THESIS as THESIS_INFO
from homogeny.store import Store

THESIS = THESIS_INFO.id
# Rough seconds per stage on 2 CPU cores with the three default models, used only to weigh
# the stages in the overall ETA (which rescales by how fast the finished stages went).
ESTIMATED_SECONDS = {True: {"c": 75.0, THESIS: 120.0}, False: {"c": 600.0, THESIS: 900.0}}


def chosen_claims(claims: list[str] | None) -> list[str]:
    """The claims to run, in order: c1..c7 by default; T (the decomposition and
    counter-pressures) always runs last. Unknown names are one clear error."""
    if not claims:
        return [*CLAIMS, THESIS]
    picked = []
    for raw in claims:
        name = raw.strip().lower()
        if name == THESIS.lower():
            continue
        if name not in CLAIMS:
            raise HomogenyError(
                f"unknown claim {raw!r}{did_you_mean(name, [*CLAIMS, 't'])}; "
                f"use some of {', '.join(CLAIMS)}, T"
            )
        if name not in picked:
            picked.append(name)
    return [c for c in CLAIMS if c in picked] + [THESIS]


def settings(ctx: ExperimentContext) -> dict[str, Any]:
    """What decides a claim's evidence: the same settings give the same evidence."""
    from homogeny.models import redact  # credentials in a URL are never stored

    return {
        "models": [redact(m) for m in ctx.models],
        "quick": bool(ctx.quick),
        "seed": int(ctx.seed),
        "options": ctx.options,
    }


def completed(store: Store, claim: str, ctx: ExperimentContext) -> bool:
    """True when the claim's latest finished run used these settings and its evidence is
    stored (then rerunning would regenerate nothing and measure the same)."""
    args = store.latest_done_settings([f"audit {claim}", f"run {claim}", f"run {claim.lower()}"])
    if args is None or not store.evidence(claim):
        return False
    wanted = json.loads(json.dumps(settings(ctx), default=str, sort_keys=True))
    return all(args.get(k) == v for k, v in wanted.items())


def run_thesis(store: Store, ctx: ExperimentContext) -> list[Evidence]:
    """Claim T in its own runs row: stage decomposition, then counter-pressures."""
    from homogeny.audit_imported import run_claim  # texts-only models: not testable rows
    from homogeny.experiments.thesis import Thesis

    return run_claim(store, THESIS, ctx, settings(ctx), exp=Thesis())


def run_audit(
    models: list[str],
    store_path: str,
    out: Path,
    claims: list[str] | None = None,
    quick: bool = False,
    seed: int = 0,
    executor: str = "local",
    ray_address: str | None = None,
    force: bool = False,
    options: dict[str, Any] | None = None,
    log: Callable[[str], None] | None = None,
) -> Path:
    """Run the audit and write OUT/report.html and OUT/evidence.json; return the page's path."""
    from homogeny.models import model_info, redact

    order = chosen_claims(claims)
    if not models:
        raise HomogenyError(
            "no models to audit: install the embedded models (pip install 'homogeny[models]') "
            "or pass --models"
        )
    for spec in models:
        model_info(spec)  # a bad model spec fails here, before any work
    out = Path(out)
    if out.suffix == ".html":
        raise HomogenyError(
            f"--out {str(out)!r} must be a folder; report.html and evidence.json are written "
            "into it"
        )
    try:
        out.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise HomogenyError(
            f"cannot create report folder {str(out)!r}: {exc.strerror}; choose another --out"
        ) from None
    import rich

    console = (
        rich.get_console()
    )  # the engine's progress bars nest under this console's live display
    say = log or (lambda m: console.print(f"[dim]{m}[/]"))
    with Store.open(store_path) as store:
        ctx = ExperimentContext(
            store=store,
            models=list(models),
            quick=quick,
            seed=seed,
            executor=executor,
            ray_address=ray_address,
            options=options or {},
            log=say,
        )
        errors = run_stages(store, ctx, order, force=force, console=console)
        store.put_artifact(
            "audit",
            "summary",
            {
                "claims": order,
                "models": [redact(m) for m in models],
                "quick": quick,
                "seed": seed,
                "failed": [e["claim"] for e in errors],
                "finished_at": time.time(),
            },
        )
        from homogeny.report.build import build_report

        return build_report(store, out)


def run_stages(
    store: Store, ctx: ExperimentContext, order: list[str], force: bool = False, console: Any = None
) -> list[dict[str, Any]]:
    """Run the stages in `order` (claims c1..c7, and T) with a top-level progress bar; skip
    those already completed with these settings; record unexpected failures in the artifact
    ("audit", "errors") and go on. User errors and interrupts propagate. Returns the failures."""
    from homogeny.audit_imported import run_claim

    if console is None:
        import rich

        console = rich.get_console()
    errors: list[dict[str, Any]] = []
    store.put_artifact("audit", "errors", errors)
    with StageProgress(order, bool(ctx.quick), console) as progress:
        for claim in order:
            if not force and completed(store, claim, ctx):
                ctx.log(f"{claim}: evidence for these settings is stored; skipped (force to rerun)")
                progress.skip(claim)
                continue
            progress.start(claim)
            try:
                if claim == THESIS:
                    run_thesis(store, ctx)
                else:
                    run_claim(
                        store, claim, ctx, settings(ctx)
                    )  # imported: where the claim reads them
            except HomogenyError:
                raise
            except Exception as exc:  # noqa: BLE001 - one broken experiment must not sink the audit
                errors.append(error_record(claim, exc))
                store.put_artifact("audit", "errors", errors)
                console.print(
                    f"[red]{claim} failed: {type(exc).__name__}: {exc}[/] "
                    "(recorded; the audit goes on)"
                )
            progress.finish(claim)
    return errors


def error_record(claim: str, exc: BaseException) -> dict[str, Any]:
    """What the report shows for a failed claim: the error and the end of its traceback."""
    tb = traceback.format_exception(type(exc), exc, exc.__traceback__)
    return {
        "claim": claim,
        "error": f"{type(exc).__name__}: {exc}",
        "traceback": "".join(tb)[-4000:],
        "at": time.time(),
    }


class StageProgress:
    """A top-level rich progress bar over the audit's stages with elapsed time and an ETA.

    Stages are weighed by their expected durations; the ETA rescales what remains by how
    long the stages run so far took against their estimates, and counts down while a stage
    runs. The engine's generation bars nest under it (same console)."""

    def __init__(self, stages: list[str], quick: bool, console: Any) -> None:
        est = ESTIMATED_SECONDS[quick]
        self.weights = {s: est[THESIS] if s == THESIS else est["c"] for s in stages}
        self.console = console
        self.spent = 0.0  # seconds taken by the stages that actually ran
        self.expected = 0.0  # their estimates
        self.began: float | None = None  # start of the running stage
        self.count = 0
        self._bar: Any = None
        self._task: Any = None

    def eta_seconds(self) -> float:
        """Seconds the remaining stages should take at the pace seen so far."""
        remaining = sum(self.weights.values()) - float(self._bar.tasks[0].completed)
        pace = self.spent / self.expected if self.expected else 1.0
        running = time.time() - self.began if self.began is not None else 0.0
        return max(0.0, remaining * pace - running)

    def __enter__(self) -> Self:
        from rich.progress import BarColumn, Progress, ProgressColumn, TextColumn, TimeElapsedColumn
        from rich.text import Text

        owner = self

        class EtaColumn(ProgressColumn):
            def render(self, task: Any) -> Text:
                return Text("ETA " + time.strftime("%H:%M:%S", time.gmtime(owner.eta_seconds())))

        self._bar = Progress(
            TextColumn("[bold]audit[/] {task.description}"),
            BarColumn(),
            TextColumn("{task.fields[done]}"),
            TimeElapsedColumn(),
            EtaColumn(),
            console=self.console,
            transient=False,
        )
        self._bar.start()
        self._task = self._bar.add_task(
            "", total=sum(self.weights.values()), done=f"0/{len(self.weights)} stages"
        )
        return self

    def __exit__(self, *exc: object) -> None:
        if self._bar is not None:
            self._bar.stop()

    def start(self, stage: str) -> None:
        self.began = time.time()
        self._bar.update(self._task, description=f"{stage} ({self.count + 1}/{len(self.weights)})")

    def skip(self, stage: str) -> None:
        self._advance(stage)

    def finish(self, stage: str) -> None:
        if self.began is not None:
            self.spent += time.time() - self.began
            self.expected += self.weights[stage]
        self.began = None
        self._advance(stage)

    def _advance(self, stage: str) -> None:
        self.count += 1
        self._bar.update(
            self._task, advance=self.weights[stage], done=f"{self.count}/{len(self.weights)} stages"
        )
