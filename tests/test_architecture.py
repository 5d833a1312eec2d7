"""The architecture holds: one-way imports, no claim importing another, lazy start-up.

Built from the source (module-level and function-level imports), so a cycle hidden inside a
function still fails here.
"""

from __future__ import annotations

import ast
import os
import subprocess
import sys
from pathlib import Path

import pytest

SRC = Path(__file__).resolve().parents[1] / "src" / "homogeny"
CLAIM_PREFIXES = ("c1_", "c2_", "c3_", "c4_", "c5_", "c6_", "c7_", "thesis")
CONCRETE_BACKENDS = ("homogeny.models.llamacpp", "homogeny.models.hf", "homogeny.models.openai")


def _module_name(path: Path) -> str:
    rel = path.relative_to(SRC.parent).with_suffix("")
    parts = list(rel.parts)
    if parts[-1] == "__init__":
        parts = parts[:-1]
    return ".".join(parts)


def _resolve(module: str, node: ast.ImportFrom, is_package: bool) -> str:
    if node.level == 0:
        return node.module or ""
    base = module.split(".")
    base = base if is_package else base[:-1]
    base = base[: len(base) - (node.level - 1)]
    return ".".join(base + ([node.module] if node.module else []))


def import_graph() -> dict[str, set[str]]:
    """module -> the homogeny modules it imports anywhere in its source."""
    modules = {_module_name(p): p for p in SRC.rglob("*.py")}
    graph: dict[str, set[str]] = {}
    for name, path in modules.items():
        targets: set[str] = set()
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            if isinstance(node, ast.Import):
                found = [a.name for a in node.names]
            elif isinstance(node, ast.ImportFrom):
                base = _resolve(name, node, path.name == "__init__.py")
                subs = [f"{base}.{a.name}" for a in node.names]
                # `from pkg import submodule` imports the submodule; any other name is pkg's own
                found = subs + ([base] if not all(s in modules for s in subs) else [])
            else:
                continue
            for target in found:
                while target and target not in modules:
                    target = target.rpartition(".")[0]
                if target.startswith("homogeny") and target != name:
                    targets.add(target)
        graph[name] = targets
    return graph


def _claim_of(module: str) -> str | None:
    parts = module.split(".")
    if len(parts) < 3 or parts[1] != "experiments":
        return None
    head = parts[2]
    return head if head.startswith(CLAIM_PREFIXES) else None


def _cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components with more than one module (Tarjan 1972)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on: set[str] = set()
    out: list[list[str]] = []

    def visit(v: str) -> None:
        index[v] = low[v] = len(index)
        stack.append(v)
        on.add(v)
        for w in graph.get(v, ()):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            comp = []
            while True:
                w = stack.pop()
                on.discard(w)
                comp.append(w)
                if w == v:
                    break
            if len(comp) > 1:
                out.append(sorted(comp))

    for v in graph:
        if v not in index:
            visit(v)
    return out


def _package_graph(graph: dict[str, set[str]]) -> dict[str, set[str]]:
    def pkg(m: str) -> str:
        return ".".join(m.split(".")[:2])

    out: dict[str, set[str]] = {}
    for m, targets in graph.items():
        out.setdefault(pkg(m), set()).update(pkg(t) for t in targets if pkg(t) != pkg(m))
    return out


def test_no_module_cycles() -> None:
    sys.setrecursionlimit(10_000)
    graph = import_graph()
    cycles = _cycles(graph)
    assert not cycles, f"import cycles: {cycles}"


def test_no_package_cycles() -> None:
    cycles = _cycles(_package_graph(import_graph()))
    assert not cycles, f"package cycles (data must flow one way): {cycles}"


def test_no_claim_imports_another_claim() -> None:
    bad = []
    for module, targets in import_graph().items():
        mine = _claim_of(module)
        for t in targets:
            theirs = _claim_of(t)
            if mine and theirs and theirs != mine:
                bad.append(f"{module} -> {t}")
    assert not bad, "claim modules import other claims: " + "; ".join(sorted(bad))


def test_experiments_never_import_a_concrete_backend() -> None:
    bad = [
        f"{m} -> {t}"
        for m, targets in import_graph().items()
        if m.startswith("homogeny.experiments")
        for t in targets
        if t.startswith(CONCRETE_BACKENDS)
    ]
    assert not bad, "experiments import concrete backends: " + "; ".join(sorted(bad))


def test_source_files_stay_small() -> None:
    big = {
        str(p.relative_to(SRC)): n
        for p in SRC.rglob("*.py")
        if (n := len(p.read_text(encoding="utf-8").splitlines())) > 400
    }
    assert not big, f"files over 400 lines: {big}"


def test_help_imports_nothing_heavy() -> None:
    """`homogeny --help` must not import torch, numpy, duckdb, llama_cpp or transformers."""
    code = (
        "import sys; sys.argv=['homogeny','--help']\nfrom homogeny.cli import main\n"
        "try:\n main()\nexcept SystemExit:\n pass"
    )
    env = {**os.environ, "PYTHONWARNINGS": "ignore"}
    res = subprocess.run(
        [sys.executable, "-X", "importtime", "-c", code],
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
    )
    imported = {
        line.split("|")[-1].strip().split(".")[0]
        for line in res.stderr.splitlines()
        if line.startswith("import time:")
    }
    heavy = imported & {"torch", "numpy", "duckdb", "llama_cpp", "transformers", "pydantic"}
    assert "homogeny" in imported, res.stderr[-2000:]
    assert not heavy, f"--help imported {sorted(heavy)}"


def test_importing_homogeny_has_no_side_effects() -> None:
    code = (
        "import os, atexit; os.environ.pop('OMP_WAIT_POLICY', None)\n"
        "import homogeny, homogeny.models\n"
        "print('OMP_WAIT_POLICY' in os.environ)"
    )
    res = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=60, check=False
    )
    assert res.stdout.strip() == "False", res.stderr


@pytest.mark.parametrize("path", ["src", "tests"])
def test_ruff_format_and_lint(path: str) -> None:
    root = SRC.parents[1]
    ruff = Path(sys.executable).with_name("ruff")
    if not ruff.exists():
        pytest.skip("ruff not installed (pip install -e '.[dev]')")
    fmt = subprocess.run(
        [str(ruff), "format", "--check", path], cwd=root, capture_output=True, text=True
    )
    assert fmt.returncode == 0, fmt.stdout[-3000:]
    lint = subprocess.run(
        [str(ruff), "check", "--select", "E,F,W", path], cwd=root, capture_output=True, text=True
    )
    assert lint.returncode == 0, lint.stdout[-3000:]
