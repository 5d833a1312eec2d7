"""JSON over HTTP with a total deadline per request, a stop switch, retries and redaction.

httpx's timeouts bound each socket operation, so a server that sends one byte a second never
times out. Here every socket read and write goes through a network stream that knows the
request's deadline (connect + headers + whole body) and a stop event: a read waits in slices
of at most STOP_POLL seconds, so a request ends within that much of its deadline or of a
Ctrl-C. Any echo of the API key or URL password in a server's reply is replaced by "***"
before it reaches a message.
"""

from __future__ import annotations

import base64
import random
import re
import threading
import time
from typing import Any

import httpcore
import httpx

STOP_POLL = 0.25  # seconds a blocked read waits before checking the deadline and stop switch
RETRY_STATUS = {408, 409, 425, 429, 500, 502, 503, 504}
_STATE = threading.local()  # per thread: the current request's deadline and stop event
_AUTH_WORDS = re.compile(r"(?i)\b(bearer|basic)\s+[A-Za-z0-9._~+/=-]+")


class Interrupted(Exception):
    """The run was stopped (Ctrl-C) while a request was in flight."""


class RequestFailed(Exception):
    """A request failed for good (after retries) or the server is unreachable."""

    def __init__(self, message: str, unreachable: bool = False) -> None:
        super().__init__(message)
        self.unreachable = unreachable


def _left(timeout: float | None) -> float:
    """Seconds the next socket operation may wait: the smaller of its own timeout, the
    request's remaining time and STOP_POLL. Raises when stopped or past the deadline."""
    stop = getattr(_STATE, "stop", None)
    if stop is not None and stop.is_set():
        raise Interrupted("stopped")
    deadline = getattr(_STATE, "deadline", None)
    if deadline is None:
        return STOP_POLL if timeout is None else min(timeout, STOP_POLL)
    remaining = deadline - time.monotonic()
    if remaining <= 0:
        raise httpcore.ReadTimeout("the request's total deadline passed")
    return min(remaining, STOP_POLL, timeout if timeout is not None else remaining)


class _DeadlineStream(httpcore.NetworkStream):
    """A network stream whose reads and writes respect the thread's deadline and stop event."""

    def __init__(self, inner: httpcore.NetworkStream) -> None:
        self._inner = inner

    def read(self, max_bytes: int, timeout: float | None = None) -> bytes:
        waited = 0.0
        while True:
            wait = _left(timeout)
            try:
                return self._inner.read(max_bytes, wait)
            except httpcore.ReadTimeout:
                waited += wait
                if timeout is not None and waited >= timeout:
                    raise

    def write(self, buffer: bytes, timeout: float | None = None) -> None:
        deadline = getattr(_STATE, "deadline", None)
        if deadline is not None:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise httpcore.WriteTimeout("the request's total deadline passed")
            timeout = remaining if timeout is None else min(timeout, remaining)
        self._inner.write(buffer, timeout)

    def close(self) -> None:
        self._inner.close()

    def start_tls(
        self, ssl_context: Any, server_hostname: str | None = None, timeout: float | None = None
    ) -> httpcore.NetworkStream:
        return _DeadlineStream(self._inner.start_tls(ssl_context, server_hostname, timeout))

    def get_extra_info(self, info: str) -> Any:
        return self._inner.get_extra_info(info)


class _DeadlineBackend(httpcore.NetworkBackend):
    """httpcore's synchronous socket backend with deadline-aware streams."""

    def __init__(self, inner: httpcore.NetworkBackend) -> None:
        self._inner = inner

    def connect_tcp(
        self,
        host: str,
        port: int,
        timeout: float | None = None,
        local_address: str | None = None,
        socket_options: Any = None,
    ) -> httpcore.NetworkStream:
        deadline = getattr(_STATE, "deadline", None)
        if deadline is not None:
            remaining = max(deadline - time.monotonic(), 0.001)
            timeout = remaining if timeout is None else min(timeout, remaining)
        return _DeadlineStream(
            self._inner.connect_tcp(host, port, timeout, local_address, socket_options)
        )

    def connect_unix_socket(
        self, path: str, timeout: float | None = None, socket_options: Any = None
    ) -> httpcore.NetworkStream:
        return _DeadlineStream(self._inner.connect_unix_socket(path, timeout, socket_options))

    def sleep(self, seconds: float) -> None:
        self._inner.sleep(seconds)


