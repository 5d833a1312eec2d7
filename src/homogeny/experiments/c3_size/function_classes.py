"""Validity and semantic class of model-written Python functions, run in a sandboxed subprocess.

C3's synthetic-data tasks ask for "a Python function f that takes a list of ints and returns an
int" (after Shypula et al. 2025, arXiv 2504.12522, who judge generated programs by running
them). A function's semantic class is the tuple of its outputs on fixed inputs; it is invalid
when it does not parse, raises, times out or returns something other than an int.

Model text is untrusted, so it never runs in this process. A batch of functions runs in one
`python -I -S` child that, before touching any model text, makes itself as small as it can:
a new network namespace (no network), chroot into an empty temporary folder and the `nobody`
user when it has the rights, rlimits on CPU seconds, address space, file size, open files and
processes, a per-function timer, restricted builtins and an import allowlist. Each layer is
best effort on its own (`isolation_layers()` says which held here); the parent also kills a
child that stops reporting, marks the function it was running as invalid, and restarts on the
rest. The sandbox and the child's protocol are written by hand because no maintained library
runs untrusted snippets this way without a container runtime.
"""

from __future__ import annotations

import json
import os
import re
import secrets
import selectors
import signal
import subprocess
import sys
import tempfile
import textwrap
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

DEFAULT_TIMEOUT_S = 1.0
DEFAULT_MEMORY_MB = 512
BATCH_SIZE = 128
STARTUP_GRACE_S = 10.0
MAX_LINE_BYTES = 1 << 16
INT_LIMIT = 2**63  # outputs must be ints below this in magnitude (JSON-safe, comparable)

_FENCE = re.compile(r"```[ \t]*([A-Za-z0-9_+-]*)[ \t]*\n(.*?)(?:```|\Z)", re.DOTALL)
_CODE_START = re.compile(r"^[ \t]*(def |async def |import |from |@)", re.MULTILINE)


@dataclass(frozen=True)
class FunctionResult:
    """One function's fate: its outputs on the fixed inputs, or why it is invalid."""

    source: str | None
    outputs: tuple[int, ...] | None
    error: str = ""

    @property
    def valid(self) -> bool:
        return self.outputs is not None and not self.error

    @property
    def semantic_class(self) -> tuple[int, ...] | None:
        """The tuple of outputs on the fixed inputs (None when invalid): equal tuples, one class."""
        return self.outputs if self.valid else None


def extract_function(text: str) -> str | None:
    """The Python code in a model's reply: the first fenced block holding a `def` (an unclosed
    fence, from a reply cut at max_tokens, runs to the end), else everything from the first
    line that starts code (def, import, from, a decorator). None when there is no `def`.
    Trailing prose is trimmed later, inside the sandbox, by parsing."""
    blocks = [body for _, body in _FENCE.findall(text)]
    for body in blocks:
        if "def " in body:
            return textwrap.dedent(body).strip("\n") + "\n"
    start = _CODE_START.search(text)
    if start is None or "def " not in text[start.start() :]:
        return None
    return textwrap.dedent(text[start.start() :]).strip("\n") + "\n"


def run_functions(
    sources: Sequence[str | None],
    inputs: Sequence[Sequence[int]],
    timeout_s: float = DEFAULT_TIMEOUT_S,
    memory_mb: int = DEFAULT_MEMORY_MB,
    batch_size: int = BATCH_SIZE,
) -> list[FunctionResult]:
    """Run each source's function (named `f`, else its last top-level def) on every input list,
    in sandboxed subprocesses; return one FunctionResult per source, in order. A source of
    None is invalid ("no function found")."""
    payload_inputs = [list(map(int, x)) for x in inputs]
    results: list[FunctionResult | None] = [None] * len(sources)
    todo = [i for i, s in enumerate(sources) if s is not None]
    for i, s in enumerate(sources):
        if s is None:
            results[i] = FunctionResult(None, None, "no function found")
    for start in range(0, len(todo), batch_size):
        chunk = todo[start : start + batch_size]
        for i, res in zip(
            chunk,
            _run_batch([str(sources[i]) for i in chunk], payload_inputs, timeout_s, memory_mb),
        ):
            results[i] = res
    return [r if r is not None else FunctionResult(None, None, "not run") for r in results]


def classify_texts(
    texts: Sequence[str], inputs: Sequence[Sequence[int]], timeout_s: float = DEFAULT_TIMEOUT_S
) -> list[FunctionResult]:
    """Extract the function from each model text and run it (see `run_functions`)."""
    return run_functions([extract_function(t) for t in texts], inputs, timeout_s=timeout_s)


