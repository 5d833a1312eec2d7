"""OpenAI-compatible HTTP backend (vLLM, llama-server, llama-cpp-python's server, Ollama, APIs).

Chat and completions endpoints over httpx; bounded concurrency; retries with exponential
backoff and full jitter on 429/5xx and dropped connections; the API key is read from an
environment variable (HOMOGENY_API_KEY, else OPENAI_API_KEY) and never stored or printed.
"""

from __future__ import annotations

import hashlib
import os
import random
import threading
import time
from collections.abc import Iterator
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from typing import Any

import httpx

from homogeny.errors import ServerError
from homogeny.generate.params import SamplingParams
from homogeny.models import ModelSpec
from homogeny.models.base import Completion, ModelInfo
from homogeny.suites.prompt import Prompt

RETRY_STATUS = {408, 409, 425, 429, 500, 502, 503, 504}


def openai_info(spec: ModelSpec) -> ModelInfo:
    """Identity of a served model: its sha256 stands for (URL, model name), the only handle."""
    digest = hashlib.sha256(f"openai|{spec.target}|{spec.name}".encode()).hexdigest()
    return ModelInfo(model_id=spec.name, sha256=digest, backend="openai", spec=str(spec), kind="instruct")


def load_openai(spec: ModelSpec) -> OpenAIBackend:
    return OpenAIBackend(spec)


class RequestFailed(Exception):
    """A request failed for good (after retries) or the server is unreachable."""

    def __init__(self, message: str, unreachable: bool = False) -> None:
        super().__init__(message)
        self.unreachable = unreachable


