"""A replica stopped as `docker stop` stops it (SIGTERM) while visitors stream their jobs from it:
it exits within seconds, well inside the 10 s before docker kills it, and hands its jobs to the
other replica, which carries each on at once (not after the lease) to one settlement."""

from __future__ import annotations

import asyncio
import signal
import subprocess
import time
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from gradio_client import Client

from bench._queue import fn_index
from bench.stop_time import stream
from demo_app.visitors import KeyRing
from tests.postgres import Cluster
from tests.replicas.harness import STOP_S, Deployment, Engine, deployment, engine

STREAMS = 3
LEASE_S = 120.0
"""A takeover by the lease running out would take two minutes: the test would see it."""
SETTINGS = {
    "LIPSYNC_STARTING_GRANT": "2000",
    "LIPSYNC_GRANTS_PER_ADDRESS_PER_DAY": "100",
    "LIPSYNC_JOB_LEASE_S": str(LEASE_S),
}
STOPPED_WITHIN_S = 6.0
FINISHED_WITHIN_S = 60.0
"""The ready clip's remaining run (under 23 s) and the other replica's takeover, with room to spare."""

pytestmark = [pytest.mark.slow, pytest.mark.timeout(600)]


@pytest.fixture(scope="module")
def work(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("stop")


@pytest.fixture(scope="module")
def long_engine(work: Path) -> Iterator[Engine]:
    """The ready clip at its real pace: each job runs about 23 s, so its stream stays open."""
    with engine(work, time_scale=1.0) as running:
        yield running


@pytest.fixture(scope="module")
def lb(work: Path, long_engine: Engine, postgres: Cluster) -> Iterator[Deployment]:
    with deployment(work, long_engine, postgres.new_database(), SETTINGS) as running:
        yield running


async def open_streams(
    url: str, keys: KeyRing
) -> tuple[list[asyncio.Task[tuple[str, str]]], httpx.AsyncClient]:
    """STREAMS visitors' /generate streams on the replica at `url`, once each shows its job running."""
    http = httpx.AsyncClient(base_url=url, timeout=httpx.Timeout(30.0, read=600.0))
    fn = await fn_index(http, "generate")
    running = [asyncio.Event() for _ in range(STREAMS)]
    tasks = [
        asyncio.create_task(stream(http, fn, keys.key_for(f"browser:stop-{i}"), i, running[i]))
        for i in range(STREAMS)
    ]
    await asyncio.wait_for(asyncio.gather(*(event.wait() for event in running)), 90)
    return tasks, http


def wait_succeeded(url: str, keys: KeyRing, jobs: dict[str, str]) -> list[dict[str, Any]]:
    """Poll /status on the replica at `url` until every job (owner -> job id) succeeded; then
    each owner's /credits."""
    client = Client(url, verbose=False)
    try:
        deadline = time.monotonic() + FINISHED_WITHIN_S
        for owner, job_id in jobs.items():
            key = keys.key_for(owner)
            while (status := client.predict(key, job_id, api_name="/status"))["status"] != "succeeded":
                assert status["status"] in {"processing", "downloading"}, status
                assert time.monotonic() < deadline, status
                time.sleep(0.5)  # another process follows the job; /status is the only way to ask it
        return [client.predict(keys.key_for(owner), api_name="/credits") for owner in jobs]
    finally:
        client.close()


def predictions_created(running: Engine) -> int:
    stats = httpx.get(running.url + "/_engine/stats", headers={"Authorization": f"Bearer {running.token}"})
    stats.raise_for_status()
    return len(stats.json()["predictions"])


async def test_a_replica_stopped_with_open_streams_exits_in_seconds_and_hands_its_jobs_over(
    lb: Deployment, long_engine: Engine
) -> None:
    keys = KeyRing(lb.api_key_secret.encode())
    victim: subprocess.Popen[bytes] = lb.processes["app1"]
    tasks, http = await open_streams(lb.replicas["app1"], keys)
    try:
        signaled = time.monotonic()
        victim.send_signal(signal.SIGTERM)
        code = await asyncio.to_thread(victim.wait, STOP_S)
        took_s = time.monotonic() - signaled
        ended = await asyncio.wait_for(asyncio.gather(*tasks), 30)
    finally:
        await http.aclose()
    assert code == 0 and took_s < STOPPED_WITHIN_S, took_s
    jobs = {f"browser:stop-{i}": job_id for i, (job_id, _) in enumerate(ended)}
    assert all(jobs.values()), ended

    credits = await asyncio.to_thread(wait_succeeded, lb.replicas["app2"], keys, jobs)
    assert predictions_created(long_engine) == STREAMS, "no prediction is created twice"
    for each in credits:
        kinds = Counter(line["kind"] for line in each["statement"])
        assert kinds["hold"] == kinds["capture"] == 1 and kinds["release"] == 0 and each["held"] == 0, each
