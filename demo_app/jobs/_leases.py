"""Leases: on PostgreSQL, exactly one replica follows each unsettled job.

A replica's claim on a job is its row's `lease_holder` and `lease_until`. A claim is taken only
by one atomic `UPDATE … WHERE the lease expired … RETURNING` (two replicas can never both win),
and renewed for all the replica's jobs in one statement every third of the lease. When a
replica dies its leases run out and another claims its jobs and resumes them from the record,
which never creates a prediction twice (see `JobRunner.resume`). Record writes are fenced by
the lease (`PgJobRows`): a replica that stalled past its lease can no longer overwrite the
new follower's record, and stops following.
"""

from __future__ import annotations

import secrets
from typing import Any

from demo_app.database import Database

CLAIM_BATCH = 50
"""Jobs one replica takes over per round: the rest stay for the next round or another replica."""


def new_holder() -> str:
    """A name for this process's claims: unique per process, so a restart is a new replica."""
    return secrets.token_urlsafe(9)


class Leases:
    """This replica's claims on jobs in the `jobs` table."""

    def __init__(self, database: Database, holder: str, lease_s: float) -> None:
        self.database = database
        self.holder = holder
        self.lease_s = lease_s

    async def claim_expired(self, limit: int = CLAIM_BATCH) -> list[dict[str, Any]]:
        """Claim unsettled jobs whose lease has run out (or that never had one); their records."""
        async with self.database.connection() as conn:
            cur = await conn.execute(
                "UPDATE jobs SET lease_holder = %s, lease_until = now() + make_interval(secs => %s) "
                "WHERE job_id IN (SELECT job_id FROM jobs WHERE NOT (record->>'settled')::boolean "
                "AND (lease_until IS NULL OR lease_until < now()) "
                "ORDER BY job_id LIMIT %s FOR UPDATE SKIP LOCKED) RETURNING record",
                (self.holder, self.lease_s, limit),
            )
            return [row[0] for row in await cur.fetchall()]

    async def renew(self, job_ids: list[str]) -> set[str]:
        """Extend this replica's leases on `job_ids`; the ids whose lease another replica holds
        now (lost: stop following them). A job not yet written has no row and is not lost."""
        if not job_ids:
            return set()
        async with self.database.connection() as conn:
            cur = await conn.execute(
                "WITH renewed AS (UPDATE jobs SET lease_until = now() + make_interval(secs => %s) "
                "WHERE lease_holder = %s AND job_id = ANY(%s) RETURNING job_id) "
                "SELECT job_id FROM jobs WHERE job_id = ANY(%s) "
                "AND job_id NOT IN (SELECT job_id FROM renewed)",
                (self.lease_s, self.holder, job_ids, job_ids),
            )
            return {row[0] for row in await cur.fetchall()}

    async def read(self, job_id: str) -> dict[str, Any] | None:
        """The job's stored record, or None once it is gone."""
        async with self.database.connection() as conn:
            cur = await conn.execute("SELECT record FROM jobs WHERE job_id = %s", (job_id,))
            row = await cur.fetchone()
        return row[0] if row is not None else None