class OpenAIBackend:
    """A model behind an OpenAI-compatible server. Thread-safe: httpx.Client is."""

    def __init__(
        self,
        spec: ModelSpec,
        concurrency: int | None = None,
        timeout: float | None = None,
        max_retries: int | None = None,
    ) -> None:
        self.spec = spec
        self.info = openai_info(spec)
        self.concurrency = concurrency or int(os.environ.get("HOMOGENY_CONCURRENCY", "8"))
        self.max_retries = max_retries if max_retries is not None else int(os.environ.get("HOMOGENY_MAX_RETRIES", "4"))
        t = timeout or float(os.environ.get("HOMOGENY_TIMEOUT", "120"))
        headers = {}
        key = os.environ.get("HOMOGENY_API_KEY") or os.environ.get("OPENAI_API_KEY")
        if key:
            headers["Authorization"] = f"Bearer {key}"
        self.client = httpx.Client(
            base_url=spec.target, headers=headers, timeout=httpx.Timeout(t, connect=min(t, 10.0)),
            limits=httpx.Limits(max_connections=self.concurrency * 2),
        )
        self._lock = threading.Lock()

    def close(self) -> None:
        self.client.close()

    # ---- one request --------------------------------------------------------------------
    def _payload(self, prompt: Prompt, params: SamplingParams, seed: int) -> tuple[str, dict[str, Any]]:
        body: dict[str, Any] = {
            "model": self.spec.name,
            "temperature": params.temperature,
            "top_p": params.top_p,
            "max_tokens": params.max_tokens,
            "seed": seed % (2**31 - 1),
        }
        # Non-standard but honoured by vLLM and llama.cpp servers; sent only when used.
        if params.min_p > 0:
            body["min_p"] = params.min_p
        if params.top_k > 0:
            body["top_k"] = params.top_k
        if params.stop:
            body["stop"] = list(params.stop)
        if params.chat is False:
            text = prompt.text or "\n".join(c for _, c in prompt.messages)
            body.update(prompt=text, logprobs=5)
            return "/completions", body
        body.update(messages=prompt.as_messages(), logprobs=True, top_logprobs=5)
        return "/chat/completions", body

    def _post(self, path: str, body: dict[str, Any]) -> dict[str, Any]:
        """POST with retries: backoff base 0.5 s doubling, full jitter, Retry-After honoured."""
        last = ""
        for attempt in range(self.max_retries + 1):
            try:
                resp = self.client.post(path, json=body)
            except (httpx.ConnectError, httpx.RemoteProtocolError, httpx.ReadError, httpx.WriteError) as exc:
                last = f"{type(exc).__name__}"
                if attempt == self.max_retries:
                    raise RequestFailed(f"server {self.spec.target} unreachable ({last})", unreachable=True) from None
            except httpx.TimeoutException:
                last = "timeout"
                if attempt == self.max_retries:
                    raise RequestFailed(f"server {self.spec.target} timed out") from None
            else:
                if resp.status_code < 400:
                    try:
                        return resp.json()
                    except ValueError:
                        raise RequestFailed(f"server {self.spec.target} sent a non-JSON answer") from None
                last = f"HTTP {resp.status_code}"
                if resp.status_code not in RETRY_STATUS:
                    detail = resp.text[:200].replace("\n", " ")
                    raise RequestFailed(f"server {self.spec.target} refused the request ({last}: {detail})")
                if attempt == self.max_retries:
                    raise RequestFailed(f"server {self.spec.target} kept failing ({last})")
                retry_after = resp.headers.get("retry-after", "")
                if retry_after.replace(".", "", 1).isdigit():
                    time.sleep(min(float(retry_after), 30.0))
                    continue
            time.sleep(random.uniform(0, min(8.0, 0.5 * 2**attempt)))
        raise RequestFailed(f"server {self.spec.target} failed ({last})")

    def sample_one(self, prompt: Prompt, params: SamplingParams, seed: int) -> Completion:
        """One sample through the server, with its logprobs when the server returns them."""
        path, body = self._payload(prompt, params, seed)
        started = time.perf_counter()
        data = self._post(path, body)
        try:
            choice = data["choices"][0]
        except (KeyError, IndexError, TypeError):
            raise RequestFailed(f"server {self.spec.target} answered without choices") from None
        text, lps, tops = parse_choice(choice, chat=path.endswith("chat/completions"))
        usage = data.get("usage") or {}
        return Completion(
            text=text, token_ids=[], logprobs=lps, top_logprobs=tops,  # type: ignore[arg-type]
            finish_reason=str(choice.get("finish_reason") or ""),
            n_prompt_tokens=int(usage.get("prompt_tokens") or 0),
            n_tokens=int(usage.get("completion_tokens") or len(lps)),
            seconds=time.perf_counter() - started,
        )

    # ---- backend contract ---------------------------------------------------------------
    def generate(self, prompt: Prompt, params: SamplingParams, seeds: list[int]) -> list[Completion]:
        """len(seeds) samples, requested concurrently; raises ServerError when one fails."""
        out: list[Completion | None] = [None] * len(seeds)
        for (_, idx), result in self.generate_stream([(prompt, [i]) for i in range(len(seeds))], params, lambda p, i: seeds[i]):
            if isinstance(result, Exception):
                raise ServerError(f"{result}; rerun to resume") from None
            out[idx[0]] = result[0]
        return [c for c in out if c is not None]

    def generate_stream(
        self, items: list[tuple[Any, list[int]]], params: SamplingParams, seed_of: Any
    ) -> Iterator[tuple[tuple[Any, list[int]], list[Completion] | Exception]]:
        """Run (item, indices) requests with at most `concurrency` in flight, yielding results
        as they finish so the caller stores them at once (memory stays flat in run size).
        A request that fails for good yields its exception; an unreachable server stops the
        stream with ServerError after what finished has been yielded."""
        pending: set[Future[Any]] = set()
        it = iter((item, i) for item in items for i in item[1])
        with ThreadPoolExecutor(max_workers=self.concurrency) as pool:
            def submit_next() -> bool:
                nxt = next(it, None)
                if nxt is None:
                    return False
                (item, idx) = nxt
                prompt = item[0].prompt if hasattr(item[0], "prompt") else item[0]
                fut = pool.submit(self.sample_one, prompt, params, seed_of(item[0], idx))
                fut.tag = (item[0], [idx])  # type: ignore[attr-defined]
                pending.add(fut)
                return True

            for _ in range(self.concurrency):
                if not submit_next():
                    break
            unreachable: RequestFailed | None = None
            while pending:
                done, _ = wait(pending, return_when=FIRST_COMPLETED)
                for fut in done:
                    pending.discard(fut)
                    exc = fut.exception()
                    if isinstance(exc, RequestFailed) and exc.unreachable:
                        unreachable = exc
                    yield fut.tag, (exc if exc is not None else [fut.result()])  # type: ignore[attr-defined]
                    if unreachable is None:
                        submit_next()
            if unreachable is not None:
                raise ServerError(
                    f"{unreachable}; is the server running? samples finished so far are stored, rerun to resume"
                )

    def hidden_states(self, texts: list[str]) -> list[Any]:
        raise NotImplementedError("an OpenAI-compatible server gives no hidden states; use a zoo, gguf or hf model")


def parse_choice(choice: dict[str, Any], chat: bool) -> tuple[str, list[float], list[list[tuple[str, float]]]]:
    """Text, per-token logprobs and top alternatives from one OpenAI-style choice."""
    lp = choice.get("logprobs") or {}
    if chat:
        text = (choice.get("message") or {}).get("content") or ""
        content = lp.get("content") or []
        lps = [float(t.get("logprob", 0.0)) for t in content]
        tops = [[(a.get("token", ""), float(a.get("logprob", 0.0))) for a in t.get("top_logprobs") or []] for t in content]
        return text, lps, tops
    text = choice.get("text") or ""
    lps = [float(x) for x in (lp.get("token_logprobs") or []) if x is not None]
    tops = [[(k, float(v)) for k, v in (d or {}).items()] for d in (lp.get("top_logprobs") or [])]
    return text, lps, tops
