"""A `Pacer` whose bucket is a row in PostgreSQL, so every replica on one account shares its budget.

The bucket has the same shape as `TokenBucket` (burst a tenth of the minute, the rest refilled
evenly), so the same bound holds for the whole deployment: at most `per_minute` grants in any
60 s window, however many processes take from it. Refill and take are one call of the
database function `rate_take`, under the row's lock and on the database's clock (replicas'
clocks may differ; the database has one). Within this process waiters are served in order,
urgent ones first and spare ones last, by one task that asks the database for a token at a time
and, when there is none, sleeps as long as the database says the next one takes.

Priorities order this process's waiters only: across replicas every ask competes alike, as
before. So a spare call (a delete) yields to this replica's polls, and another replica's polls
meet it as they would meet any call of this one; a replica's spare calls are few at a time (the
deletes are sent by a handful of workers), so they take a small share of the deployment's
budget while its polls wait.
"""

from __future__ import annotations

import asyncio
import logging
from collections import deque
from typing import TYPE_CHECKING

from demo_app.replicate._pacing import Priority, Sleep, bucket_shape

if TYPE_CHECKING:
    from demo_app.database import Database

log = logging.getLogger(__name__)

MIN_WAIT_S = 0.001
"""The shortest sleep between two asks, so a float hair short of a token is not a busy loop."""


class SharedBucket:
    """One named bucket in the database's `rate_buckets` table."""

    def __init__(
        self, database: Database, name: str, per_minute: int, *, sleep: Sleep = asyncio.sleep
    ) -> None:
        self._database = database
        self._name = name
        self._per_minute = per_minute
        self._burst, self._rate = bucket_shape(per_minute)
        self._sleep = sleep
        self._last_seen = float(self._burst)
        self._queues: dict[Priority, deque[asyncio.Future[None]]] = {p: deque() for p in Priority}
        self._server: asyncio.Task[None] | None = None
        self._returns: set[asyncio.Task[None]] = set()

    def __repr__(self) -> str:
        return f"SharedBucket({self._name!r}, per_minute={self._per_minute}, burst={self._burst})"

    @property
    def per_minute(self) -> int:
        return self._per_minute

    @property
    def burst(self) -> int:
        return self._burst

    @property
    def rate_per_s(self) -> float:
        return self._rate

    def available(self) -> float:
        """Tokens the bucket held when this process last asked (others may have taken some since)."""
        return self._last_seen

    def waiting(self) -> int:
        """Callers of this process waiting (other replicas' callers are not counted)."""
        return sum(len(queue) for queue in self._queues.values())

    async def acquire(self, priority: Priority = Priority.NORMAL) -> None:
        granted: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        queue = self._queues[priority]
        queue.append(granted)
        if self._server is None or self._server.done():
            self._server = asyncio.get_running_loop().create_task(self._serve(), name=f"pacer {self._name}")
        try:
            await granted
        except asyncio.CancelledError:
            if granted.done() and not granted.cancelled():
                self._give_back_soon()
            elif granted in queue:
                queue.remove(granted)
            raise

    def _next(self) -> deque[asyncio.Future[None]] | None:
        return next((queue for queue in self._queues.values() if queue), None)

    async def _serve(self) -> None:
        """Take tokens from the database for the waiters in order; ends when nobody waits."""
        try:
            while self._next() is not None:
                wait_s = await self._take()
                if wait_s > 0:
                    await self._sleep(max(MIN_WAIT_S, wait_s))
                    continue
                queue = self._next()
                if queue is None:  # everyone left while the database answered
                    await self._give_back()
                    return
                queue.popleft().set_result(None)
        except Exception as exc:
            log.warning("pacer %s: the database did not answer: %s", self._name, type(exc).__name__)
            for queue in self._queues.values():
                while queue:
                    waiter = queue.popleft()
                    if not waiter.done():
                        waiter.set_exception(exc)

    async def _take(self) -> float:
        """0 when a token was taken, else the seconds until the next one."""
        async with self._database.connection() as conn:
            cur = await conn.execute(
                "SELECT rate_take(%s, %s, %s), (SELECT tokens FROM rate_buckets WHERE name = %s)",
                (self._name, float(self._burst), self._rate, self._name),
            )
            row = await cur.fetchone()
        assert row is not None
        self._last_seen = float(row[1] or 0.0)
        return float(row[0])

    async def _give_back(self) -> None:
        async with self._database.connection() as conn:
            await conn.execute("SELECT rate_give_back(%s, %s)", (self._name, float(self._burst)))

    def _give_back_soon(self) -> None:
        """A granted waiter that was canceled returns its token (in the background: it is leaving)."""
        task = asyncio.get_running_loop().create_task(self._give_back(), name=f"pacer {self._name} return")
        self._returns.add(task)
        task.add_done_callback(self._returns.discard)
