"""The job store on both engines: records survive a reopen, the last save of a job wins, deletes stick."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from pathlib import Path

import pytest

from demo_app.jobs import JobStatus, JobStore
from demo_app.jobs._store import JobRecord

Opener = Callable[[], Awaitable[JobStore]]


@pytest.fixture(params=["tinydb", "postgres"])
def open_store(request: pytest.FixtureRequest, tmp_path: Path) -> Opener:
    if request.param == "tinydb":

        async def on_file() -> JobStore:
            return JobStore(tmp_path / "jobs.json")

        return on_file
    database = request.getfixturevalue("database")

    async def on_database() -> JobStore:
        return await JobStore.on_database(database)

    return on_database


def record(job_id: str, **changes: object) -> JobRecord:
    made = JobRecord(
        job_id=job_id,
        owner="browser:a",
        model="wan-video/wan-2.2-s2v",
        created_at=datetime(2025, 3, 1, 12, tzinfo=UTC),
        source_image="face.png",
        source_audio="voice.wav",
    )
    return made.model_copy(update=changes)


async def test_saves_at_once_leave_the_last_and_survive_a_reopen(open_store: Opener) -> None:
    store = await open_store()
    steps = [record("job-1", message=f"step {i}", status=JobStatus.PROCESSING) for i in range(30)]
    await asyncio.gather(*(store.save(step) for step in steps), store.save(record("job-2")))
    store.close()
    reopened = await open_store()
    again = reopened.get("job-1")
    assert again is not None and (again.message, again.status) == ("step 29", JobStatus.PROCESSING)
    assert sorted(r.job_id for r in reopened.all()) == ["job-1", "job-2"]
    await reopened.delete(["job-1"])
    reopened.close()
    last = await open_store()
    assert [r.job_id for r in last.all()] == ["job-2"] and last.get("job-1") is None
    last.close()
