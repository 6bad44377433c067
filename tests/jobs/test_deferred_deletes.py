"""An ended job's uploaded inputs are deleted in the read budget's spare lane: never while polls
wait, never lost (a restart deletes what a stopped process left), and waiting within bounds."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import httpx
import pytest

from demo_app.credits import utc_now
from demo_app.engine import Engine
from demo_app.engine._routes import DELETE_FILE
from demo_app.jobs import JobManager, JobSnapshot, JobStatus, JobStore, UploadDeletions
from demo_app.jobs._store import JobRecord
from demo_app.media import MediaWorkers
from demo_app.replicate import Pacer, Pacing, ReplicateClient, TokenBucket
from tests.conftest import ENGINE_TOKEN, EngineFactory
from tests.jobs.conftest import OWNER, TOKEN, StackFactory
from tests.virtual_time import ManualTime

MODEL = "wan-video/wan-2.2-s2v"
FLOOD = 5000
"""Polls kept waiting for the read budget: at 40 a second, two minutes of them."""


def files_on(engine: Engine, token: str) -> httpx.AsyncClient:
    """Plain HTTP to the engine (not paced), to see which uploads are still there."""
    return httpx.AsyncClient(
        base_url=Engine.base_url, transport=engine.transport(), headers={"Authorization": f"Bearer {token}"}
    )


async def file_ids(engine: Engine, token: str) -> set[str]:
    async with files_on(engine, token) as http:
        return {f["id"] for f in (await http.get("/v1/files")).json()["results"]}


class Flood:
    """Normal calls waiting for the read budget, as the polls of a crowd of running jobs do."""

    def __init__(self) -> None:
        self.tasks: list[asyncio.Task[None]] = []

    def start(self, budget: Pacer) -> None:
        self.tasks = [asyncio.create_task(budget.acquire()) for _ in range(FLOOD)]

    async def stop(self) -> None:
        for task in self.tasks:
            task.cancel()
        await asyncio.gather(*self.tasks, return_exceptions=True)


@pytest.fixture
async def flood() -> AsyncIterator[Flood]:
    waiting = Flood()
    yield waiting
    await waiting.stop()


async def test_deletes_wait_while_polls_wait_and_a_restart_does_them(
    make_stack: StackFactory, face: Path, voice: Path, media_workers: MediaWorkers, flood: Flood
) -> None:
    stack = await make_stack("normal")
    await stack.ledger.open_account(OWNER)

    def crowd_arrives_as_it_ends(snap: JobSnapshot) -> None:
        if snap.status is JobStatus.SUCCEEDED and not flood.tasks:
            flood.start(stack.client.pacing.reads)

    stack.hooks.append(crowd_arrives_as_it_ends)
    started = await stack.jobs.start(OWNER, str(face), str(voice), MODEL, {})
    final = await stack.jobs.wait(OWNER, started.job_id, timeout_s=60)
    assert final.status is JobStatus.SUCCEEDED
    uploaded = set(stack.jobs.record(OWNER, started.job_id).input_files)
    assert len(uploaded) == 2 and stack.jobs.deletions.waiting() == 2
    assert stack.client.pacing.reads.waiting() > FLOOD / 2  # the polls still wait ...
    assert stack.engine.requests[DELETE_FILE] == 0  # ... and the deletes wait behind them
    await stack.jobs.aclose()  # the process stops while the deletes wait
    await flood.stop()
    assert await file_ids(stack.engine, TOKEN) == uploaded

    jobs = await JobManager.open(
        settings=stack.settings, client=stack.client, ledger=stack.ledger, media_workers=media_workers
    )
    try:
        await asyncio.wait_for(jobs.deletions.drained(), timeout=30)
        assert await file_ids(stack.engine, TOKEN) == set()
        assert jobs.record(OWNER, started.job_id).input_files == []
    finally:
        await jobs.aclose()
    kept = JobStore(stack.settings.data_dir / "jobs.json")
    try:
        record = kept.get(started.job_id)
        assert record is not None and record.input_files == []  # a later restart has nothing to do
    finally:
        kept.close()


@pytest.fixture
async def engine(engine_factory: EngineFactory) -> Engine:
    return await engine_factory("normal")


@pytest.fixture
async def client(engine: Engine) -> AsyncIterator[ReplicateClient]:
    client = ReplicateClient(Engine.base_url, ENGINE_TOKEN, transport=engine.transport())
    yield client
    await client.aclose()


@pytest.fixture
def store(tmp_path: Path) -> Iterator[JobStore]:
    store = JobStore(tmp_path / "jobs.json")
    yield store
    store.close()


async def ended_job(store: JobStore, client: ReplicateClient, job_id: str, face: Path) -> list[str]:
    """A settled job's record listing two uploaded files that are really on the engine."""
    ids = [(await client.upload_file(face, content_type="image/png")).id for _ in range(2)]
    record = JobRecord(
        job_id=job_id,
        owner=OWNER,
        model=MODEL,
        status=JobStatus.SUCCEEDED,
        created_at=utc_now(),
        source_image=str(face),
        source_audio=str(face),
        input_files=ids,
        settled=True,
    )
    await store.save(record)
    return ids


