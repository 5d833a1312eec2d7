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

    def __init__(self, model_path: Path, port: int | None = None, wait_policy: str | None = "PASSIVE") -> None:
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
            [sys.executable, "-m", "llama_cpp.server", "--model", str(self.model_path),
             "--model_alias", "smol", "--host", "127.0.0.1", "--port", str(self.port),
             "--n_ctx", "2048", "--n_threads", "2"],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
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
