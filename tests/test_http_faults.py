"""HTTP failures against a misbehaving server on loopback: a total deadline per request, the
first Ctrl-C stopping requests in flight, and secrets (API key, URL password) never printed,
stored or rendered."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from homogeny.errors import ServerError
from homogeny.models import parse_spec
from homogeny.models.openai import OpenAIBackend
from homogeny.models.params import SamplingParams
from homogeny.suites.prompt import Prompt
from helpers import run_cli
from server_utils import FaultServer

PARAMS = SamplingParams(max_tokens=4)
KEY = "sk-never-print-me-123"
PASSWORD = "pw-never-print-me-456"


def _generate(url: str, **kw: object) -> list[object]:
    backend = OpenAIBackend(parse_spec(f"openai:{url}#m"), **kw)  # type: ignore[arg-type]
    try:
        return backend.generate(Prompt("a", "x"), PARAMS, [1])  # type: ignore[return-value]
    finally:
        backend.close()


def test_a_body_trickling_one_byte_a_second_is_cut_at_the_total_deadline():
    with FaultServer("slow-body") as srv:
        started = time.monotonic()
        with pytest.raises(ServerError, match="timed out"):
            _generate(srv.url(), timeout=2.0, max_retries=0)
        elapsed = time.monotonic() - started
    assert 1.9 < elapsed < 3.5, elapsed


def test_a_server_that_never_answers_is_cut_at_the_deadline_each_try():
    with FaultServer("hang") as srv:
        started = time.monotonic()
        with pytest.raises(ServerError, match="timed out"):
            _generate(srv.url(), timeout=1.0, max_retries=1)
        elapsed = time.monotonic() - started
    assert 1.9 < elapsed < 4.0, elapsed
    assert len(srv.seen) == 2


def test_first_ctrl_c_stops_requests_in_flight_and_leaves_no_thread_behind():
    with FaultServer("slow-body") as srv:
        timer = threading.Timer(1.0, lambda: os.kill(os.getpid(), signal.SIGINT))
        timer.start()
        started = time.monotonic()
        with pytest.raises(KeyboardInterrupt):
            backend = OpenAIBackend(parse_spec(f"openai:{srv.url()}#m"), concurrency=4, timeout=60)
            backend.generate(Prompt("a", "x"), PARAMS, [1, 2, 3, 4, 5, 6])
        elapsed = time.monotonic() - started
    assert elapsed < 2.5, elapsed
    assert not [t for t in threading.enumerate() if t.name.startswith("homogeny-http")]


def test_a_401_echoing_the_authorization_header_prints_no_key(monkeypatch):
    monkeypatch.setenv("HOMOGENY_API_KEY", KEY)
    with FaultServer("echo-401") as srv, pytest.raises(ServerError) as err:
        _generate(srv.url(), max_retries=0)
    assert srv.seen[0]["Authorization"] == f"Bearer {KEY}"
    assert "HTTP 401" in str(err.value) and "***" in str(err.value)
    assert KEY not in str(err.value)


def test_url_credentials_go_as_basic_auth_and_never_into_the_spec():
    spec = parse_spec(f"openai:http://alice:{PASSWORD}@127.0.0.1:9/v1#m")
    for shown in (str(spec), repr(spec), spec.short, spec.model_id, spec.target):
        assert PASSWORD not in shown and "alice" not in shown
    with FaultServer("echo-401") as srv, pytest.raises(ServerError) as err:
        _generate(srv.url(f"alice:{PASSWORD}"), max_retries=0)
    assert srv.seen[0]["Authorization"].startswith("Basic ")
    assert PASSWORD not in str(err.value) and srv.seen[0]["Authorization"][6:] not in str(err.value)


def _store_text(path: Path) -> str:
    from homogeny.store import Store

    with Store.open(str(path), read_only=True) as st:
        tables = [
            r["table_name"]
            for r in st.query(
                "SELECT table_name FROM information_schema.tables WHERE table_schema = 'main'"
            )
        ]
        return json.dumps({t: st.query(f"SELECT * FROM {t}") for t in tables}, default=str)


@pytest.mark.parametrize("mode", ["ok", "echo-401"])
def test_secrets_never_reach_the_store_stdout_or_stderr(tmp_path, mode):
    prompts = tmp_path / "p.txt"
    prompts.write_text("Name a colour.\n")
    store = tmp_path / "s.duckdb"
    with FaultServer(mode) as srv:
        model = f"openai:{srv.url(f'alice:{PASSWORD}')}#m"
        proc = run_cli(
            *[
                "generate",
                "--model",
                model,
                "--prompts",
                str(prompts),
                "--samples",
                "2",
                "--store",
                str(store),
                "--quiet",
            ],
            env={"HOMOGENY_API_KEY": KEY, "HOMOGENY_MAX_RETRIES": "0"},
        )
    assert (proc.returncode == 0) == (mode == "ok"), proc.stderr
    assert "Traceback" not in proc.stderr
    shown = proc.stdout + proc.stderr + _store_text(store)
    assert PASSWORD not in shown and KEY not in shown
    assert f"127.0.0.1:{srv.port}" in shown  # the URL itself is still named


def test_ctrl_c_during_a_trickling_request_ends_the_cli_promptly(tmp_path):
    prompts = tmp_path / "p.txt"
    prompts.write_text("Name a colour.\nName a city.\n")
    with FaultServer("slow-body") as srv:
        proc = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "homogeny.cli",
                "generate",
                "--model",
                f"openai:{srv.url()}#m",
                "--prompts",
                str(prompts),
                "--store",
                str(tmp_path / "s.duckdb"),
                "--quiet",
            ],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            env={**os.environ, "HOMOGENY_TIMEOUT": "300"},
        )
        deadline = time.monotonic() + 60
        while not srv.seen and time.monotonic() < deadline:
            time.sleep(0.1)
        assert srv.seen, "the CLI never reached the server"
        proc.send_signal(signal.SIGINT)
        started = time.monotonic()
        out, err = proc.communicate(timeout=30)
    assert time.monotonic() - started < 5
    assert proc.returncode != 0
    assert "Traceback" not in err and "threading" not in err
