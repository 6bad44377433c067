"""Pacing Replicate calls: token buckets that keep every sliding minute under a ceiling.

Why this shape: a bucket holding at most `burst` tokens and refilled at `rate` tokens a second
grants at most `burst + rate * T` tokens in any window of `T` seconds — at most `burst` are
stored when the window opens and at most `rate * T` arrive during it (a token given back by a
caller that left unused is capped at `burst` too, as if it had never been taken). With
`rate = (per_minute - burst) / 60` that is at most `per_minute` in any 60 s window, whatever
the arrivals. Nothing is dropped: a caller waits, first come first served within its priority,
an urgent call (a cancel) goes before every normal one (polls), and a spare call (deleting an
ended job's uploads) is served only while no urgent or normal call waits: it spends what the
others leave. A caller whose task is canceled while waiting leaves at once and takes nothing.

`TokenBucket` lives in one process. `Pacer` is the interface the client and the jobs' create
line use; `SharedBucket` is the same bucket in PostgreSQL, for several replicas on one account.
"""

from __future__ import annotations

import asyncio
import enum
import time
from collections import deque
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Protocol

if TYPE_CHECKING:
    from demo_app.database import Database

READS_CEILING_PER_MIN = 3000
"""Replicate's limit for every call but creates."""
CREATES_CEILING_PER_MIN = 600
"""Replicate's limit for creating predictions."""
DEFAULT_READS_PER_MIN = 2400
DEFAULT_CREATES_PER_MIN = 500
BURST_SHARE = 10
"""The burst is a tenth of the minute's allowance: a quiet app answers the first calls at once,
and the steady rate stays nine tenths of it."""

_EPSILON = 1e-9
"""Float refills may stop a hair short of a whole token; that hair is not worth another sleep."""

Clock = Callable[[], float]
Sleep = Callable[[float], Awaitable[None]]


class Priority(enum.IntEnum):
    """Who goes first when calls wait for the same bucket (lower first)."""

    URGENT = 0
    """Cancels: a visitor's stop must not wait behind a thousand polls."""
    NORMAL = 1
    SPARE = 2
    """Work that may wait as long as the budget is busy (deletes): it never delays a poll."""


class Call(enum.Enum):
    """What kind of Replicate call is about to be sent, which picks its bucket and priority."""

    READ = "read"
    """Polls, list pages, file uploads, schema reads: everything but creates, cancels and deletes."""
    CANCEL = "cancel"
    CREATE = "create"
    SPARE = "spare"
    """Reads that can wait for an idle budget: deleting an ended job's uploaded inputs."""


class Pacer(Protocol):
    """Grants the right to send one request, never more than `per_minute` in any 60 s window."""

    @property
    def per_minute(self) -> int: ...

    @property
    def rate_per_s(self) -> float:
        """Steady grants per second once the burst is spent (what a long wait moves at)."""
        ...

    def available(self) -> float:
        """Tokens that could be granted right now."""
        ...

    def waiting(self) -> int:
        """Callers waiting for a token."""
        ...

    async def acquire(self, priority: Priority = Priority.NORMAL) -> None:
        """Wait for one token (FIFO within a priority, lower priorities only when no higher one
        waits); a canceled waiter takes nothing."""
        ...


def bucket_shape(per_minute: int) -> tuple[int, float]:
    """The burst and the steady rate per second that keep any 60 s window under `per_minute`."""
    if per_minute < 2:
        raise ValueError("A bucket needs at least 2 calls a minute.")
    burst = max(1, per_minute // BURST_SHARE)
    return burst, (per_minute - burst) / 60.0


class TokenBucket:
    """The in-process `Pacer`: one bucket, one short-lived task serving its waiters in order."""

    def __init__(
        self,
        per_minute: int,
        *,
        clock: Clock = time.monotonic,
        sleep: Sleep = asyncio.sleep,
    ) -> None:
        self._per_minute = per_minute
        self._burst, self._rate = bucket_shape(per_minute)
        self._clock = clock
        self._sleep = sleep
        self._tokens = float(self._burst)
        self._stamp = clock()
        self._queues: dict[Priority, deque[asyncio.Future[None]]] = {p: deque() for p in Priority}
        self._server: asyncio.Task[None] | None = None

    def __repr__(self) -> str:
        return f"TokenBucket(per_minute={self._per_minute}, burst={self._burst})"

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
        self._refill()
        return self._tokens

    def waiting(self) -> int:
        return sum(len(queue) for queue in self._queues.values())

    async def acquire(self, priority: Priority = Priority.NORMAL) -> None:
        if self._ready() and not self.waiting():
            self._tokens -= 1
            return
        granted: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        queue = self._queues[priority]
        queue.append(granted)
        self._serve_soon()
        try:
            await granted
        except asyncio.CancelledError:
            if granted.done() and not granted.cancelled():
                self._give_back()
            else:
                queue.remove(granted)
            raise

    def _ready(self) -> bool:
        self._refill()
        return self._tokens >= 1 - _EPSILON

    def _refill(self) -> None:
        now = self._clock()
        self._tokens = min(float(self._burst), self._tokens + max(0.0, now - self._stamp) * self._rate)
        self._stamp = now

    def _give_back(self) -> None:
        self._refill()
        self._tokens = min(float(self._burst), self._tokens + 1)
        self._serve_soon()

    def _serve_soon(self) -> None:
        if self._server is None or self._server.done():
            self._server = asyncio.get_running_loop().create_task(self._serve(), name="pacer")

    def _next(self) -> deque[asyncio.Future[None]] | None:
        return next((queue for queue in self._queues.values() if queue), None)

    async def _serve(self) -> None:
        """Grant tokens to waiters in order as they come in; ends when nobody waits."""
        while (queue := self._next()) is not None:
            if self._ready():
                self._tokens -= 1
                queue.popleft().set_result(None)
                continue
            await self._sleep(max(_EPSILON, (1 - self._tokens) / self._rate))


@dataclass(frozen=True)
class Pacing:
    """The two budgets every Replicate call passes: creates, and everything else."""

    reads: Pacer
    creates: Pacer

    @classmethod
    def per_minute(
        cls,
        reads: int = DEFAULT_READS_PER_MIN,
        creates: int = DEFAULT_CREATES_PER_MIN,
        *,
        clock: Clock = time.monotonic,
        sleep: Sleep = asyncio.sleep,
    ) -> Pacing:
        """In-process buckets with these ceilings (per sliding minute), on one clock."""
        return cls(
            reads=TokenBucket(reads, clock=clock, sleep=sleep),
            creates=TokenBucket(creates, clock=clock, sleep=sleep),
        )

    @classmethod
    def on_database(
        cls,
        database: Database,
        reads: int = DEFAULT_READS_PER_MIN,
        creates: int = DEFAULT_CREATES_PER_MIN,
        *,
        sleep: Sleep = asyncio.sleep,
    ) -> Pacing:
        """Buckets in `database`, shared by every process that opens them there (one account)."""
        from demo_app.replicate._shared_bucket import SharedBucket

        return cls(
            reads=SharedBucket(database, "replicate reads", reads, sleep=sleep),
            creates=SharedBucket(database, "replicate creates", creates, sleep=sleep),
        )

    async def admit(self, call: Call) -> None:
        """Wait until `call` may be sent."""
        if call is Call.CREATE:
            await self.creates.acquire()
        else:
            await self.reads.acquire(_READ_PRIORITY.get(call, Priority.NORMAL))


_READ_PRIORITY = {Call.CANCEL: Priority.URGENT, Call.SPARE: Priority.SPARE}
"""Where a call of the read budget waits; any other kind waits with the polls."""
