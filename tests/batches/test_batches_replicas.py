"""Two replicas on one PostgreSQL database: a batch run by one is read, zipped and canceled
through the other, and one owner never has two batches running, whichever replicas start them.

Each replica is the app's own `open_services` (a pool and a data directory of its own, its own
`replica_name`) on one engine over HTTP.
"""

from __future__ import annotations

import asyncio
import contextlib
import zipfile
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any

import pytest

from demo_app.batches import BatchRefused, BatchView
from demo_app.engine import Engine, RenderPool
from demo_app.jobs import JobStatus
from demo_app.media import MediaWorkers
from demo_app.services import LocalEngine, Services, open_services
from demo_app.settings import Settings
from tests.batches.conftest import OWNER, TOKEN
from tests.batches.test_batches import MODEL, pairs

Deployment = Callable[[str], contextlib.AbstractAsyncContextManager[tuple[Services, Services]]]


@pytest.fixture
def deployment(
    tmp_path: Path, render_pool: RenderPool, media_workers: MediaWorkers, database_url: str
) -> Deployment:
    """Replicas "a" and "b" on one engine running `scenario` and one database."""

    @contextlib.asynccontextmanager
    async def two(scenario: str) -> AsyncIterator[tuple[Services, Services]]:
        engine = Engine(
            token=TOKEN,
            data_dir=tmp_path / "engine",
            scenario=scenario,
            time_scale=20.0,
            render_pool=render_pool,
        )
        await engine.start()
        try:
            async with contextlib.AsyncExitStack() as exits:
                replicas = []
                for name in ("a", "b"):
                    values: dict[str, Any] = {
                        "data_dir": tmp_path / f"replica-{name}",
                        "database_url": database_url,
                        "replica_name": name,
                        "job_lease_s": 2.0,
                        "poll_interval_s": 0.05,
                        "starting_grant": 1000,
                        "daily_budget": 100_000,
                        "max_jobs_per_owner": 1,
                    }
                    settings = Settings(_env_file=None, **values)
                    opened = open_services(
                        settings, engine=LocalEngine(engine, TOKEN), media_workers=media_workers
                    )
                    replicas.append(await exits.enter_async_context(opened))
                await replicas[0].ledger.open_account(OWNER)
                yield replicas[0], replicas[1]
        finally:
            await engine.aclose()

    return two


async def last_view(services: Services, batch_id: str, within_s: float = 120.0) -> BatchView:
    """The batch, as this replica shows it, once finished."""
    assert services.batches is not None
    async with asyncio.timeout(within_s):
        seen = [view async for view in services.batches.watch(OWNER, batch_id)]
    return seen[-1]


@pytest.mark.slow
async def test_a_batch_run_by_one_replica_is_read_and_zipped_through_the_other(
    deployment: Deployment, face: Path, clips: list[Path]
) -> None:
    async with deployment("normal") as (a, b):
        assert a.batches is not None and b.batches is not None
        started = await a.batches.start(OWNER, pairs(face, clips[:2]), MODEL, {})

        on_b = await b.batches.view(OWNER, started.batch_id)
        assert on_b.batch_id == started.batch_id and not on_b.finished
        latest = await b.batches.latest(OWNER)
        assert latest is not None and latest.batch_id == started.batch_id
        with pytest.raises(BatchRefused, match="You already have a batch running"):
            await b.batches.start(OWNER, pairs(face, clips[:1]), MODEL, {})

        final = await last_view(b, started.batch_id)
        assert final.finished and [item.status for item in final.items] == ["succeeded"] * 2
        archive = await b.batches.results(OWNER, started.batch_id)
        assert archive is not None
        with zipfile.ZipFile(archive) as zipped:
            assert sorted(zipped.namelist()) == ["item-01.json", "item-01.mp4", "item-02.json", "item-02.mp4"]

        # Finished, the owner may start the next batch on either replica.
        again = await b.batches.start(OWNER, pairs(face, clips[:1]), MODEL, {})
        assert (await a.batches.view(OWNER, again.batch_id)).batch_id == again.batch_id


async def test_a_cancel_through_the_other_replica_stops_the_batch_and_drops_the_rest(
    deployment: Deployment, face: Path, clips: list[Path]
) -> None:
    async with deployment("stall") as (a, b):
        assert a.batches is not None and b.batches is not None
        started = await a.batches.start(OWNER, pairs(face, clips), MODEL, {})
        async for view in a.batches.watch(OWNER, started.batch_id):
            if view.items[0].status == JobStatus.PROCESSING.value:
                break

        canceled = await b.batches.cancel(OWNER, started.batch_id)
        assert canceled.canceled
        assert [item.status for item in canceled.items][1:] == ["dropped", "dropped"]

        final = await last_view(a, started.batch_id, within_s=60)
        assert final.canceled and [item.status for item in final.items] == ["canceled", "dropped", "dropped"]
        assert final.items[1].job_id is None and final.items[2].job_id is None
        assert await a.ledger.open_holds(OWNER) == []
        assert (await last_view(b, started.batch_id, within_s=10)).finished


async def test_two_batches_of_one_owner_started_at_once_on_two_replicas_one_is_refused(
    deployment: Deployment, face: Path, clips: list[Path]
) -> None:
    async with deployment("stall") as (a, b):
        assert a.batches is not None and b.batches is not None
        results = await asyncio.gather(
            a.batches.start(OWNER, pairs(face, clips[:1]), MODEL, {}),
            b.batches.start(OWNER, pairs(face, clips[:1]), MODEL, {}),
            return_exceptions=True,
        )
        assert sum(isinstance(r, BatchView) for r in results) == 1, results
        refused = [r for r in results if isinstance(r, BatchRefused)]
        assert [str(r) for r in refused] == [
            "You already have a batch running; wait for it to finish or cancel it."
        ]
