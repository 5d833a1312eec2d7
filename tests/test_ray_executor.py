"""The Ray executor on a local 2-worker cluster: same samples as local, survives a killed worker."""

from __future__ import annotations

import logging
import os
import signal

import pytest

from homogeny.generate.engine import generate
from homogeny.models.params import SamplingParams
from homogeny.store import Store
from homogeny.suites.prompt import Prompt

pytestmark = [pytest.mark.ray, pytest.mark.slow]

PROMPTS = [Prompt(f"p{i}", f"Write one sentence about the colour number {i}.") for i in range(6)]
PARAMS = SamplingParams(temperature=1.0, max_tokens=16)


@pytest.fixture(scope="module")
def ray_cluster():
    ray = pytest.importorskip("ray")
    os.environ["HOMOGENY_RAY_WORKERS"] = "2"
    ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False, logging_level="ERROR")
    yield ray
    ray.shutdown()


def _texts(store: Store) -> dict[tuple[str, int], str]:
    return {
        (r["prompt_id"], r["sample_index"]): r["text"]
        for r in store.query("SELECT prompt_id, sample_index, text FROM samples")
    }


def test_ray_gives_the_same_samples_as_local(ray_cluster, smollm):
    with Store.open(":memory:") as local, Store.open(":memory:") as remote:
        generate(smollm, PROMPTS, 3, local, PARAMS, seed=5, progress=False)
        summary = generate(
            smollm, PROMPTS, 3, remote, PARAMS, seed=5, progress=False, executor="ray"
        )
        assert summary.generated == 18
        assert _texts(local) == _texts(remote)


class _KillOneWorker(logging.Handler):
    """On the first stored batch, kill -9 one Ray worker process that holds a model."""

    def __init__(self) -> None:
        super().__init__()
        self.killed: int | None = None

    def emit(self, record: logging.LogRecord) -> None:
        if self.killed is not None or "stored" not in record.getMessage():
            return
        import psutil

        for proc in psutil.process_iter(["pid", "cmdline"]):
            cmd = " ".join(proc.info["cmdline"] or [])
            if "GenerationActor" in cmd:
                os.kill(proc.info["pid"], signal.SIGKILL)
                self.killed = proc.info["pid"]
                return


def test_a_killed_worker_does_not_lose_samples(ray_cluster, smollm):
    handler = _KillOneWorker()
    log = logging.getLogger("homogeny.generate")
    log.addHandler(handler)
    log.setLevel(logging.INFO)
    try:
        with Store.open(":memory:") as st:
            summary = generate(
                smollm, PROMPTS, 3, st, PARAMS, seed=9, progress=False, executor="ray"
            )
            rows = st.query("SELECT key FROM samples")
    finally:
        log.removeHandler(handler)
    assert handler.killed is not None, "no worker process was found to kill"
    assert summary.generated == 18
    assert len({r["key"] for r in rows}) == 18
