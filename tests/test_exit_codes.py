"""Every way `homogeny` ends, run through the installed entry point as a user runs it:
0 success, 1 some work failed (named), 2 user error, 130 interrupted (README, "Exit codes").
No path prints a traceback."""

from __future__ import annotations

import http.server
import os
import shutil
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from importlib.metadata import version
from pathlib import Path

import pytest
import typer

from homogeny import cli_exit
from homogeny.store import Store
from helpers import one_error_line


def homogeny_command() -> str:
    """The installed `homogeny` script: beside this interpreter, else on PATH."""
    beside = Path(sys.executable).parent / "homogeny"
    found = str(beside) if beside.exists() else shutil.which("homogeny")
    if found is None:
        pytest.skip("the homogeny entry point is not installed (pip install -e .)")
    return found


def run(
    *args: str, env: dict[str, str] | None = None, timeout: float = 120, cwd: Path | None = None
):
    """`homogeny ARGS` in a subprocess; the result, after checking it printed no traceback."""
    proc = subprocess.run(
        [homogeny_command(), *args],
        capture_output=True,
        text=True,
        check=False,
        timeout=timeout,
        env={**os.environ, **(env or {})},
        cwd=cwd,
        stdin=subprocess.DEVNULL,
    )
    assert "Traceback" not in proc.stderr, proc.stderr
    return proc


# --- 2: usage errors get typer's short usage message ------------------------------------


GENERATE = ["generate", "--model", "zoo:smollm2-135m", "--prompts", "p.txt", "--store", "s.duckdb"]


@pytest.mark.parametrize(
    "args,message",
    [
        ([*GENERATE, "--temperature", "abc"], "Invalid value for '--temperature'"),
        (["nosuchcommand"], "No such command 'nosuchcommand'"),
        ([*GENERATE, "--nosuch"], "No such option: --nosuch"),
        (["--nosuch"], "No such option: --nosuch"),
        (GENERATE[:1] + GENERATE[3:], "Missing option '--model'"),
    ],
    ids=["bad-float", "unknown-command", "unknown-option", "unknown-top-option", "missing-model"],
)
def test_usage_errors_exit_2_with_the_usage_line(tmp_path, prompts, args, message):
    proc = run(*args, cwd=tmp_path)
    assert proc.returncode == 2, (proc.returncode, proc.stderr)
    assert proc.stderr.startswith("Usage: homogeny"), proc.stderr
    assert f"Error: {message}" in proc.stderr
    assert len(proc.stderr.splitlines()) <= 5, proc.stderr
    assert not (tmp_path / "s.duckdb").exists()


def test_bare_homogeny_shows_the_usage_and_exits_2():
    proc = run()
    assert proc.returncode == 2, (proc.returncode, proc.stderr)
    shown = proc.stdout + proc.stderr  # typer's help, with the list of commands
    assert "Usage: homogeny" in shown and "generate" in shown


def test_help_exits_0():
    proc = run("--help")
    assert proc.returncode == 0, proc.stderr
    assert "Usage: homogeny" in proc.stdout


# --- 2: bad input is one line, before any store is opened --------------------------------


def test_unknown_model_leaves_no_store(tmp_path, prompts):
    store = tmp_path / "s.duckdb"
    proc = run(
        "generate", "--model", "zoo:nosuch", "--prompts", str(prompts), "--store", str(store)
    )
    one_error_line(proc, 2, "homogeny: error:", "nosuch")
    assert not store.exists()


@pytest.mark.parametrize("command", ["generate", "run", "audit"])
def test_unknown_executor_leaves_no_store(tmp_path, prompts, command):
    store = tmp_path / "s.duckdb"
    args = {
        "generate": ["generate", "--model", "zoo:smollm2-135m", "--prompts", str(prompts)],
        "run": ["run", "c4", "--models", "zoo:smollm2-135m"],
        "audit": ["audit", "--models", "zoo:smollm2-135m", "--out", str(tmp_path / "r")],
    }[command]
    proc = run(*args, "--executor", "rey", "--store", str(store))
    one_error_line(proc, 2, "--executor 'rey'", "did you mean 'ray'")
    assert not store.exists()


@pytest.mark.parametrize("spec", ["zoo:nosuch", "foo:bar", "openai:http://127.0.0.1:9", "gguf:"])
def test_bad_model_spec_in_run_leaves_no_store(tmp_path, spec):
    store = tmp_path / "s.duckdb"
    proc = run("run", "c4", "--models", spec, "--store", str(store))
    one_error_line(proc, 2, "homogeny: error:")
    assert not store.exists()


