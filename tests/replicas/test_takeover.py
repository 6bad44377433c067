"""A replica SIGKILLed with jobs in flight: the other takes its jobs over once their leases expire
and carries each to one settlement, without creating any prediction twice; the visitors' statements
are those a single app on TinyDB writes for the same history."""

from __future__ import annotations

import signal
import time
from collections import Counter
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import httpx
import pytest
from gradio_client import Client, handle_file

from bench._queue import FACE
from demo_app.visitors import KeyRing
from tests.postgres import Cluster
from tests.replicas.harness import REPLICAS, Deployment, Engine, comparable, deployment, engine, single_app

VISITORS = ("browser:kim", "browser:lou")
JOBS_EACH = 2
LEASE_S = 3.0
SETTINGS = {
    "LIPSYNC_STARTING_GRANT": "2000",
    "LIPSYNC_GRANTS_PER_ADDRESS_PER_DAY": "100",
    "LIPSYNC_JOB_LEASE_S": str(LEASE_S),
}
SETTLE_WITHIN_S = 120.0

pytestmark = [
    pytest.mark.slow,
    pytest.mark.timeout(600),
]


@pytest.fixture(scope="module")
def work(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("takeover")


@pytest.fixture(scope="module")
def slow_engine(work: Path) -> Iterator[Engine]:
    """Each prediction takes about 12 s: long enough to kill a replica while it follows one."""
    with engine(work, time_scale=2.0) as running:
        yield running


@pytest.fixture(scope="module")
def lb(work: Path, slow_engine: Engine, postgres: Cluster) -> Iterator[Deployment]:
    with deployment(work, slow_engine, postgres.new_database(), SETTINGS) as running:
        yield running


def start_jobs(url: str, key: str, voice: Path) -> tuple[str, list[str]]:
    """JOBS_EACH jobs started at once through /start; the replica that took them, and their ids."""
    client = Client(url, verbose=False)
    try:
        ids = [
            client.predict(key, handle_file(FACE), handle_file(voice), api_name="/start")["job_id"]
            for _ in range(JOBS_EACH)
        ]
        return client.cookies.get("SERVERID", ""), ids
    finally:
        client.close()


def wait_settled(url: str, key: str, ids: list[str]) -> dict[str, Any]:
    """Poll /status (through the balancer, so from whichever replica answers) until every job
    ended; then the visitor's /credits."""
    client = Client(url, verbose=False)
    try:
        deadline = time.monotonic() + SETTLE_WITHIN_S
        while any(client.predict(key, job, api_name="/status")["status"] != "succeeded" for job in ids):
            assert time.monotonic() < deadline, [client.predict(key, job, api_name="/status") for job in ids]
            time.sleep(0.5)  # another process follows the job; /status is the only way to ask it
        credits: dict[str, Any] = client.predict(key, api_name="/credits")
        return credits
    finally:
        client.close()


def predictions_created(slow_engine: Engine) -> int:
    stats = httpx.get(
        slow_engine.url + "/_engine/stats", headers={"Authorization": f"Bearer {slow_engine.token}"}
    )
    stats.raise_for_status()
    return len(stats.json()["predictions"])


def test_a_killed_replicas_jobs_are_finished_by_the_other_and_settled_once(
    lb: Deployment, slow_engine: Engine, work: Path
) -> None:
    voice = work / "ready-clip-voice.wav"
    keys = KeyRing(lb.api_key_secret.encode())
    with ThreadPoolExecutor(len(VISITORS)) as pool:
        started = list(pool.map(lambda owner: start_jobs(lb.url, keys.key_for(owner), voice), VISITORS))
    assert sorted(server for server, _ in started) == sorted(REPLICAS)
    victim = started[0][0]
    lb.processes[victim].send_signal(signal.SIGKILL)
    lb.processes[victim].wait()

    settled = [
        wait_settled(lb.url, keys.key_for(owner), ids)
        for owner, (_, ids) in zip(VISITORS, started, strict=True)
    ]
    assert predictions_created(slow_engine) == len(VISITORS) * JOBS_EACH
    for credits in settled:
        kinds = Counter(line["kind"] for line in credits["statement"])
        assert kinds["hold"] == kinds["capture"] == JOBS_EACH and credits["held"] == 0, credits

    env = {**SETTINGS, "LIPSYNC_API_KEY_SECRET": lb.api_key_secret}
    with single_app(work, slow_engine, env) as url:
        alone = []
        for owner in VISITORS:
            _, ids = start_jobs(url, keys.key_for(owner), voice)
            alone.append(wait_settled(url, keys.key_for(owner), ids))
    assert [comparable(c) for c in settled] == [comparable(c) for c in alone]
