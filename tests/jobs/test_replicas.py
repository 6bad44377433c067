"""Two replicas on one PostgreSQL database: one follower per job, a takeover when it dies or
stops, and viewers, cancels and webhooks that reach a job whichever replica follows it.

Each replica is the app's own `open_services` with a pool of its own, on one engine over HTTP.
Closing a replica's services stops its followers without settling anything and hands its leases
to the others, as a clean stop does; `die` first takes its database away, so it leaves its leases
to run out, as a killed process does.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import time
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any

import psycopg
import pytest

from demo_app.engine import CANCEL_PREDICTION, CREATES, GET_PREDICTION, Engine, RenderPool
from demo_app.jobs import JobManager, JobSnapshot, JobStatus
from demo_app.media import MediaWorkers
from demo_app.services import LocalEngine, Services, open_services
from demo_app.settings import Settings
from tests.jobs.conftest import ALL_MODELS, OWNER, TOKEN
from tests.jobs.receiver import serve_receiver

MODEL = "wan-video/wan-2.2-s2v"
LEASE_S = 1.0

Replica = Callable[..., contextlib.AbstractAsyncContextManager[Services]]


@pytest.fixture
async def engine(tmp_path: Path, render_pool: RenderPool) -> AsyncIterator[Engine]:
    engine = Engine(
        token=TOKEN,
        data_dir=tmp_path / "engine",
        scenario="slow_progress",
        time_scale=5.0,
        render_pool=render_pool,
    )
    await engine.start()
    yield engine
    await engine.aclose()


@pytest.fixture
def replica(tmp_path: Path, engine: Engine, media_workers: MediaWorkers, database_url: str) -> Replica:
    """Opens one more replica of the deployment: same database, a data directory of its own
    (share links are still TinyDB files, which one process holds at a time)."""
    opened = itertools.count(1)

    def open_one(
        observer: Callable[[JobSnapshot], None] | None = None, **overrides: Any
    ) -> contextlib.AbstractAsyncContextManager[Services]:
        values: dict[str, Any] = {
            "data_dir": tmp_path / f"replica-{next(opened)}",
            "database_url": database_url,
            "job_lease_s": LEASE_S,
            "poll_interval_s": 0.05,
            "starting_grant": 1000,
            "daily_budget": 100_000,
            "models": ALL_MODELS,
        }
        settings = Settings(_env_file=None, **(values | overrides))
        return open_services(
            settings, engine=LocalEngine(engine, TOKEN), media_workers=media_workers, observer=observer
        )

    return open_one


def creates(engine: Engine) -> int:
    return sum(count for route, count in engine.requests.items() if route in CREATES)


async def until(
    jobs: JobManager, job_id: str, wanted: Callable[[JobSnapshot], bool], within_s: float = 60.0
) -> JobSnapshot:
    """The first snapshot of the job, as this replica shows it, that is `wanted`."""
    async with asyncio.timeout(within_s):
        async for snap in jobs.subscribe(OWNER, job_id):
            if wanted(snap):
                return snap
    raise AssertionError(f"job {job_id} ended without the wanted snapshot")


async def lease_holders(url: str) -> list[Any]:
    async with await psycopg.AsyncConnection.connect(url) as conn:
        cur = await conn.execute("SELECT lease_holder FROM jobs")
        return [row[0] for row in await cur.fetchall()]


def running(snap: JobSnapshot) -> bool:
    return snap.status is JobStatus.PROCESSING and snap.prediction_id is not None


async def die(services: Services) -> None:
    """The replica loses its database at once, as a killed process does: nothing it does from
    now on reaches the database, so its leases are not handed back and run out."""
    assert services.database is not None
    await services.database.pool.close()


async def settlements(services: Services) -> list[str]:
    return [
        line.kind for line in await services.ledger.statement(OWNER) if line.kind in {"capture", "release"}
    ]


@pytest.mark.slow
async def test_a_dead_replicas_job_is_taken_over_and_settled_once(
    replica: Replica, engine: Engine, face: Path, voice: Path, database_url: str
) -> None:
    followed_by_b: list[JobSnapshot] = []
    async with replica(followed_by_b.append) as b:
        async with replica() as a:
            await a.ledger.open_account(OWNER)
            started = await a.jobs.start(OWNER, str(face), str(voice), MODEL, {})
            await until(a.jobs, started.job_id, running)
            seen_on_b = await until(b.jobs, started.job_id, running)  # B shows it, A follows it
            assert creates(engine) == 1
            (holder,) = await lease_holders(database_url)
            assert holder is not None
            assert followed_by_b == [], "only the replica that claimed the job follows it"
            await die(a)
        # A is gone without settling: its lease runs out and B carries the job on.
        final = await b.jobs.wait(OWNER, started.job_id, timeout_s=90)
        assert final.status is JobStatus.SUCCEEDED, final
        assert final.prediction_id == seen_on_b.prediction_id
        assert creates(engine) == 1, "the prediction must never be created twice"
        assert followed_by_b[-1].status is JobStatus.SUCCEEDED
        assert (await lease_holders(database_url)) != [holder]
        statement = await b.ledger.statement(OWNER)
        settlements = [line for line in statement if line.kind in {"capture", "release"}]
        assert [line.kind for line in settlements] == ["capture"]
        assert await b.ledger.open_holds() == []
        assert Path(final.video_path or "").is_file()


@pytest.mark.slow
async def test_a_viewer_on_one_replica_sees_the_progress_of_a_job_followed_by_the_other(
    replica: Replica, face: Path, voice: Path
) -> None:
    async with replica() as a, replica() as b:
        await a.ledger.open_account(OWNER)
        started = await a.jobs.start(OWNER, str(face), str(voice), MODEL, {})
        await until(a.jobs, started.job_id, lambda snap: snap.status is not JobStatus.QUEUED)  # written
        progress: list[float] = []
        async with asyncio.timeout(90):
            async for snap in b.jobs.subscribe(OWNER, started.job_id):
                if snap.progress is not None and (not progress or snap.progress != progress[-1]):
                    progress.append(snap.progress)
                last = snap
        assert last.status is JobStatus.SUCCEEDED
        assert len(progress) >= 3, progress  # the frames between start and end reached B
        assert progress == sorted(progress)
        assert last.charged == a.jobs.snapshot(OWNER, started.job_id).charged


@pytest.mark.slow
async def test_a_cancel_through_the_other_replica_stops_the_job(
    replica: Replica, engine: Engine, face: Path, voice: Path
) -> None:
    async with replica() as a, replica() as b:
        await a.ledger.open_account(OWNER)
        started = await a.jobs.start(OWNER, str(face), str(voice), MODEL, {})
        await until(a.jobs, started.job_id, running)
        await until(b.jobs, started.job_id, running)
        canceled = await b.jobs.cancel(OWNER, started.job_id)
        assert canceled.status is JobStatus.CANCELED, canceled
        on_a = await a.jobs.wait(OWNER, started.job_id, timeout_s=30)
        assert on_a.status is JobStatus.CANCELED
        settlements = [
            line for line in await a.ledger.statement(OWNER) if line.kind in {"capture", "release"}
        ]
        assert len(settlements) == 1
        assert creates(engine) == 1


@pytest.mark.slow
async def test_webhooks_arriving_at_the_other_replica_reach_the_follower(
    replica: Replica, engine: Engine, face: Path, voice: Path
) -> None:
    # The load balancer sends every webhook to B; A follows the job and would read it unasked
    # only after a minute: a job ending within seconds was woken through B.
    quiet = {"poll_interval_s": 60.0, "webhook_safety_poll_s": 600.0, "webhook_secret": "one-secret-for-all"}
    async with serve_receiver(1024 * 1024) as receiver:
        hooks = {"public_url": receiver.base_url, **quiet}
        async with replica(**hooks) as a, replica(**hooks) as b:
            receiver.inbox = b.webhooks
            await a.ledger.open_account(OWNER)
            started = await a.jobs.start(OWNER, str(face), str(voice), MODEL, {})
            final = await a.jobs.wait(OWNER, started.job_id, timeout_s=50)
            assert final.status is JobStatus.SUCCEEDED, final
            assert engine.requests[GET_PREDICTION] >= 1  # A read the prediction when B told it


@pytest.mark.slow
async def test_a_cancel_its_dead_follower_never_acted_on_is_honoured_by_the_replica_taking_over(
    replica: Replica, engine: Engine, face: Path, voice: Path
) -> None:
    # B's leases are long: it will not take the job over itself while it is open (it would know
    # of the cancel from its own memory); C, opened later, knows of it only from the database.
    async with replica(job_lease_s=120.0, cancel_wait_s=0.1) as b:
        async with replica() as a:
            await a.ledger.open_account(OWNER)
            started = await a.jobs.start(OWNER, str(face), str(voice), MODEL, {})
            await until(a.jobs, started.job_id, running)
            await until(b.jobs, started.job_id, running)
            await die(a)
        asked = await b.jobs.cancel(OWNER, started.job_id)
        assert asked.status is JobStatus.PROCESSING, "nobody acts on the cancel: its follower is dead"
    assert engine.requests[CANCEL_PREDICTION] == 0
    followed_by_c: list[JobSnapshot] = []
    async with replica(followed_by_c.append) as c:
        final = await c.jobs.wait(OWNER, started.job_id, timeout_s=60)
        assert final.status is JobStatus.CANCELED, final
        assert followed_by_c[-1].status is JobStatus.CANCELED, "C took the job over and stopped it"
        assert engine.requests[CANCEL_PREDICTION] >= 1, "the prediction was canceled upstream"
        assert creates(engine) == 1
        assert await settlements(c) == ["release"]
        assert await c.ledger.open_holds() == []


@pytest.mark.slow
async def test_a_cancel_whose_announcement_was_missed_is_found_when_the_follower_renews(
    replica: Replica, engine: Engine, face: Path, voice: Path, database_url: str
) -> None:
    async with replica() as a:
        await a.ledger.open_account(OWNER)
        started = await a.jobs.start(OWNER, str(face), str(voice), MODEL, {})
        await until(a.jobs, started.job_id, running)
        # The wish as another replica keeps it, its announcement lost on the way.
        async with await psycopg.AsyncConnection.connect(database_url, autocommit=True) as conn:
            await conn.execute(
                "UPDATE jobs SET cancel_wanted_at = now() WHERE job_id = %s", (started.job_id,)
            )
        final = await a.jobs.wait(OWNER, started.job_id, timeout_s=3 * LEASE_S)  # a renewal round or two
        assert final.status is JobStatus.CANCELED, final
        assert engine.requests[CANCEL_PREDICTION] >= 1
        assert await settlements(a) == ["release"]


@pytest.mark.slow
async def test_a_replica_stopping_cleanly_hands_its_jobs_to_the_other_at_once(
    replica: Replica, engine: Engine, face: Path, voice: Path, database_url: str
) -> None:
    lease_s = 120.0  # a takeover by the lease running out, or at B's next round, would take a minute
    followed_by_b: list[JobSnapshot] = []
    async with replica(followed_by_b.append, job_lease_s=lease_s) as b:
        async with replica(job_lease_s=lease_s) as a:
            await a.ledger.open_account(OWNER)
            started = await a.jobs.start(OWNER, str(face), str(voice), MODEL, {})
            await until(a.jobs, started.job_id, running)
            await until(b.jobs, started.job_id, running)
            (held_by_a,) = await lease_holders(database_url)
        stopped = time.monotonic()
        final = await b.jobs.wait(OWNER, started.job_id, timeout_s=30)
        taken_in_s = time.monotonic() - stopped
        assert final.status is JobStatus.SUCCEEDED, final
        assert followed_by_b and followed_by_b[-1].status is JobStatus.SUCCEEDED, "B finished the job"
        assert taken_in_s < lease_s / 4, taken_in_s
        (held_now,) = await lease_holders(database_url)
        assert held_now not in {None, held_by_a}
        assert creates(engine) == 1
        assert await settlements(b) == ["capture"]
        assert await b.ledger.open_holds() == []
