"""Leases: on PostgreSQL, exactly one replica follows each unsettled job.

A replica's claim on a job is its row's `lease_holder` and `lease_until`. A claim is taken only
by one atomic `UPDATE … WHERE the lease expired … RETURNING` (two replicas can never both win),
and renewed for all the replica's jobs in one statement every third of the lease. When a
replica dies its leases run out and another claims its jobs and resumes them from the record,
which never creates a prediction twice (see `JobRunner.resume`). Record writes are fenced by
the lease (`PgJobRows`): a replica that stalled past its lease can no longer overwrite the
new follower's record, and stops following. A replica that stops cleanly hands its leases back
and says so, and the others take its jobs over at once instead of after the lease.

A cancel asked on any replica is kept on the job's row (`cancel_wanted_at`) in the same
statement that announces it, so a follower that missed the announcement, or died before acting
on it, is not the end of it: the follower finds the wish when it renews its leases, and a replica
taking the job over finds it when it claims the job.
"""

from __future__ import annotations

import secrets
from typing import Any, NamedTuple

from demo_app.database import Database
from demo_app.jobs._feed import CHANNEL

CLAIM_BATCH = 50
"""Jobs one replica takes over per round: the rest stay for the next round or another replica."""


class Claimed(NamedTuple):
    """A job this replica just claimed: its record, and whether a cancel of it is wanted."""

    record: dict[str, Any]
    cancel_wanted: bool


class Renewal(NamedTuple):
    """What a renewal round found among this replica's jobs."""

    lost: set[str]
    """Leased by another replica now: stop following them."""
    cancel_wanted: set[str]
    """Still ours, with a cancel wanted (its announcement may have been missed)."""


def _announcement(kind: str) -> str:
    """SQL for the feed's message of `kind` about the row's `job_id`, from the holder (a parameter)."""
    message = f"json_build_object('job', job_id, 'kind', '{kind}', 'from', %s::text)::text"
    return f"pg_notify('{CHANNEL}', {message})"


def new_holder() -> str:
    """A name for this process's claims: unique per process, so a restart is a new replica."""
    return secrets.token_urlsafe(9)


class Leases:
    """This replica's claims on jobs in the `jobs` table."""

    def __init__(self, database: Database, holder: str, lease_s: float) -> None:
        self.database = database
        self.holder = holder
        self.lease_s = lease_s

    async def claim_expired(self, limit: int = CLAIM_BATCH) -> list[Claimed]:
        """Claim unsettled jobs whose lease has run out (or that never had one, or was handed back)."""
        async with self.database.connection() as conn:
            cur = await conn.execute(
                "UPDATE jobs SET lease_holder = %s, lease_until = now() + make_interval(secs => %s) "
                "WHERE job_id IN (SELECT job_id FROM jobs WHERE NOT (record->>'settled')::boolean "
                "AND (lease_until IS NULL OR lease_until < now()) "
                "ORDER BY job_id LIMIT %s FOR UPDATE SKIP LOCKED) "
                "RETURNING record, cancel_wanted_at IS NOT NULL",
                (self.holder, self.lease_s, limit),
            )
            return [Claimed(row[0], row[1]) for row in await cur.fetchall()]

    async def renew(self, job_ids: list[str]) -> Renewal:
        """Extend this replica's leases on `job_ids`, and say which were lost and which have a
        cancel wanted, in one statement. A job not yet written has no row and is not lost."""
        if not job_ids:
            return Renewal(set(), set())
        async with self.database.connection() as conn:
            cur = await conn.execute(
                "WITH renewed AS (UPDATE jobs SET lease_until = now() + make_interval(secs => %s) "
                "WHERE lease_holder = %s AND job_id = ANY(%s) RETURNING job_id, cancel_wanted_at) "
                "SELECT jobs.job_id, renewed.job_id IS NULL FROM jobs LEFT JOIN renewed USING (job_id) "
                "WHERE jobs.job_id = ANY(%s) "
                "AND (renewed.job_id IS NULL OR renewed.cancel_wanted_at IS NOT NULL)",
                (self.lease_s, self.holder, job_ids, job_ids),
            )
            rows = await cur.fetchall()
        lost = {job_id for job_id, gone in rows if gone}
        return Renewal(lost, {job_id for job_id, _ in rows} - lost)

    async def want_cancel(self, job_id: str) -> None:
        """Keep a cancel of the job on its row and announce it, in one transaction (the
        announcement leaves only with the mark); a settled or deleted job is left as it is."""
        async with self.database.connection() as conn:
            await conn.execute(
                "WITH marked AS (UPDATE jobs SET cancel_wanted_at = coalesce(cancel_wanted_at, now()) "
                "WHERE job_id = %s AND NOT (record->>'settled')::boolean RETURNING job_id) "
                f"SELECT {_announcement('cancel')} FROM marked",
                (job_id, self.holder),
            )

    async def hand_off(self) -> list[str]:
        """Give back this replica's leases on unsettled jobs and announce each, in one
        transaction: the other replicas claim them at once. Only rows this replica still holds
        change; a late write of ours is fenced out afterwards (`PgJobRows`). The ids handed off."""
        async with self.database.connection() as conn:
            cur = await conn.execute(
                "WITH released AS (UPDATE jobs SET lease_holder = NULL, lease_until = NULL "
                "WHERE lease_holder = %s AND NOT (record->>'settled')::boolean RETURNING job_id) "
                f"SELECT job_id, {_announcement('handoff')} FROM released",
                (self.holder, self.holder),
            )
            return sorted(row[0] for row in await cur.fetchall())

    async def read(self, job_id: str) -> dict[str, Any] | None:
        """The job's stored record, or None once it is gone."""
        async with self.database.connection() as conn:
            cur = await conn.execute("SELECT record FROM jobs WHERE job_id = %s", (job_id,))
            row = await cur.fetchone()
        return row[0] if row is not None else None
