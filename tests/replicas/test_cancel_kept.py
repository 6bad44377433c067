"""A cancel asked on one replica while the other follows the job, and the follower killed before it
acts: the replica taking the job over cancels the prediction upstream and releases the hold, once.

The follower is frozen (SIGSTOP) before the cancel, so it holds its lease and hears nothing, then
SIGKILLed: the cancel's announcement reached nobody who acts on it. Once the lease has run out,
the other replica claims the job with the wish kept on its row and carries it out (in
tests/jobs/test_replicas.py a third replica, which never saw the cancel, does the same)."""

from __future__ import annotations

import signal
import time
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from gradio_client import Client, handle_file

from bench._queue import FACE
from demo_app.visitors import KeyRing
from tests.postgres import Cluster
from tests.replicas.harness import Deployment, Engine, deployment, engine

OWNER = "browser:changed-mind"
LEASE_S = 3.0
SETTINGS = {
    "LIPSYNC_STARTING_GRANT": "2000",
    "LIPSYNC_GRANTS_PER_ADDRESS_PER_DAY": "100",
    "LIPSYNC_JOB_LEASE_S": str(LEASE_S),
    "LIPSYNC_CANCEL_WAIT_S": "0.5",
}
WITHIN_S = 60.0

pytestmark = [pytest.mark.slow, pytest.mark.timeout(600)]


@pytest.fixture(scope="module")
def work(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("cancel-kept")


@pytest.fixture(scope="module")
def long_engine(work: Path) -> Iterator[Engine]:
    """The ready clip at its real pace: a job runs about 23 s, longer than the whole story."""
    with engine(work, time_scale=1.0) as running:
        yield running


@pytest.fixture(scope="module")
def lb(work: Path, long_engine: Engine, postgres: Cluster) -> Iterator[Deployment]:
    with deployment(work, long_engine, postgres.new_database(), SETTINGS) as running:
        yield running


def status_until(client: Client, key: str, job_id: str, wanted: set[str]) -> dict[str, Any]:
    """Poll /status until the job's status is one of `wanted` (another process follows the job;
    /status is the only way to ask it)."""
    deadline = time.monotonic() + WITHIN_S
    while (snap := client.predict(key, job_id, api_name="/status"))["status"] not in wanted:
        assert time.monotonic() < deadline, snap
        time.sleep(0.3)
    result: dict[str, Any] = snap
    return result


def engine_predictions(running: Engine) -> list[dict[str, Any]]:
    stats = httpx.get(running.url + "/_engine/stats", headers={"Authorization": f"Bearer {running.token}"})
    stats.raise_for_status()
    predictions: list[dict[str, Any]] = stats.json()["predictions"]
    return predictions


def test_a_cancel_the_killed_follower_never_acted_on_is_carried_out_by_the_takeover(
    lb: Deployment, long_engine: Engine, work: Path
) -> None:
    key = KeyRing(lb.api_key_secret.encode()).key_for(OWNER)
    follower, other = Client(lb.replicas["app1"], verbose=False), Client(lb.replicas["app2"], verbose=False)
    try:
        voice = handle_file(work / "ready-clip-voice.wav")
        job_id = follower.predict(key, handle_file(FACE), voice, api_name="/start")["job_id"]
        status_until(follower, key, job_id, {"processing"})
        lb.processes["app1"].send_signal(signal.SIGSTOP)
        try:
            asked = other.predict(key, job_id, api_name="/cancel")
            assert asked["status"] == "processing", "nobody has acted on the cancel yet"
        finally:
            lb.processes["app1"].send_signal(signal.SIGKILL)
            lb.processes["app1"].wait()

        final = status_until(other, key, job_id, {"succeeded", "failed", "canceled", "timed_out"})
        assert final["status"] == "canceled", final
        (prediction,) = engine_predictions(long_engine)
        assert prediction["status"] == "canceled", "the prediction was stopped upstream"
        credits = other.predict(key, api_name="/credits")
        kinds = Counter(line["kind"] for line in credits["statement"])
        assert kinds["hold"] == kinds["release"] == 1 and kinds["capture"] == 0 and credits["held"] == 0, (
            credits
        )
    finally:
        follower.close()
        other.close()
