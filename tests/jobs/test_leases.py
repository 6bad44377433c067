"""Leases on a real PostgreSQL: a stopping replica gives back only what it still holds, and says
so; a cancel is kept on the job's row in the same step it is announced, and found again by the
follower's renewal and by a replica claiming the job."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from typing import Any

import psycopg
import pytest

from demo_app.database import Database
from demo_app.jobs import JobStore
from demo_app.jobs._feed import CHANNEL
from demo_app.jobs._leases import Claimed, Renewal
from demo_app.jobs._store import JobRecord

LEASE_S = 60.0


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


@pytest.fixture
async def listener(database_url: str) -> AsyncIterator[psycopg.AsyncConnection[Any]]:
    """A connection listening on the job feed's channel, as every replica's feed does."""
    async with await psycopg.AsyncConnection.connect(database_url, autocommit=True) as conn:
        await conn.execute(f"LISTEN {CHANNEL}")
        yield conn


async def heard(conn: psycopg.AsyncConnection[Any], kind: str) -> list[dict[str, Any]]:
    """The messages of `kind` delivered so far (the statements that sent them have committed)."""
    messages = [json.loads(note.payload) async for note in conn.notifies(timeout=0.5)]
    return [message for message in messages if message.get("kind") == kind]


async def expire(database: Database, job_id: str) -> None:
    """The job's lease runs out (its holder stopped renewing it)."""
    async with database.connection() as conn:
        await conn.execute(
            "UPDATE jobs SET lease_until = now() - interval '1 s' WHERE job_id = %s", (job_id,)
        )


async def test_a_hand_off_gives_back_only_the_unsettled_jobs_still_held_and_announces_each(
    database: Database, listener: psycopg.AsyncConnection[Any]
) -> None:
    a = await JobStore.on_database(database, lease_s=LEASE_S)
    b = await JobStore.on_database(database, lease_s=LEASE_S)
    assert a.leases is not None and b.leases is not None
    for job_id in ("held", "lost", "done"):
        await a.save(record(job_id, settled=job_id == "done"))
    await expire(database, "lost")
    assert [claim.record["job_id"] for claim in await b.leases.claim_expired()] == ["lost"]
    await heard(listener, "saved")

    assert await a.leases.hand_off() == ["held"]
    assert [(m["job"], m["from"]) for m in await heard(listener, "handoff")] == [("held", a.leases.holder)]
    await a.save(record("held", message="a late write"))  # fenced: the row is no longer A's
    (claim,) = await b.leases.claim_expired()  # at once: no lease to wait out
    assert claim.record["job_id"] == "held" and claim.record["message"] != "a late write"
    assert await a.leases.hand_off() == []


async def test_a_cancel_is_kept_as_it_is_announced_and_found_by_renewal_and_by_a_claim(
    database: Database, listener: psycopg.AsyncConnection[Any]
) -> None:
    a = await JobStore.on_database(database, lease_s=LEASE_S)
    b = await JobStore.on_database(database, lease_s=LEASE_S)
    assert a.leases is not None and b.leases is not None
    await a.save(record("wanted"))
    await a.save(record("kept"))
    await a.save(record("done", settled=True))
    assert await a.leases.renew(["wanted", "kept"]) == Renewal(set(), set())

    await b.leases.want_cancel("wanted")
    await b.leases.want_cancel("done")  # settled: nothing to cancel, nothing said
    assert [(m["job"], m["from"]) for m in await heard(listener, "cancel")] == [("wanted", b.leases.holder)]
    assert await a.leases.renew(["wanted", "kept"]) == Renewal(set(), {"wanted"})

    await expire(database, "wanted")
    await expire(database, "kept")
    claims: list[Claimed] = await b.leases.claim_expired()
    assert sorted((c.record["job_id"], c.cancel_wanted) for c in claims) == [
        ("kept", False),
        ("wanted", True),
    ]
    assert await a.leases.renew(["wanted", "kept"]) == Renewal({"wanted", "kept"}, set())
