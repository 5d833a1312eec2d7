"""OpenAI-compatible HTTP backend (vLLM, llama-server, llama-cpp-python's server, Ollama, APIs).

Chat and completions endpoints over httpx (models/http.py: a total deadline per request,
retries with backoff, redaction); bounded concurrency; the first Ctrl-C stops every request
in flight. The API key is read from HOMOGENY_API_KEY, else OPENAI_API_KEY, and never stored
or printed; credentials in the URL are sent as basic auth and never stored or printed either.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from typing import Any, ClassVar

from homogeny import config
from homogeny.errors import ServerError
from homogeny.models.base import Backend, Completion, Request, Result
from homogeny.models.http import Interrupted, JsonClient, RequestFailed
from homogeny.models.params import SamplingParams
from homogeny.models.spec import ModelSpec, openai_info
from homogeny.suites.prompt import Prompt

__all__ = ["Interrupted", "OpenAIBackend", "RequestFailed", "openai_info", "parse_choice"]


class OpenAIBackend(Backend):
    """A model behind an OpenAI-compatible server. Thread-safe: httpx.Client is."""

    name: ClassVar[str] = "openai"
    capabilities: ClassVar[frozenset[str]] = frozenset({"generate"})

    def __init__(
        self,
        spec: ModelSpec,
        concurrency: int | None = None,
        timeout: float | None = None,
        max_retries: int | None = None,
    ) -> None:
        self.spec = spec
        self.info = openai_info(spec)
        self.concurrency = concurrency or config.concurrency()
        self.max_retries = max_retries if max_retries is not None else config.max_retries()
        self.http = JsonClient(
            spec.target,
            timeout=timeout or config.timeout(),
            max_retries=self.max_retries,
            connections=self.concurrency * 2,
            api_key=config.api_key(),
            auth=spec.auth,
        )

    def close(self) -> None:
        """Close the connection pool."""
        self.http.close()

    # ---- one request --------------------------------------------------------------------
    def _payload(
        self, prompt: Prompt, params: SamplingParams, seed: int
    ) -> tuple[str, dict[str, Any]]:
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

    def sample_one(
        self, prompt: Prompt, params: SamplingParams, seed: int, stop: threading.Event | None = None
    ) -> Completion:
        """One sample through the server, with its logprobs when the server returns them."""
        path, body = self._payload(prompt, params, seed)
        started = time.perf_counter()
        data = self.http.post(path, body, stop)
        try:
            choice = data["choices"][0]
        except (KeyError, IndexError, TypeError):
            raise RequestFailed(f"server {self.spec.target} answered without choices") from None
        text, lps, tops = parse_choice(choice, chat=path.endswith("chat/completions"))
        usage = data.get("usage") or {}
        return Completion(
            text=text,
            token_ids=[],
            logprobs=lps,
            top_logprobs=tops,  # type: ignore[arg-type]
            finish_reason=str(choice.get("finish_reason") or ""),
            n_prompt_tokens=int(usage.get("prompt_tokens") or 0),
            n_tokens=int(usage.get("completion_tokens") or len(lps)),
            seconds=time.perf_counter() - started,
        )

    # ---- backend contract ---------------------------------------------------------------
    def generate(
        self, prompt: Prompt, params: SamplingParams, seeds: list[int]
    ) -> list[Completion]:
        """len(seeds) samples, requested concurrently; raises ServerError when one fails."""
        out: list[Completion | None] = [None] * len(seeds)
        for _, positions, result in self.generate_batch([(prompt, seeds)], params):
            if isinstance(result, Exception):
                raise ServerError(f"{result}; rerun to resume") from None
            out[positions[0]] = result[0]
        return [c for c in out if c is not None]

    def generate_batch(
        self, requests: Sequence[Request], params: SamplingParams
    ) -> Iterator[Result]:
        """One HTTP request per sample, at most `concurrency` in flight, each sample yielded
        as it comes back so the caller stores it at once. A sample that fails for good yields
        its exception; an unreachable server stops the stream with ServerError after what
        finished has been yielded. On Ctrl-C (or when the caller stops iterating) the requests
        in flight are stopped within a quarter second and KeyboardInterrupt goes on."""
        jobs = iter([(i, j) for i, (_, seeds) in enumerate(requests) for j in range(len(seeds))])
        stop = threading.Event()
        pool = ThreadPoolExecutor(max_workers=self.concurrency, thread_name_prefix="homogeny-http")
        pending: dict[Future[Completion], tuple[int, int]] = {}

        def submit_next() -> None:
            job = next(jobs, None)
            if job is not None:
                prompt, seeds = requests[job[0]]
                fut = pool.submit(self.sample_one, prompt, params, seeds[job[1]], stop)
                pending[fut] = job

        try:
            for _ in range(self.concurrency):
                submit_next()
            yield from _collect(pending, submit_next)
        finally:
            stop.set()  # a no-op after a full run; on Ctrl-C it ends the requests in flight
            pool.shutdown(wait=True, cancel_futures=True)


def _collect(
    pending: dict[Future[Completion], tuple[int, int]], submit_next: Callable[[], None]
) -> Iterator[Result]:
    """Yield finished samples, submitting one new request per finished one, until none is
    left or the server turns out unreachable (then ServerError)."""
    unreachable: RequestFailed | None = None
    while pending:
        done, _ = wait(list(pending), return_when=FIRST_COMPLETED)
        for fut in done:
            i, j = pending.pop(fut)
            exc = fut.exception()
            if isinstance(exc, Interrupted):
                raise KeyboardInterrupt
            if isinstance(exc, RequestFailed) and exc.unreachable:
                unreachable = exc
            yield i, [j], (exc if exc is not None else [fut.result()])
            if unreachable is None:
                submit_next()
    if unreachable is not None:
        raise ServerError(
            f"{unreachable}; is the server running? samples finished so far are stored, "
            "rerun to resume"
        )


def parse_choice(
    choice: dict[str, Any], chat: bool
) -> tuple[str, list[float], list[list[tuple[str, float]]]]:
    """Text, per-token logprobs and top alternatives from one OpenAI-style choice."""
    lp = choice.get("logprobs") or {}
    if chat:
        text = (choice.get("message") or {}).get("content") or ""
        content = lp.get("content") or []
        lps = [float(t.get("logprob", 0.0)) for t in content]
        tops = [
            [
                (a.get("token", ""), float(a.get("logprob", 0.0)))
                for a in t.get("top_logprobs") or []
            ]
            for t in content
        ]
        return text, lps, tops
    text = choice.get("text") or ""
    lps = [float(x) for x in (lp.get("token_logprobs") or []) if x is not None]
    tops = [[(k, float(v)) for k, v in (d or {}).items()] for d in (lp.get("top_logprobs") or [])]
    return text, lps, tops
