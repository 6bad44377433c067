"""What replicas on one database share: Replicate's budgets, webhook dedupe, the secrets, share links.

Each "replica" here is its own connection pool (or its own opened services, with its own data
directory) on one real PostgreSQL database, as two app processes would be.
"""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from demo_app.database import Database
from demo_app.engine import Engine
from demo_app.media import MediaWorkers
from demo_app.replicate import Prediction, Priority, SharedBucket, SigningKey
from demo_app.services import LocalEngine, Services, open_services
from demo_app.settings import Settings
from demo_app.shares import PgShareStore
from demo_app.webhooks import Receipt, SeenInDatabase, WebhookInbox, WebhookLinks
from tests.conftest import ENGINE_TOKEN, EngineFactory

PER_MINUTE = 600
"""Burst 60, then 9 a second: a short window shows whether two pacers share one budget."""
WINDOW_S = 2.0


@pytest.fixture
async def two_pools(database_url: str) -> AsyncIterator[tuple[Database, Database]]:
    first = await Database.open(database_url)
    second = await Database.open(database_url)
    yield first, second
    await second.aclose()
    await first.aclose()


async def test_two_pacers_on_one_database_never_exceed_the_budget_together(
    two_pools: tuple[Database, Database],
) -> None:
    buckets = [SharedBucket(db, "replicate creates", PER_MINUTE) for db in two_pools]
    burst, rate = buckets[0].burst, buckets[0].rate_per_s
    grants: list[list[float]] = [[], []]
    start = time.monotonic()

    async def caller(which: int) -> None:
        while True:
            await buckets[which].acquire()
            grants[which].append(time.monotonic() - start)

    callers = [asyncio.create_task(caller(which)) for which in (0, 1) for _ in range(20)]
    await asyncio.sleep(WINDOW_S)  # the measurement window itself
    for task in callers:
        task.cancel()
    await asyncio.gather(*callers, return_exceptions=True)

    every = sorted(grants[0] + grants[1])
    in_window = [t for t in every if t <= WINDOW_S]
    bound = burst + rate * WINDOW_S  # what ONE bucket may grant in the window: 60 + 18 = 78
    assert len(in_window) <= bound + 1, (
        f"{len(in_window)} grants in {WINDOW_S} s, the budget allows {bound:.0f}"
    )
    assert len(in_window) >= burst, "the pacers stopped granting"
    assert grants[0] and grants[1], "both replicas were served"


async def test_a_canceled_waiter_takes_nothing_from_the_shared_budget(
    two_pools: tuple[Database, Database],
) -> None:
    first, second = (SharedBucket(db, "replicate reads", 20) for db in two_pools)  # burst 2
    await first.acquire()
    await second.acquire()
    waiting = asyncio.create_task(first.acquire())
    await asyncio.sleep(0)
    waiting.cancel()
    await asyncio.gather(waiting, return_exceptions=True)
    started = time.monotonic()
    await second.acquire()  # the next token (one every 60/18 s ≈ 3.3 s) is second's, not lost
    assert time.monotonic() - started < 60 / 18 + 0.5


BODY = json.dumps({"id": "p1", "status": "processing", "logs": "1%|"}).encode()
KEY = SigningKey(b"the account's webhook key.......")


async def signing_key(*, refresh: bool = False) -> SigningKey:
    return KEY