def test_missing_prompts_file(tmp_path):
    proc = run(
        "generate",
        "--model",
        "zoo:smollm2-135m",
        "--prompts",
        str(tmp_path / "none.jsonl"),
        "--store",
        str(tmp_path / "s.duckdb"),
    )
    one_error_line(proc, 2, "none.jsonl", "no such file")


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="no FIFOs on this system")
def test_fifo_prompts_file_is_refused_without_blocking(tmp_path):
    fifo = tmp_path / "prompts.txt"
    os.mkfifo(fifo)
    proc = run(
        "generate",
        "--model",
        "zoo:smollm2-135m",
        "--prompts",
        str(fifo),
        "--store",
        str(tmp_path / "s.duckdb"),
        timeout=60,
    )
    one_error_line(proc, 2, "prompts.txt", "not a regular file")
    assert not (tmp_path / "s.duckdb").exists()


def test_lone_surrogate_in_jsonl_is_named_by_line(tmp_path):
    path = tmp_path / "p.jsonl"
    path.write_text('{"id": "a", "prompt": "fine"}\n{"id": "b", "prompt": "bad \\ud800 here"}\n')
    store = tmp_path / "s.duckdb"
    proc = run(
        "generate", "--model", "zoo:smollm2-135m", "--prompts", str(path), "--store", str(store)
    )
    one_error_line(proc, 2, "p.jsonl: line 2", "surrogate")
    assert not store.exists()  # no `interrupted` run row left behind


def test_undecodable_bytes_are_named_by_line(tmp_path):
    path = tmp_path / "p.txt"
    path.write_bytes(b"fine\nalso fine\nbad \xff\xfe here\n")
    proc = run(
        "generate",
        "--model",
        "zoo:smollm2-135m",
        "--prompts",
        str(path),
        "--store",
        str(tmp_path / "s.duckdb"),
    )
    one_error_line(proc, 2, "p.txt: line 3", "UTF-8")


def test_bad_environment_variable(tmp_path, prompts):
    proc = run(
        "generate",
        "--model",
        "zoo:smollm2-135m",
        "--prompts",
        str(prompts),
        "--store",
        str(tmp_path / "s.duckdb"),
        env={"HOMOGENY_CONCURRENCY": "x"},
    )
    one_error_line(proc, 2, "HOMOGENY_CONCURRENCY")


# --- 1: a run whose requests failed names the failures ------------------------------------


class _Unavailable(http.server.BaseHTTPRequestHandler):
    """Answers 503 to everything."""

    def _reply(self) -> None:
        length = int(self.headers.get("content-length") or 0)
        if length:
            self.rfile.read(length)
        body = b'{"error": {"message": "overloaded"}}'
        self.send_response(503)
        self.send_header("content-type", "application/json")
        self.send_header("content-length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    do_GET = do_POST = _reply

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture
def unavailable_server() -> Iterator[str]:
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _Unavailable)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}/v1"
    server.shutdown()
    server.server_close()


def test_all_requests_failing_exits_1_naming_the_failures(tmp_path, prompts, unavailable_server):
    store = tmp_path / "s.duckdb"
    proc = run(
        "generate",
        "--model",
        f"openai:{unavailable_server}#m",
        "--prompts",
        str(prompts),
        "--samples",
        "2",
        "--store",
        str(store),
        "--quiet",
        env={"HOMOGENY_MAX_RETRIES": "0", "HOMOGENY_TIMEOUT": "10"},
        timeout=60,
    )
    line = one_error_line(proc, 1, "2 of 2 samples failed", "503", "rerun the same command")
    assert line.startswith("homogeny: ")
    assert "2 failed" in proc.stdout
    with Store.open(store, read_only=True) as st:
        assert st.count("samples") == 0
        assert [r["status"] for r in st.runs()] == ["partial"]


# --- 130: Ctrl-C stops the run, says so once, and a rerun resumes ------------------------


def _interrupted_lines(stderr: str) -> list[str]:
    """stderr without the engine's log lines (`homogeny.generate: stored ...`)."""
    return [ln for ln in stderr.splitlines() if ln.strip() and not ln.startswith("homogeny.")]


def _wait_for(proc: subprocess.Popen[str], needle: str, seconds: float) -> list[str]:
    """stderr lines read until one holds `needle` (or `seconds` pass or the process ends)."""
    lines: list[str] = []
    found = threading.Event()

    def read() -> None:
        assert proc.stderr is not None
        for line in proc.stderr:
            lines.append(line)
            if needle in line:
                found.set()

    threading.Thread(target=read, daemon=True).start()
    found.wait(seconds)
    return lines


