"""The OpenAI-compatible backend against a real server on loopback (llama-cpp-python's server
over smollm2-135m), and retry behaviour on faults a real server cannot be made to produce."""

from __future__ import annotations

import os
import subprocess
import sys

import httpx
import pytest

from homogeny.errors import ServerError
from homogeny.models import parse_spec
from homogeny.models.openai import OpenAIBackend
from homogeny.models.params import SamplingParams
from homogeny.store import Store
from homogeny.suites.prompt import Prompt

pytestmark = [pytest.mark.server]


@pytest.fixture(scope="module")
def server():
    pytest.importorskip("uvicorn", reason="llama-cpp-python[server] not installed")
    from homogeny.models import zoo

    if not zoo.is_installed("smollm2-135m"):
        pytest.skip("smollm2-135m not installed")
    from server_utils import LlamaServer

    srv = LlamaServer(zoo.local_path("smollm2-135m")).start()
    yield srv
    srv.stop()


@pytest.mark.slow
def test_chat_and_raw_completion_through_the_engine(server, tmp_path):
    from homogeny.generate.engine import generate_samples

    spec = f"openai:{server.url}#smol"
    prompts = [Prompt("a", "Name a fruit."), Prompt("b", "Name a city.")]
    with Store.open(tmp_path / "s.duckdb") as st:
        rows = generate_samples(
            spec, prompts, 2, st, seed=1, progress=False, max_tokens=12, temperature=1.0
        )
        raw = generate_samples(
            spec, prompts[:1], 1, st, seed=1, progress=False, max_tokens=8, chat=False
        )
        assert st.count("samples") == 5
        again = generate_samples(
            spec, prompts, 2, st, seed=1, progress=False, max_tokens=12, temperature=1.0
        )
        assert st.count("samples") == 5
    assert all(r["text"] for rs in rows.values() for r in rs)
    assert all(r["n_tokens"] > 0 for rs in rows.values() for r in rs)
    assert raw["a"][0]["chat"] is False
    assert [r["key"] for r in again["a"]] == [r["key"] for r in rows["a"]]


@pytest.mark.slow
def test_server_stopped_mid_run_then_restarted_loses_nothing(server, tmp_path):
    prompts = tmp_path / "p.txt"
    prompts.write_text("\n".join(f"Write a sentence about the number {i}." for i in range(16)))
    store = str(tmp_path / "s.duckdb")
    args = [
        sys.executable,
        "-m",
        "homogeny.cli",
        "generate",
        "--model",
        f"openai:{server.url}#smol",
        "--prompts",
        str(prompts),
        "--samples",
        "2",
        "--max-tokens",
        "24",
        "--store",
        store,
        "--quiet",
    ]
    env = {**os.environ, "HOMOGENY_MAX_RETRIES": "1", "HOMOGENY_CONCURRENCY": "2"}
    proc = subprocess.Popen(
        args + ["--verbose"], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env
    )
    seen = []
    for line in proc.stderr:  # wait until some samples are committed
        seen.append(line)
        if "stored" in line and len(seen) >= 3:
            break
    server.stop()
    out, err = proc.communicate(timeout=300)
    err = "".join(line for line in err.splitlines(True) if not line.startswith("homogeny.generate"))
    assert proc.returncode == 2, (out, err)
    assert "rerun to resume" in err and "Traceback" not in err
    with Store.open(store, read_only=True) as st:
        partial = st.count("samples")
    assert 0 < partial < 32
    server.start()
    done = subprocess.run(args, capture_output=True, text=True, env=env, timeout=600, check=False)
    assert done.returncode == 0, done.stderr
    with Store.open(store, read_only=True) as st:
        keys = [r["key"] for r in st.query("SELECT key FROM samples")]
    assert len(keys) == len(set(keys)) == 32


def _backend(handler, **kw) -> OpenAIBackend:
    backend = OpenAIBackend(parse_spec("openai:http://fake.test/v1#m"), **kw)
    backend.http.client = httpx.Client(
        base_url="http://fake.test/v1",
        transport=httpx.MockTransport(handler),
        headers=backend.http.client.headers,
    )
    return backend


def _ok(text: str = "hi") -> httpx.Response:
    return httpx.Response(
        200,
        json={
            "choices": [{"message": {"content": text}, "finish_reason": "stop"}],
            "usage": {"prompt_tokens": 3, "completion_tokens": 1},
        },
    )


def test_429_and_5xx_are_retried_with_backoff():
    calls = []

    def handler(request: httpx.Request) -> httpx.Response:
        calls.append(request)
        if len(calls) == 1:
            return httpx.Response(429, headers={"retry-after": "0"})
        if len(calls) == 2:
            return httpx.Response(503)
        return _ok("fine")

    out = _backend(handler, max_retries=3).generate(
        Prompt("a", "x"), SamplingParams(max_tokens=4), [1]
    )
    assert out[0].text == "fine" and len(calls) == 3


def test_persistent_5xx_gives_up_after_max_retries():
    calls = []

    def handler(request):
        calls.append(1)
        return httpx.Response(500)

    with pytest.raises(ServerError, match="kept failing"):
        _backend(handler, max_retries=2).generate(
            Prompt("a", "x"), SamplingParams(max_tokens=4), [1]
        )
    assert len(calls) == 3


def test_client_errors_are_not_retried():
    calls = []

    def handler(request):
        calls.append(1)
        return httpx.Response(400, text="bad model")

    with pytest.raises(ServerError, match="refused"):
        _backend(handler, max_retries=3).generate(
            Prompt("a", "x"), SamplingParams(max_tokens=4), [1]
        )
    assert len(calls) == 1


def test_api_key_is_sent_but_never_stored_or_printed(tmp_path, monkeypatch):
    monkeypatch.setenv("HOMOGENY_API_KEY", "sk-very-secret-123")
    seen = []

    def handler(request):
        seen.append(request.headers.get("authorization"))
        return _ok()

    backend = _backend(handler)
    assert backend.generate(Prompt("a", "x"), SamplingParams(max_tokens=4), [1])[0].text == "hi"
    assert seen == ["Bearer sk-very-secret-123"]
    assert "sk-very-secret" not in repr(backend.info) and "sk-very-secret" not in str(backend.spec)
