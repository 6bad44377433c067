"""Job places on PostgreSQL: the studio's and each owner's job limits, and the create line, for
the whole deployment rather than one replica.

Every admitted job has a row in `job_places` until it ends (see `_schema`, version 5). A start
counts the rows and inserts its own in one transaction under an advisory lock, so two replicas
admitting at once see each other and the limits hold exactly. A job waiting in the create line
is marked `waiting` (it holds no running place); a replica's first job in line is `reserved` a
running place only if one is free and no job of another replica is in the line since earlier
(`look`), and it stays in the line until it has its create token (`left_line`), so no later job
elsewhere takes a token first. The follower renews its rows; a replica that dies leaves its
jobs' rows counted while those jobs are unsettled, and rows of jobs it never wrote expire.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime

from psycopg import AsyncConnection

from demo_app.database import Database

log = logging.getLogger(__name__)

LOCK_KEY = 0x4C495054  # "LIPT": taken by every admission and every line grant, per transaction
INSERT_PLACES = (
    "INSERT INTO job_places (job_id, owner, unit, holder, alive_until) "
    "SELECT j, o, u, %s, now() + make_interval(secs => %s) "
    "FROM unnest(%s::text[], %s::text[], %s::text[]) AS t(j, o, u)"
)


@dataclass(frozen=True)
class Admitted:
    """A job to admit: its id and what its owner's limit counts it as (a comparison's group)."""

    job_id: str
    owner: str
    unit: str


@dataclass(frozen=True)
class PlaceCounts:
    """The deployment's jobs at one moment, as the limits count them."""

    occupied: int
    """Jobs holding a running place (every admitted job but those waiting in the create line
    for one)."""
    waiting: int
    """Jobs in the create line, every replica's (a reserved one until it has its create token)."""
    mine: int = 0
    """The owner's open jobs, a comparison once (only when asked for an owner)."""


@dataclass(frozen=True)
class LineState:
    """What one look at the shared line found: the counts, and when the other replicas' waiting
    jobs joined (ascending, seconds since the epoch)."""

    counts: PlaceCounts
    others_joined: list[float] = field(default_factory=list)
    reserved: bool = False
    """True when the job asked for was reserved its running place."""


Decide = Callable[[PlaceCounts], None]
"""Raises the refusal the counts call for, or returns to admit."""