def deadline_transport(max_connections: int) -> httpx.HTTPTransport:
    """An httpx transport whose sockets enforce each request's total deadline."""
    transport = httpx.HTTPTransport(limits=httpx.Limits(max_connections=max_connections))
    pool = transport._pool
    pool._network_backend = _DeadlineBackend(pool._network_backend)
    return transport


def secrets_of(api_key: str | None, auth: tuple[str, str] | None) -> list[str]:
    """The strings that must never be printed: the key, the URL password and its header."""
    out = [api_key or ""]
    if auth is not None:
        out.append(auth[1])
        out.append(base64.b64encode(f"{auth[0]}:{auth[1]}".encode()).decode())
    return sorted({s for s in out if len(s) >= 3}, key=len, reverse=True)


def redact_secrets(text: str, secrets: list[str]) -> str:
    """`text` with every secret, and whatever follows "Bearer"/"Basic", replaced by ***."""
    for secret in secrets:
        text = text.replace(secret, "***")
    return _AUTH_WORDS.sub(r"\1 ***", text)


class JsonClient:
    """POST JSON to one server: total deadline per attempt, retries with exponential
    backoff and full jitter on 429/5xx and dropped connections, Retry-After honoured."""

    def __init__(
        self,
        base_url: str,
        *,
        timeout: float,
        max_retries: int,
        connections: int,
        api_key: str | None = None,
        auth: tuple[str, str] | None = None,
    ) -> None:
        headers = {"Authorization": f"Bearer {api_key}"} if api_key and auth is None else {}
        self.base_url = base_url
        self.timeout = timeout
        self.max_retries = max_retries
        self.secrets = secrets_of(api_key, auth)
        self.client = httpx.Client(
            base_url=base_url,
            headers=headers,
            auth=auth,
            timeout=httpx.Timeout(timeout, connect=min(timeout, 10.0)),
            transport=deadline_transport(connections),
        )

    def close(self) -> None:
        """Close the connection pool."""
        self.client.close()

    def post(self, path: str, body: dict[str, Any], stop: threading.Event | None = None) -> Any:
        """The decoded JSON answer; RequestFailed when the server fails for good, Interrupted
        when `stop` is set."""
        _STATE.stop = stop
        try:
            return self._post(path, body, stop)
        finally:
            _STATE.stop = None
            _STATE.deadline = None

    def _post(self, path: str, body: dict[str, Any], stop: threading.Event | None) -> Any:
        where = f"server {self.base_url}"
        for attempt in range(self.max_retries + 1):
            last_try = attempt == self.max_retries
            wait: float | None = None
            _STATE.deadline = time.monotonic() + self.timeout
            try:
                resp = self.client.post(path, json=body)
            except (
                httpx.ConnectError,
                httpx.RemoteProtocolError,
                httpx.ReadError,
                httpx.WriteError,
            ) as exc:
                if last_try:
                    raise RequestFailed(
                        f"{where} unreachable ({type(exc).__name__})", unreachable=True
                    ) from None
            except httpx.TimeoutException:
                if last_try:
                    raise RequestFailed(
                        f"{where} timed out (no full answer within {self.timeout:g} s, "
                        "HOMOGENY_TIMEOUT)"
                    ) from None
            else:
                if resp.status_code < 400:
                    try:
                        return resp.json()
                    except ValueError:
                        raise RequestFailed(f"{where} sent a non-JSON answer") from None
                status = f"HTTP {resp.status_code}"
                if resp.status_code not in RETRY_STATUS:
                    detail = self.redact(resp.text).replace("\n", " ")[:200]
                    raise RequestFailed(f"{where} refused the request ({status}: {detail})")
                if last_try:
                    raise RequestFailed(f"{where} kept failing ({status})")
                wait = _retry_after(resp)
            _STATE.deadline = None
            self._pause(
                wait if wait is not None else random.uniform(0, min(8.0, 0.5 * 2**attempt)), stop
            )
        raise RequestFailed(f"{where} failed")  # not reached: the last try raises

    def redact(self, text: str) -> str:
        """`text` without this client's secrets."""
        return redact_secrets(text, self.secrets)

    @staticmethod
    def _pause(seconds: float, stop: threading.Event | None) -> None:
        if stop is None:
            time.sleep(seconds)
        elif stop.wait(seconds):
            raise Interrupted("stopped")


def _retry_after(resp: httpx.Response) -> float | None:
    value = resp.headers.get("retry-after", "")
    if value.replace(".", "", 1).isdigit():
        return min(float(value), 30.0)
    return None
