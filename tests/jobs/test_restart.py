"""A job process SIGKILLed at each stage; a fresh process recovers and settles each hold exactly once.

On both storage engines: TinyDB files in the data directory, and PostgreSQL (the data
directory then keeps only files: uploads and videos).
"""

from __future__ import annotations

import json
import os
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests import forked
from tests.conftest import ENGINE_TOKEN, LoopbackFactory
from tests.jobs.checks import assert_playable

ROOT = Path(__file__).resolve().parents[2]

pytestmark = pytest.mark.slow


@pytest.fixture
def engine_url(loopback_engine: LoopbackFactory) -> Iterator[str]:
    """An engine on real sockets that outlives the job processes, as Replicate would."""
    with loopback_engine("slow_progress", time_scale=5.0) as server:
        yield server.base_url


def run_worker(env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    """`python -m tests.jobs.restart_worker ARGS` in its own process (forked, see tests.forked)."""
    return forked.run("tests.jobs.restart_worker", list(args), env, timeout=180)


@pytest.fixture(params=["tinydb", "postgres"])
def storage_env(request: pytest.FixtureRequest) -> dict[str, str]:
    """The environment choosing the engine: no database URL, or a fresh database's (with short
    leases: the recovering process takes the killed one's jobs over once its lease runs out)."""
    if request.param == "tinydb":
        return {}
    return {"LIPSYNC_DATABASE_URL": request.getfixturevalue("database_url"), "LIPSYNC_JOB_LEASE_S": "1"}


@pytest.mark.parametrize(
    ("stage", "outcome"),
    [
        ("after_hold", "release"),
        ("after_create", "capture"),
        ("following", "capture"),
        ("downloading", "capture"),
        ("before_capture", "capture"),
    ],
)
def test_kill_at_each_stage_then_recover(
    engine_url: str, tmp_path: Path, voice: Path, stage: str, outcome: str, storage_env: dict[str, str]
) -> None:
    env = dict(os.environ)
    env.pop("LIPSYNC_DATABASE_URL", None)
    env.update(storage_env)
    env.update(
        DATA_DIR=str(tmp_path / "data"),
        ENGINE_URL=engine_url,
        ENGINE_TOKEN=ENGINE_TOKEN,
        FACE=str(ROOT / "assets" / "sample-face.png"),
        VOICE=str(voice),
    )
    killed = run_worker(env, "start", stage)
    assert killed.returncode == -9, killed.stdout + killed.stderr
    assert json.loads(killed.stdout.strip().splitlines()[-1])["killed_at"] == stage

    recovered = run_worker(env, "recover")
    assert recovered.returncode == 0, recovered.stderr
    (job,) = json.loads(recovered.stdout.strip().splitlines()[-1])
    settlements = [line for line in job["lines"] if line["kind"] in {"capture", "release"}]
    assert len(settlements) == 1, job
    assert settlements[0]["kind"] == outcome
    assert job["open_holds"] == 0
    if outcome == "capture":
        assert job["status"] == "succeeded"
        assert settlements[0]["amount"] == job["charged"] <= job["held"]
        assert_playable(job["video_path"])
    else:
        assert job["status"] == "failed"
        assert settlements[0]["amount"] == job["held"]

    again = run_worker(env, "recover")
    (same,) = json.loads(again.stdout.strip().splitlines()[-1])
    assert same["lines"] == job["lines"], "a second recovery must settle nothing"
    files = [p.name for p in (tmp_path / "data").iterdir()]
    stored = {name.split(".")[0] for name in files if name.startswith(("ledger.json", "jobs.json"))}
    assert stored == (set() if storage_env else {"ledger", "jobs"}), files