async def test_a_webhook_delivered_to_two_replicas_reaches_its_job_once(
    two_pools: tuple[Database, Database],
) -> None:
    offered: list[str] = []

    async def target(job_id: str, prediction: Prediction) -> Receipt:
        offered.append(job_id)
        return Receipt.APPLIED

    links = WebhookLinks("https://studio.example", b"one secret for the deployment")
    inboxes = [
        WebhookInbox(links, signing_key, target, tolerance_s=300, seen=SeenInDatabase(db)) for db in two_pools
    ]
    now = time.time()

    def headers(webhook_id: str) -> dict[str, str]:
        stamp = str(int(now))
        return {
            "webhook-id": webhook_id,
            "webhook-timestamp": stamp,
            "webhook-signature": "v1," + KEY.sign(webhook_id, stamp, BODY),
        }

    answers = await asyncio.gather(
        *(
            inbox.deliver(f"job-{n}", links.tag(f"job-{n}"), headers(f"msg-{n}"), BODY)
            for n in range(50)
            for inbox in inboxes
        )
    )
    assert sorted(offered) == sorted(f"job-{n}" for n in range(50)), "each delivery reached its job once"
    assert sum(answer.text == "Already received." for answer in answers) == 50
    assert all(answer.status == 200 for answer in answers)


async def test_a_share_link_made_on_one_replica_opens_on_the_other(
    two_pools: tuple[Database, Database],
) -> None:
    here, there = (PgShareStore(db) for db in two_pools)
    made, again = await asyncio.gather(
        here.create("browser:ann", "job-1"), there.create("browser:ann", "job-1")
    )
    assert made == again, "sharing at once on two replicas ends with one link"
    assert await there.find(made.token) == made and await there.of("job-1") == made
    assert await there.find(made.token[:-1] + "A") is None and await there.find("x" * 999) is None
    assert await here.revoke("job-1")
    assert await there.find(made.token) is None, "a revoke on one replica stops the link on all"
    assert not await there.revoke("job-1")


@pytest.fixture
async def two_services(
    database_url: str, engine_factory: EngineFactory, media_workers: MediaWorkers, tmp_path: Path
) -> AsyncIterator[tuple[Services, Services]]:
    engine: Engine = await engine_factory()
    opened = []
    for name in ("a", "b"):
        settings = Settings(
            _env_file=None,  # type: ignore[call-arg]
            data_dir=tmp_path / "shared",  # one volume for both, as deployed
            replica_name=name,
            database_url=database_url,
            public_url="https://studio.example",
        )
        context = open_services(
            settings, engine=LocalEngine(engine, ENGINE_TOKEN), media_workers=media_workers
        )
        opened.append((context, await context.__aenter__()))
    yield opened[0][1], opened[1][1]
    for context, _ in reversed(opened):
        await context.__aexit__(None, None, None)


async def test_two_replicas_on_one_data_directory_share_keys_webhook_addresses_and_budgets(
    two_services: tuple[Services, Services],
) -> None:
    a, b = two_services
    owner = "browser:" + "ab" * 16
    assert b.keys.owner_of(a.keys.key_for(owner)) == owner
    assert a.webhooks is not None and b.webhooks is not None
    assert b.webhooks.is_ours("job-1", a.webhooks.links.tag("job-1"))
    assert isinstance(a.client.pacing.creates, SharedBucket) and isinstance(
        b.client.pacing.reads, SharedBucket
    )
    assert not (a.settings.data_dir / "api-key-secret").exists(), (
        "the secret lives in the database, not on disk"
    )


async def test_spare_calls_yield_to_the_replicas_own_waiting_calls(
    two_pools: tuple[Database, Database],
) -> None:
    """Deletes (spare) queued first still go after this replica's polls and cancels, and go
    once nothing else waits."""
    bucket = SharedBucket(two_pools[0], "replicate reads", PER_MINUTE)  # burst 60, then 9 a second
    for _ in range(bucket.burst):
        await bucket.acquire()
    served: list[str] = []

    async def call(name: str, priority: Priority) -> None:
        await bucket.acquire(priority)
        served.append(name)

    spares = [asyncio.create_task(call("delete", Priority.SPARE)) for _ in range(3)]
    polls = [asyncio.create_task(call("poll", Priority.NORMAL)) for _ in range(4)]
    cancel = asyncio.create_task(call("cancel", Priority.URGENT))
    await asyncio.wait_for(asyncio.gather(*spares, *polls, cancel), timeout=10)
    assert served == ["cancel"] + ["poll"] * 4 + ["delete"] * 3