def isolation_layers() -> dict[str, bool]:
    """Which sandbox layers the child managed to put in place on this machine."""
    with tempfile.TemporaryDirectory(prefix="homogeny-fn-") as tmp:
        proc = _spawn(Path(tmp))
        out, _ = proc.communicate(
            json.dumps(_payload([], [], 1.0, 64, "probe")).encode(), timeout=30
        )
    for line in out.decode(errors="replace").splitlines():
        msg = json.loads(line) if line.startswith("{") else {}
        if msg.get("layers") is not None:
            return {k: bool(v) for k, v in msg["layers"].items()}
    return {}


# ---- parent side -------------------------------------------------------------------------
def _payload(
    sources: list[str], inputs: list[list[int]], timeout_s: float, memory_mb: int, nonce: str
) -> dict[str, object]:
    return {
        "sources": sources,
        "inputs": inputs,
        "timeout": timeout_s,
        "memory_mb": memory_mb,
        "cpu_s": int(timeout_s * max(1, len(sources)) + 5),
        "nonce": nonce,
    }


def _spawn(tmp: Path) -> subprocess.Popen[bytes]:
    os.chmod(tmp, 0o755)  # readable by `nobody` (the child chroots here, it writes nothing)
    return subprocess.Popen(
        [sys.executable, "-I", "-S", "-c", _WORKER],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        cwd=tmp,
        env={},
        start_new_session=True,
        close_fds=True,
    )


def _kill(proc: subprocess.Popen[bytes]) -> None:
    try:
        os.killpg(proc.pid, signal.SIGKILL)
    except (ProcessLookupError, PermissionError):
        pass
    proc.wait()


def _run_batch(
    sources: list[str], inputs: list[list[int]], timeout_s: float, memory_mb: int
) -> list[FunctionResult]:
    """Run a batch in one child; if the child dies or stalls on function j, mark j invalid and
    start a fresh child on the functions after it."""
    results: list[FunctionResult] = []
    while len(results) < len(sources):
        rest = sources[len(results) :]
        done, fatal = _run_child(rest, inputs, timeout_s, memory_mb)
        results.extend(done)
        if len(results) < len(sources):
            results.append(FunctionResult(sources[len(results)], None, fatal or "sandbox killed"))
    return results


def _run_child(
    sources: list[str], inputs: list[list[int]], timeout_s: float, memory_mb: int
) -> tuple[list[FunctionResult], str]:
    """Results reported by one child before it finished or was killed, and why it stopped."""
    nonce = secrets.token_hex(8)
    done: list[FunctionResult] = []
    with tempfile.TemporaryDirectory(prefix="homogeny-fn-") as tmp:
        proc = _spawn(Path(tmp))
        assert proc.stdin is not None and proc.stdout is not None
        try:
            proc.stdin.write(
                json.dumps(_payload(sources, inputs, timeout_s, memory_mb, nonce)).encode()
            )
            proc.stdin.close()
        except BrokenPipeError:
            _kill(proc)
            return done, "sandbox failed to start"
        reason = _collect(proc, sources, nonce, timeout_s, done)
        _kill(proc)
    return done, reason


def _collect(
    proc: subprocess.Popen[bytes],
    sources: list[str],
    nonce: str,
    timeout_s: float,
    done: list[FunctionResult],
) -> str:
    """Read the child's one-line-per-function reports until all arrive or it stalls or dies."""
    assert proc.stdout is not None
    sel = selectors.DefaultSelector()
    sel.register(proc.stdout, selectors.EVENT_READ)
    buf = b""
    deadline = time.monotonic() + STARTUP_GRACE_S + 2 * timeout_s + 1
    while len(done) < len(sources):
        left = deadline - time.monotonic()
        if left <= 0 or not sel.select(timeout=left):
            return "timeout"
        chunk = os.read(proc.stdout.fileno(), 65536)
        if not chunk:
            return "crashed"
        buf += chunk
        while b"\n" in buf:
            line, buf = buf.split(b"\n", 1)
            res = _parse_report(line, nonce, len(done), sources)
            if res is not None:
                done.append(res)
                deadline = time.monotonic() + 2 * timeout_s + 1
        if len(buf) > MAX_LINE_BYTES:
            return "oversized report"
    return ""


def _parse_report(line: bytes, nonce: str, index: int, sources: list[str]) -> FunctionResult | None:
    """A result line from the child, checked: right nonce, the expected index, ints only."""
    try:
        msg = json.loads(line)
    except ValueError:
        return None
    if not isinstance(msg, dict) or msg.get("nonce") != nonce or msg.get("i") != index:
        return None
    out = msg.get("out")
    if (
        isinstance(out, list)
        and all(type(v) is int and abs(v) < INT_LIMIT for v in out)
        and not msg.get("err")
    ):
        return FunctionResult(sources[index], tuple(out), "")
    return FunctionResult(sources[index], None, str(msg.get("err") or "non-int output")[:200])


