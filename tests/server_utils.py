"""Start and stop llama-cpp-python's OpenAI-compatible server on loopback for tests."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class LlamaServer:
    """llama_cpp.server over a GGUF file at http://127.0.0.1:PORT/v1 (model alias `smol`)."""

    def __init__(
        self, model_path: Path, port: int | None = None, wait_policy: str | None = "PASSIVE"
    ) -> None:
        """wait_policy: OMP_WAIT_POLICY for the server when the environment sets none (None leaves
        OpenMP's default: right on an idle machine, 3x slower decoding one sequence if PASSIVE)."""
        self.model_path = model_path
        self.port = port or free_port()
        self.wait_policy = wait_policy
        self.proc: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/v1"

    def start(self, timeout: float = 180) -> LlamaServer:
        self.proc = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "llama_cpp.server",
                "--model",
                str(self.model_path),
                "--model_alias",
                "smol",
                "--host",
                "127.0.0.1",
                "--port",
                str(self.port),
                "--n_ctx",
                "2048",
                "--n_threads",
                "2",
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            env=self._env(),
        )
        deadline = time.time() + timeout
        while time.time() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError("llama_cpp.server exited at start")
            try:
                if httpx.get(f"{self.url}/models", timeout=2).status_code == 200:
                    return self
            except httpx.HTTPError:
                pass
            time.sleep(0.5)
        self.stop()
        raise RuntimeError("llama_cpp.server did not start in time")

    def _env(self) -> dict[str, str]:
        env = dict(os.environ)
        if self.wait_policy and "OMP_WAIT_POLICY" not in env:
            env["OMP_WAIT_POLICY"] = self.wait_policy
        return env

    def stop(self) -> None:
        if self.proc and self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait(timeout=30)
        self.proc = None


class FaultServer:
    """An HTTP server on loopback that misbehaves on purpose, in a daemon thread.

    mode "ok": a valid chat completion; "slow-body": headers, then one byte a second of a
    body that never completes in time; "echo-401": 401 with every request header echoed in
    the body; "hang": accepts and never answers. Each request's headers are kept in `seen`.
    """

    def __init__(self, mode: str = "ok") -> None:
        import http.server
        import threading

        self.mode = mode
        self.seen: list[dict[str, str]] = []
        server = self

        class Handler(http.server.BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args: object) -> None:
                pass

            def do_GET(self) -> None:
                self.do_POST()

            def do_POST(self) -> None:
                length = int(self.headers.get("content-length") or 0)
                self.rfile.read(length)
                server.seen.append(dict(self.headers.items()))
                getattr(self, "_" + server.mode.replace("-", "_"))()

            def _send(self, status: int, body: bytes, length: int | None = None) -> None:
                self.send_response(status)
                self.send_header("content-type", "application/json")
                self.send_header("content-length", str(len(body) if length is None else length))
                self.end_headers()
                self.wfile.write(body)
                self.wfile.flush()

            def _ok(self) -> None:
                import json

                body = {
                    "choices": [{"message": {"content": "hi"}, "finish_reason": "stop"}],
                    "usage": {"prompt_tokens": 3, "completion_tokens": 1},
                }
                self._send(200, json.dumps(body).encode())

            def _slow_body(self) -> None:
                self._send(200, b"", length=10_000)
                for _ in range(600):
                    time.sleep(1)
                    try:
                        self.wfile.write(b" ")
                        self.wfile.flush()
                    except OSError:
                        return

            def _echo_401(self) -> None:
                import json

                echoed = {
                    "error": "unauthorized",
                    "auth": self.headers.get("authorization"),
                    "you_sent": dict(self.headers.items()),
                }
                self._send(401, json.dumps(echoed).encode())

            def _hang(self) -> None:
                time.sleep(600)

        self.httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.httpd.daemon_threads = True
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)

    @property
    def port(self) -> int:
        return int(self.httpd.server_address[1])

    def url(self, userinfo: str = "") -> str:
        return f"http://{userinfo + '@' if userinfo else ''}127.0.0.1:{self.port}/v1"

    def __enter__(self) -> FaultServer:
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()
