"""Two replicas on one PostgreSQL database: the studio's and each owner's job limits, and the
create line, are the deployment's, not each replica's.

Each replica is the app's own `open_services` with a pool of its own, on one engine over HTTP
whose predictions run until canceled, so the admitted jobs keep their places while a test counts.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any

import pytest
from psycopg.types.json import Jsonb

from demo_app.database import Database
from demo_app.engine import CREATES, Engine, RenderPool
from demo_app.jobs import JobManager, JobSnapshot, OwnerBusy, StudioBusy
from demo_app.jobs._places import PlaceCounts, SharedPlaces, admitted
from demo_app.media import MediaWorkers
from demo_app.services import LocalEngine, Services, open_services
from demo_app.settings import Settings
from tests.jobs.conftest import ALL_MODELS, TOKEN

MODEL = "wan-video/wan-2.2-s2v"
PVIDEO = "prunaai/p-video-avatar"
OMNI = "bytedance/omni-human"

Replica = Callable[..., contextlib.AbstractAsyncContextManager[Services]]


@pytest.fixture
async def engine(tmp_path: Path, render_pool: RenderPool) -> AsyncIterator[Engine]:
    """Predictions that process until they are canceled."""
    engine = Engine(token=TOKEN, data_dir=tmp_path / "engine", scenario="stall", render_pool=render_pool)
    await engine.start()
    yield engine
    await engine.aclose()


@pytest.fixture
def replica(tmp_path: Path, engine: Engine, media_workers: MediaWorkers, database_url: str) -> Replica:
    """Opens one more replica of the deployment (same database, a data directory of its own)."""
    opened = itertools.count(1)

    def open_one(**overrides: Any) -> contextlib.AbstractAsyncContextManager[Services]:
        values: dict[str, Any] = {
            "data_dir": tmp_path / f"replica-{next(opened)}",
            "database_url": database_url,
            "job_lease_s": 2.0,
            "poll_interval_s": 0.05,
            "starting_grant": 1000,
            "daily_budget": 100_000,
            "models": ALL_MODELS,
        }
        settings = Settings(_env_file=None, **(values | overrides))
        return open_services(settings, engine=LocalEngine(engine, TOKEN), media_workers=media_workers)

    return open_one


def creates(engine: Engine) -> int:
    return sum(count for route, count in engine.requests.items() if route in CREATES)


async def until(
    jobs: JobManager, owner: str, job_id: str, wanted: Callable[[JobSnapshot], bool], within_s: float = 60.0
) -> JobSnapshot:
    """The first snapshot of the job, as this replica shows it, that is `wanted`."""
    async with asyncio.timeout(within_s):
        async for snap in jobs.subscribe(owner, job_id):
            if wanted(snap):
                return snap
    raise AssertionError(f"job {job_id} ended without the wanted snapshot")


async def start_all(starts: list[tuple[JobManager, str]], face: Path, voice: Path) -> list[Any]:
    """Every (replica's jobs, owner) start at once; each start's snapshot or refusal."""
    return await asyncio.gather(
        *(jobs.start(owner, str(face), str(voice), MODEL, {}) for jobs, owner in starts),
        return_exceptions=True,
    )


async def test_the_studio_limit_counts_every_replicas_jobs_even_when_they_start_at_once(
    replica: Replica, face: Path, voice: Path
) -> None:
    async with replica(max_jobs_total=3) as a, replica(max_jobs_total=3) as b:
        owners = [f"browser:visitor-{n}" for n in range(8)]
        for owner in owners:
            await a.ledger.open_account(owner)
        starts = [(a.jobs if n % 2 else b.jobs, owner) for n, owner in enumerate(owners)]
        results = await start_all(starts, face, voice)

        admitted = [
            (jobs, r) for (jobs, _owner), r in zip(starts, results, strict=True) if isinstance(r, JobSnapshot)
        ]
        refused = [r for r in results if not isinstance(r, JobSnapshot)]
        assert len(admitted) == 3, results
        assert all(isinstance(r, StudioBusy) for r in refused), refused
        assert {str(r) for r in refused} == {"The studio is busy (3 jobs running); try again in a minute."}

        # A job that ends frees its place for every replica.
        jobs, first = admitted[0]
        canceled = await jobs.cancel(first.owner, first.job_id)
        await jobs.wait(first.owner, canceled.job_id, timeout_s=30)
        other = b.jobs if jobs is a.jobs else a.jobs
        latecomer = await other.start(first.owner, str(face), str(voice), MODEL, {})
        assert not latecomer.terminal
        with pytest.raises(StudioBusy):
            await jobs.start(owners[-1], str(face), str(voice), MODEL, {})


async def test_an_owners_limit_counts_their_jobs_on_every_replica_a_comparison_once(
    replica: Replica, face: Path, voice: Path
) -> None:
    async with replica(max_jobs_per_owner=2) as a, replica(max_jobs_per_owner=2) as b:
        owner, rival = "browser:one", "browser:two"
        await a.ledger.open_account(owner)
        await a.ledger.open_account(rival)
        await a.jobs.start_comparison(owner, str(face), str(voice), [PVIDEO, OMNI])
        await b.jobs.start(owner, str(face), str(voice), MODEL, {})
        with pytest.raises(OwnerBusy) as refused:
            await a.jobs.start(owner, str(face), str(voice), MODEL, {})
        assert str(refused.value) == (
            "You already have 2 jobs running (the limit is 2); wait for one to finish or cancel it."
        )
        with pytest.raises(OwnerBusy):
            await b.jobs.start_comparison(owner, str(face), str(voice), [PVIDEO, OMNI])

        # Four starts of one owner at once, two through each replica: two are admitted.
        results = await start_all(
            [(a.jobs, rival), (b.jobs, rival), (a.jobs, rival), (b.jobs, rival)], face, voice
        )
        assert sum(isinstance(r, JobSnapshot) for r in results) == 2, results
        assert sum(isinstance(r, OwnerBusy) for r in results) == 2, results


@pytest.mark.slow
async def test_the_create_line_is_one_line_across_replicas_first_come_first_served(
    replica: Replica, engine: Engine, face: Path, voice: Path
) -> None:
    # Ten creates a minute: one at once, then one about every 6.7 s for the whole deployment.
    async with replica(creates_per_min=10) as a, replica(creates_per_min=10) as b:
        owners = ["browser:first", "browser:second", "browser:third"]
        for owner in owners:
            await a.ledger.open_account(owner)
        first = await a.jobs.start(owners[0], str(face), str(voice), MODEL, {})
        await until(a.jobs, owners[0], first.job_id, lambda s: s.prediction_id is not None)
        second = await a.jobs.start(owners[1], str(face), str(voice), MODEL, {})
        await until(a.jobs, owners[1], second.job_id, lambda s: s.queue_position == 1)
        third = await b.jobs.start(owners[2], str(face), str(voice), MODEL, {})

        # B places its job behind A's, and counts A's in the length of the line.
        behind = await until(b.jobs, owners[2], third.job_id, lambda s: s.queue_position is not None)
        if behind.queue_position != 2:
            behind = await until(b.jobs, owners[2], third.job_id, lambda s: s.queue_position == 2, 10)
        assert behind.eta_s is not None and behind.eta_s > 0
        assert b.jobs.line().waiting == 2
        assert a.jobs.snapshot(owners[1], second.job_id).queue_position == 1
        # Each replica shows the other's job in its place too (as `/status` does on any replica).
        await until(b.jobs, owners[1], second.job_id, lambda s: s.queue_position == 1, 10)
        await until(a.jobs, owners[2], third.job_id, lambda s: s.queue_position == 2, 10)

        # A's job, which joined first, is created first; then B's moves up and is created.
        await until(a.jobs, owners[1], second.job_id, lambda s: s.prediction_id is not None)
        assert b.jobs.snapshot(owners[2], third.job_id).prediction_id is None
        assert creates(engine) == 2
        await until(b.jobs, owners[2], third.job_id, lambda s: s.queue_position == 1, 10)
        await until(b.jobs, owners[2], third.job_id, lambda s: s.prediction_id is not None, 30)
        assert creates(engine) == 3


async def test_a_dead_replicas_places_count_while_its_jobs_are_unsettled(database: Database) -> None:
    """A replica that died renews nothing: its place of a written, unsettled job still counts
    (another replica will take the job over); one of a job it never wrote, or that settled, not."""
    dead = SharedPlaces(database, "dead", alive_s=0.0)
    alive = SharedPlaces(database, "alive", alive_s=60.0)
    record = {"job_id": "written", "settled": False}
    async with database.connection() as conn:
        await conn.execute("INSERT INTO jobs (job_id, record) VALUES ('written', %s)", (Jsonb(record),))
    await dead.admit(
        "o", [admitted("written", "o", None), admitted("never-written", "o", None)], lambda c: None
    )
    await alive.admit("p", [admitted("mine", "p", None)], lambda c: None)

    assert await alive.counts() == PlaceCounts(occupied=2, waiting=0)
    async with database.connection() as conn:
        await conn.execute(
            "UPDATE jobs SET record = %s WHERE job_id = 'written'", (Jsonb(record | {"settled": True}),)
        )
        assert await alive.counts() == PlaceCounts(occupied=1, waiting=0)
        await alive.admit("p", [admitted("next", "p", None)], lambda c: None)  # purges the dead rows
        cur = await conn.execute("SELECT job_id FROM job_places ORDER BY job_id")
        assert [row[0] for row in await cur.fetchall()] == ["mine", "next"]