# ---- child side (runs as `python -I -S -c _WORKER`; reads one JSON payload on stdin) ------
_WORKER = r"""
import ast, builtins, copy, ctypes, ctypes.util, json, os, resource, signal, sys
import bisect, collections, functools, heapq, itertools, math, operator, random, re
import statistics, string, typing

ALLOWED = {m: sys.modules[m] for m in ("bisect", "collections", "functools", "heapq", "itertools",
           "math", "operator", "random", "re", "statistics", "string", "typing")}
payload = json.loads(sys.stdin.buffer.read())
out = os.fdopen(os.dup(1), "w", buffering=1)
null = open(os.devnull, "w")
os.dup2(null.fileno(), 1); os.dup2(null.fileno(), 2)
layers = {}

def attempt(name, fn):
    try:
        fn(); layers[name] = True
    except Exception:
        layers[name] = False

libc = ctypes.CDLL(ctypes.util.find_library("c") or None, use_errno=True)
def unshare(flags):
    if libc.unshare(flags) != 0:
        raise OSError(ctypes.get_errno(), "unshare")
NEWNET, NEWUSER, NEWNS = 0x40000000, 0x10000000, 0x00020000
if os.geteuid() == 0:
    attempt("no_network", lambda: unshare(NEWNET))
else:
    attempt("no_network", lambda: unshare(NEWUSER | NEWNET | NEWNS))
def jail():
    os.chroot("."); os.chdir("/")
attempt("chroot_empty_dir", jail)
def drop():
    os.setgroups([]); os.setgid(65534); os.setuid(65534)
if os.geteuid() == 0:
    attempt("nobody_user", drop)
mem = int(payload["memory_mb"]) * 1024 * 1024
for name, lim in (("RLIMIT_AS", mem), ("RLIMIT_CPU", int(payload["cpu_s"])), ("RLIMIT_FSIZE", 0),
                  ("RLIMIT_NOFILE", 16), ("RLIMIT_NPROC", 0), ("RLIMIT_CORE", 0)):
    attempt(name.lower(), lambda n=name, l=lim: resource.setrlimit(getattr(resource, n), (l, l)))
signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
out.write(json.dumps({"layers": layers}) + "\n")

def safe_import(name, globals=None, locals=None, fromlist=(), level=0):
    root = name.split(".")[0]
    if level or root not in ALLOWED:
        raise ImportError("import of " + name + " is not allowed")
    return ALLOWED[root] if not fromlist else sys.modules.get(name, ALLOWED[root])
BLOCKED = {"open", "exec", "eval", "compile", "__import__", "input", "breakpoint", "help",
           "memoryview", "globals", "locals", "vars", "exit", "quit", "copyright", "credits",
           "license"}
SAFE = {k: v for k, v in vars(builtins).items() if k not in BLOCKED}
SAFE["__import__"] = safe_import
KEEP = (ast.Import, ast.ImportFrom, ast.FunctionDef, ast.ClassDef, ast.Assign, ast.AnnAssign)

class Timeout(BaseException):
    pass
def on_alarm(signum, frame):
    raise Timeout()
signal.signal(signal.SIGALRM, on_alarm)

def parse(src):
    lines = src.splitlines()
    for end in range(len(lines), 0, -1):
        try:
            tree = ast.parse("\n".join(lines[:end]))
        except (SyntaxError, ValueError, MemoryError, RecursionError):
            continue
        tree.body = [n for n in tree.body if isinstance(n, KEEP)]
        if any(isinstance(n, ast.FunctionDef) for n in tree.body):
            return tree
    return None

def evaluate(src, inputs, timeout):
    tree = parse(src)
    if tree is None:
        return None, "syntax error"
    names = [n.name for n in tree.body if isinstance(n, ast.FunctionDef)]
    target = "f" if "f" in names else names[-1]
    ns = {"__builtins__": SAFE, "__name__": "generated"}
    signal.setitimer(signal.ITIMER_REAL, timeout)
    try:
        exec(compile(tree, "<generated>", "exec"), ns)
        fn = ns.get(target)
        results = []
        for x in inputs:
            random.seed(0)
            v = fn(copy.deepcopy(x))
            if type(v) is not int or abs(v) >= 2 ** 63:
                return None, "non-int output"
            results.append(v)
        return results, ""
    except Timeout:
        return None, "timeout"
    except BaseException as e:
        return None, "error: " + type(e).__name__
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)

for i, src in enumerate(payload["sources"]):
    try:
        res, err = evaluate(src, payload["inputs"], float(payload["timeout"]))
    except BaseException as e:
        res, err = None, "error: " + type(e).__name__
    out.write(json.dumps({"nonce": payload["nonce"], "i": i, "out": res, "err": err}) + "\n")
"""