class SharedPlaces:
    """This replica's view of `job_places`; `holder` names this replica's rows."""

    def __init__(self, database: Database, holder: str, alive_s: float) -> None:
        self.database = database
        self.holder = holder
        self.alive_s = alive_s
        self._ending: set[asyncio.Task[None]] = set()
        self._keeping: asyncio.Task[None] | None = None

    async def admit(self, owner: str, jobs: list[Admitted], decide: Decide) -> None:
        """Count the deployment's jobs and the owner's, let `decide` refuse, else insert `jobs`:
        one step for every replica at once."""
        async with self.database.connection() as conn, conn.transaction():
            counts = await self._count(conn, owner)
            decide(counts)
            await conn.execute(INSERT_PLACES, self._rows(jobs))

    async def counts(self) -> PlaceCounts:
        """The deployment's running and waiting jobs now (no owner's)."""
        async with self.database.connection() as conn:
            return await self._count(conn, None, lock=False)

    def ended(self, job_id: str) -> None:
        """The job settled: its place is free (at once; the row goes in the background)."""
        task = asyncio.get_running_loop().create_task(self._delete(job_id), name=f"job-place-{job_id}")
        self._ending.add(task)
        task.add_done_callback(self._ending.discard)

    async def keep(self, jobs: Iterable[Admitted]) -> None:
        """Renew the places of the jobs this replica follows (taken-over ones become its own)."""
        rows = list(jobs)
        if not rows:
            return
        async with self.database.connection() as conn:
            await conn.execute(
                INSERT_PLACES + " ON CONFLICT (job_id) DO UPDATE"
                " SET holder = EXCLUDED.holder, alive_until = EXCLUDED.alive_until",
                self._rows(rows),
            )

    async def join_line(self, job: Admitted, joined_at: float) -> None:
        """The job waits in the create line since `joined_at` (it gives up its running place)."""
        async with self.database.connection() as conn:
            await conn.execute(
                "INSERT INTO job_places (job_id, owner, unit, holder, alive_until, waiting, line_joined_at) "
                "VALUES (%s, %s, %s, %s, now() + make_interval(secs => %s), true, %s) "
                "ON CONFLICT (job_id) DO UPDATE SET holder = EXCLUDED.holder, "
                "alive_until = EXCLUDED.alive_until, waiting = true, reserved = false, "
                "line_joined_at = EXCLUDED.line_joined_at",
                (job.job_id, job.owner, job.unit, self.holder, self.alive_s, _at(joined_at)),
            )

    async def left_line(self, job_id: str) -> None:
        """The job has its create token: the next job, on any replica, may take its turn."""
        async with self.database.connection() as conn:
            await conn.execute(
                "UPDATE job_places SET waiting = false, reserved = false WHERE job_id = %s", (job_id,)
            )

    async def look(self, head: str | None, joined_at: float, places: int) -> LineState:
        """The line now; with `head` (this replica's first waiting job, joined at `joined_at`),
        reserve it a running place if one is free and no other replica's job waits since earlier."""
        async with self.database.connection() as conn, conn.transaction():
            if head is not None:
                await conn.execute("SELECT pg_advisory_xact_lock(%s)", (LOCK_KEY,))
            counts = await self._count(conn, None, lock=False)
            cur = await conn.execute(
                "SELECT extract(epoch FROM line_joined_at) FROM live_job_places "
                "WHERE waiting AND holder <> %s ORDER BY line_joined_at",
                (self.holder,),
            )
            others = [float(row[0]) for row in await cur.fetchall()]
            earlier = bool(others) and others[0] < joined_at
            if head is None or earlier or counts.occupied >= places:
                return LineState(counts, others)
            await conn.execute("UPDATE job_places SET reserved = true WHERE job_id = %s", (head,))
            counts = PlaceCounts(occupied=counts.occupied + 1, waiting=counts.waiting)
            return LineState(counts, others, reserved=True)

    def start_keeping(self, followed: Callable[[], list[Admitted]]) -> None:
        """Renew the places of the `followed` jobs every third of `alive_s`, until `aclose`."""
        keeping = self._keep_forever(followed)
        self._keeping = asyncio.get_running_loop().create_task(keeping, name="job-places")

    async def aclose(self) -> None:
        """Stop renewing (the jobs' records keep their places) and let pending deletions finish."""
        if self._keeping is not None:
            self._keeping.cancel()
            await asyncio.gather(self._keeping, return_exceptions=True)
        await asyncio.gather(*self._ending, return_exceptions=True)

    async def _keep_forever(self, followed: Callable[[], list[Admitted]]) -> None:
        while True:
            await asyncio.sleep(self.alive_s / 3)
            try:
                await self.keep(followed())
            except Exception:
                log.exception("renewing the job places failed; trying again")

    async def _count(self, conn: AsyncConnection, owner: str | None, *, lock: bool = True) -> PlaceCounts:
        if lock:
            await conn.execute("SELECT pg_advisory_xact_lock(%s)", (LOCK_KEY,))
            await conn.execute(
                "DELETE FROM job_places p WHERE alive_until < now() AND NOT EXISTS (SELECT 1 FROM jobs j "
                "WHERE j.job_id = p.job_id AND NOT (j.record->>'settled')::boolean)"
            )
        cur = await conn.execute(
            "SELECT count(*) FILTER (WHERE reserved OR NOT waiting), count(*) FILTER (WHERE waiting), "
            "count(DISTINCT unit) FILTER (WHERE owner = %s) FROM live_job_places",
            (owner,),
        )
        row = await cur.fetchone()
        assert row is not None
        return PlaceCounts(occupied=int(row[0]), waiting=int(row[1]), mine=int(row[2]))

    def _rows(self, jobs: list[Admitted]) -> tuple[object, ...]:
        """`INSERT_PLACES`'s parameters for `jobs`."""
        ids, owners, units = [j.job_id for j in jobs], [j.owner for j in jobs], [j.unit for j in jobs]
        return (self.holder, self.alive_s, ids, owners, units)

    async def _delete(self, job_id: str) -> None:
        try:
            async with self.database.connection() as conn:
                await conn.execute("DELETE FROM job_places WHERE job_id = %s", (job_id,))
        except Exception:
            # The job's settled record frees the place anyway (`live_job_places`).
            log.warning("job %s: its place row stays until it expires", job_id, exc_info=True)


def admitted(job_id: str, owner: str, group_id: str | None) -> Admitted:
    """The job as the limits count it: a comparison's members are one unit of their owner."""
    return Admitted(job_id, owner, group_id or job_id)


def _at(seconds: float) -> datetime:
    return datetime.fromtimestamp(seconds, UTC)
