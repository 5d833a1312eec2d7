"""C2's toy runs: pretrain each size once per pretraining seed (cached on disk), then GRPO it
per RL seed without and with a KL penalty, and summarise every run."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterator
from contextlib import AbstractContextManager
from dataclasses import asdict, replace
from pathlib import Path
from typing import Any

from homogeny.experiments.c2_training.plan import C2Plan
from homogeny.toy.arithmetic import ALPHABET, FORMATS, make_problems, pretraining_corpus
from homogeny.toy.checkpoints import checkpoint_dir
from homogeny.toy.gpt import (
    GPT,
    SIZES,
    CharTokenizer,
    GPTConfig,
    load_checkpoint,
    save_checkpoint,
    train_lm,
)
from homogeny.toy.rl import RLResult, rl_finetune

CLAIM = "c2"


def _checkpoint_dir(ctx: Any) -> AbstractContextManager[Path]:
    """C2's checkpoint folder (homogeny.toy.checkpoints; a temporary one for ':memory:')."""
    return checkpoint_dir(ctx, CLAIM)


def _key(plan: C2Plan, size: str, texts: list[str]) -> str:
    """Hash of what determines a pretrained model (shape, pretraining settings, the corpus
    itself), so a changed setting or task generator never reuses a stale checkpoint."""
    corpus = hashlib.sha256("\x00".join(texts).encode()).hexdigest()
    payload = {"size": SIZES[size], "settings": plan.pretrain_settings(), "corpus": corpus}
    return hashlib.sha256(json.dumps(payload, sort_keys=True).encode()).hexdigest()[:10]


def _stored(folder: Path, plan: C2Plan, size: str, seed: int) -> tuple[list[str], str, Path]:
    """(corpus, key, checkpoint stem) of `size` pretrained with `seed`."""
    texts = pretraining_corpus(
        plan.corpus_docs, dict(plan.mix), seed=seed, max_operand=plan.max_operand
    )
    key = _key(plan, size, texts)
    return texts, key, folder / f"pretrain-{size}-seed{seed}-{key}"


def _files(stem: Path) -> tuple[Path, Path]:
    """(weights, loss curve) of a pretrained checkpoint."""
    return stem.with_suffix(".safetensors"), stem.with_suffix(".curve.json")


def _is_stored(stem: Path) -> bool:
    return all(f.exists() for f in _files(stem))


def pretrained(
    folder: Path, tok: CharTokenizer, plan: C2Plan, size: str, seed: int, log: Any
) -> tuple[Path, list[float], str]:
    """The checkpoint of `size` pretrained with `seed` (corpus draw, initial weights and batch
    order) on the mixed-format corpus, trained now or reused; returns its path, its loss curve
    and its key."""
    texts, key, stem = _stored(folder, plan, size, seed)
    path, curve_path = _files(stem)
    if _is_stored(stem):
        return path, json.loads(curve_path.read_text()), key
    log(f"c2: pretraining {size}, seed {seed} ({plan.pretrain_steps} steps)")
    shape = GPTConfig(
        vocab_size=tok.vocab_size, block_size=plan.block_size, init_seed=seed, **SIZES[size]
    )
    model = GPT(shape)
    curve = train_lm(
        model, tok, texts, plan.pretrain_steps, plan.pretrain_batch, plan.pretrain_lr, seed
    )
    save_checkpoint(model, path, tok)
    curve_path.write_text(json.dumps(curve))
    return path, curve, key


def _pretrain_job(folder: Path, plan: C2Plan, size: str, seed: int) -> None:
    """One pretraining in a worker process (toy.parallel); the checkpoint is its result."""
    pretrained(folder, CharTokenizer(ALPHABET), plan, size, seed, log=lambda m: None)


def pretrain_missing(ctx: Any, folder: Path, plan: C2Plan) -> None:
    """Pretrain every checkpoint not stored yet, one process per core when there are several
    (each seed is independent and single-threaded, so the weights are the same as trained one
    after another); with one core the main loop trains them in turn."""
    from homogeny.toy.parallel import run_jobs, workers_for

    jobs = [
        (folder, plan, size, p)
        for size, p in pretrained_models(plan, ctx.seed)
        if not _is_stored(_stored(folder, plan, size, p)[2])
    ]
    workers = workers_for(len(jobs))
    if workers > 1:
        sizes = ", ".join(dict.fromkeys(j[2] for j in jobs))
        ctx.log(f"c2: pretraining {len(jobs)} models ({sizes}) in {workers} processes")
        run_jobs(_pretrain_job, jobs, plan.torch_threads)


def rl_checkpoint(folder: Path, size: str, rl_seed: int, kl: float, key: str) -> Path:
    """Where an RL run is saved: its size, RL seed, KL and the key of the pretrained model."""
    return folder / f"rl-{size}-seed{rl_seed}-kl{kl:g}-{key}.safetensors"