async def test_past_the_bound_in_number_the_longest_waiting_are_given_up(
    engine: Engine,
    client: ReplicateClient,
    store: JobStore,
    face: Path,
    flood: Flood,
    caplog: pytest.LogCaptureFixture,
) -> None:
    first = await ended_job(store, client, "first", face)
    second = await ended_job(store, client, "second", face)
    deletions = UploadDeletions(client, store, max_files=3)
    flood.start(client.pacing.reads)
    await asyncio.sleep(0)
    caplog.set_level(logging.WARNING, logger="demo_app.jobs._deletes")
    deletions.add("first", first)
    deletions.add("second", second)  # 4 ids > 3: the first job's are given up
    deletions.add("second", second)  # already waiting: not twice
    assert deletions.waiting() == 2
    assert "job first: 2 uploaded input(s) left undeleted (too many deletes were waiting)" in caplog.text
    await flood.stop()  # the budget is idle now: the spare lane moves
    await asyncio.wait_for(deletions.drained(), timeout=30)
    assert await file_ids(engine, ENGINE_TOKEN) == set(first)
    kept_first, kept_second = store.get("first"), store.get("second")
    assert kept_first is not None and kept_first.input_files == first  # a restart tries them again
    assert kept_second is not None and kept_second.input_files == []
    assert ENGINE_TOKEN not in caplog.text


async def test_past_the_bound_in_time_a_waiting_delete_is_given_up(
    engine: Engine, store: JobStore, face: Path, flood: Flood, caplog: pytest.LogCaptureFixture
) -> None:
    """The delete waits first; polls arriving after it still go first, until it is given up."""
    clock = ManualTime()
    reads = TokenBucket(2400, clock=clock, sleep=clock.sleep)
    pacing = Pacing(reads=reads, creates=TokenBucket(500, clock=clock, sleep=clock.sleep))
    client = ReplicateClient(Engine.base_url, ENGINE_TOKEN, transport=engine.transport(), pacing=pacing)
    try:
        ids = await ended_job(store, client, "late", face)
        while reads.available() >= 1:  # the burst is spent; no token comes until the clock moves
            await reads.acquire()
        deletions = UploadDeletions(client, store, max_wait_s=0.3)
        caplog.set_level(logging.WARNING, logger="demo_app.jobs._deletes")
        deletions.add("late", ids)
        await asyncio.sleep(0)
        assert reads.waiting() == 1  # the delete waits for a token
        flood.start(reads)
        await asyncio.sleep(0)
        clock.advance(100 / reads.rate_per_s)  # a hundred tokens come ...
        await asyncio.wait_for(deletions.drained(), timeout=10)  # given up after 0.3 s of waiting
        assert FLOOD - reads.waiting() >= 99  # ... and went to the polls that came after it
        assert deletions.waiting() == 0
        assert "job late: 2 uploaded input(s) left undeleted (it waited 0.3 s)" in caplog.text
        assert engine.requests[DELETE_FILE] == 0
        assert await file_ids(engine, ENGINE_TOKEN) == set(ids)
        kept = store.get("late")
        assert kept is not None and kept.input_files == ids
        await deletions.aclose()
    finally:
        await client.aclose()