@pytest.mark.slow
@pytest.mark.parametrize(("signum", "code"), [(signal.SIGINT, 130), (signal.SIGTERM, 143)])
def test_a_stop_signal_during_generation_is_clean_and_the_rerun_resumes(
    tmp_path, smollm, signum, code
):
    """Ctrl-C and `kill PID` both stop cleanly: stored samples kept, the run marked
    interrupted, one line, exit 130 / 143, and the same command resumes."""
    prompts = tmp_path / "p.txt"
    prompts.write_text("".join(f"Write a line about the number {i}.\n" for i in range(4)))
    store = tmp_path / "s.duckdb"
    args = [
        homogeny_command(),
        "generate",
        "--model",
        smollm,
        "--prompts",
        str(prompts),
        "--samples",
        "16",
        "--max-tokens",
        "8",
        "--store",
        str(store),
        "--quiet",
        "--verbose",
    ]
    proc = subprocess.Popen(args, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    lines = _wait_for(proc, "stored", 300)
    assert proc.poll() is None, "the run ended before it could be interrupted"
    proc.send_signal(signum)
    try:
        proc.wait(timeout=60)
    finally:
        proc.kill()
    time.sleep(0.2)  # the reader thread drains what is left
    stderr = "".join(lines)
    assert proc.returncode == code, stderr
    assert "Traceback" not in stderr
    assert _interrupted_lines(stderr) == [cli_exit.INTERRUPTED_LINE], stderr
    with Store.open(store, read_only=True) as st:
        kept = st.count("samples")
        assert kept >= 16  # what was stored before Ctrl-C stays
        assert st.runs()[-1]["status"] == "interrupted"
    rerun = run(*args[1:-1], timeout=600)
    assert rerun.returncode == 0, rerun.stderr
    assert f"{kept} cached" in rerun.stdout


@pytest.mark.slow
def test_ctrl_c_while_starting_exits_130(tmp_path, smollm, prompts):
    proc = subprocess.Popen(
        [
            homogeny_command(),
            "generate",
            "--model",
            smollm,
            "--prompts",
            str(prompts),
            "--store",
            str(tmp_path / "s.duckdb"),
            "--quiet",
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    time.sleep(3)
    proc.send_signal(signal.SIGINT)
    _, stderr = proc.communicate(timeout=120)
    assert proc.returncode == 130, stderr
    assert "Traceback" not in stderr
    assert _interrupted_lines(stderr) == [cli_exit.INTERRUPTED_LINE]


# --- the exception classes of typer's bundled click and of click itself ------------------


def _app_raising(exc: BaseException) -> typer.Typer:
    app = typer.Typer(add_completion=False)

    @app.command()
    def boom() -> None:
        raise exc

    @app.command()
    def other() -> None:  # a second command keeps `boom` a subcommand
        pass

    return app


def test_click_exceptions_map_to_the_same_codes(capsys):
    click = pytest.importorskip("click")
    assert cli_exit.run(_app_raising(click.UsageError("bad usage")), ["boom"]) == 2
    assert "bad usage" in capsys.readouterr().err
    assert cli_exit.run(_app_raising(click.exceptions.Exit(3)), ["boom"]) == 3
    assert cli_exit.run(_app_raising(click.exceptions.Abort()), ["boom"]) == 130
    assert cli_exit.INTERRUPTED_LINE in capsys.readouterr().err


def test_typer_exceptions_map_to_codes(capsys):
    from homogeny.errors import PromptFileError

    assert cli_exit.run(_app_raising(typer.Exit(1)), ["boom"]) == 1
    assert cli_exit.run(_app_raising(typer.Abort()), ["boom"]) == 130
    assert cli_exit.run(_app_raising(KeyboardInterrupt()), ["boom"]) == 130
    assert cli_exit.run(_app_raising(PromptFileError("p.txt: line 2 is bad")), ["boom"]) == 2
    err = capsys.readouterr().err
    assert err.count(cli_exit.INTERRUPTED_LINE) == 2
    assert "homogeny: error: p.txt: line 2 is bad" in err
    with pytest.raises(ZeroDivisionError):  # a bug is not a user error: its traceback shows
        cli_exit.run(_app_raising(ZeroDivisionError()), ["boom"])


def test_typer_is_the_tested_major_version():
    """pyproject pins typer>=0.12,<0.30: exit codes depend on how typer ends outside
    standalone mode, which changed at 0.2x (its own bundled click)."""
    major, minor = (int(part) for part in version("typer").split(".")[:2])
    assert (0, 12) <= (major, minor) < (0, 30), version("typer")