def pretrained_models(plan: C2Plan, seed: int) -> Iterator[tuple[str, int]]:
    """(size, pretraining seed) of every independently pretrained model, in run order."""
    for size in plan.sizes:
        for j in range(plan.pretrain_seeds):
            yield size, seed + j


def toy_runs(ctx: Any, plan: C2Plan) -> list[dict[str, Any]]:
    """Every RL run's summary; pretraining curves, run logs and the plan go to artifacts."""
    tok = CharTokenizer(ALPHABET)
    rl_set = make_problems(plan.rl_prompts, seed=ctx.seed + 1, max_operand=plan.max_operand)
    eval_set = make_problems(plan.eval_prompts, seed=ctx.seed + 2, max_operand=plan.max_operand)
    runs: list[dict[str, Any]] = []
    curves: dict[str, dict[str, list[float]]] = {}
    with _checkpoint_dir(ctx) as folder:
        pretrain_missing(ctx, folder, plan)
        jobs = []
        for size, p in pretrained_models(plan, ctx.seed):
            path, curve, key = pretrained(folder, tok, plan, size, p, ctx.log)
            curves.setdefault(size, {})[f"seed{p}"] = curve
            for r in range(ctx.seed, ctx.seed + plan.rl_seeds):
                for kl in dict.fromkeys((0.0, plan.kl_coef)):
                    jobs.append(((folder, path, key), (rl_set, eval_set), plan, (size, p, r, kl)))
        for job, result in zip(jobs, rl_runs(ctx, jobs, plan)):
            size, p, r, kl = job[3]
            ctx.artifact(CLAIM, f"rl_log/{size}/pretrain{p}/seed{r}/kl{kl:g}", result.as_dict())
            runs.append(summarize_run(size, p, r, kl, result))
        ctx.artifact(CLAIM, "pretrain_curves", curves)
        ctx.artifact(CLAIM, "runs", runs)
        ctx.artifact(CLAIM, "settings", {**asdict(plan), "checkpoints": str(folder)})
    return runs


def rl_runs(ctx: Any, jobs: list[tuple[Any, ...]], plan: C2Plan) -> list[RLResult]:
    """Every GRPO run (arguments of _rl_job), one process per core when there are several:
    each run seeds its own generators, so the results are those of one after another."""
    from homogeny.toy.parallel import run_jobs, workers_for

    workers = workers_for(len(jobs))
    if workers > 1:
        ctx.log(f"c2: {len(jobs)} RL runs in {workers} processes")
        return run_jobs(_rl_job, jobs, plan.torch_threads)
    results = []
    for job in jobs:
        size, p, r, kl = job[3]
        ctx.log(f"c2: RL {size} pretraining seed {p}, RL seed {r}, kl {kl:g}")
        results.append(_rl_job(*job))
    return results


def _rl_job(
    where: tuple[Path, Path, str],
    sets: tuple[list, list],
    plan: C2Plan,
    ids: tuple[str, int, int, float],
) -> RLResult:
    """One GRPO run from a pretrained checkpoint; the tuned model is saved beside it."""
    folder, path, key = where
    size, _, r, kl = ids
    model, tok = load_checkpoint(path), CharTokenizer(ALPHABET)
    result = rl_finetune(model, tok, sets[0], sets[1], replace(plan.rl, kl_coef=kl, seed=r))
    save_checkpoint(model, rl_checkpoint(folder, size, r, kl, key), tok)
    return result


def summarize_run(
    size: str, pretrain_seed: int, seed: int, kl: float, result: RLResult
) -> dict[str, Any]:
    """Start, end-of-first-epoch and final numbers of one RL run."""
    start, first, end = result.evals[0], result.eval_at_epoch(1.0), result.evals[-1]
    acc0 = {f: v for f, v in start["accuracy_by_format"].items() if f in FORMATS and v is not None}
    crossing = result.first_crossing()
    series = ("pass@1", "pass@k", "majority@k", "distinct")
    return {
        "size": size,
        "pretrain_seed": pretrain_seed,
        "seed": seed,
        "kl": kl,
        "shares_start": start["shares"],
        "shares_epoch1": first["shares"],
        "shares_end": end["shares"],
        "winner": _leader(end["shares"]),
        "initial_majority": _leader(start["shares"]),
        "initial_most_accurate": max(acc0, key=lambda f: acc0[f]) if acc0 else None,
        "accuracy_by_format_start": start["accuracy_by_format"],
        **{m: [start[m], first[m], end[m]] for m in series},
        "k": start["k"],
        "crossing_epochs": None if crossing is None else crossing["epoch_fraction"],
        "crossing_format": None if crossing is None else crossing["format"],
        "epochs": result.config["epochs"],
        "share_curve": [[row["epoch"], row["shares"]] for row in result.steps],
    }


def _leader(shares: dict[str, float]) -> str:
    return max(FORMATS, key=lambda f: shares[f])
