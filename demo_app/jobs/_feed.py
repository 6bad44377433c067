"""The job feed: what one replica's jobs do reaches every other replica, at once.

One channel per deployment (`lipsync_jobs`, in its database). Every saved record is announced
by the database itself (a trigger, `_schema`); the follower adds progress and log frames (at
most one per `PROGRESS_FRAME_S` per job), and any replica may ask the follower to read the
prediction now (a webhook that reached it). A cancel, and a stopping replica's handing back of
its jobs, are announced by the statement that writes them (`_leases`). Payloads are small JSON
objects naming the job and the sender; records are read from the table, never carried in a
message. Messages
are sent by one task, all those waiting in one statement; a job's newer frame replaces its
unsent older one, so a busy database costs frames, never a growing queue.
"""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import Callable
from typing import Any

import psycopg
from psycopg import AsyncConnection

from demo_app.database import Database

log = logging.getLogger(__name__)

CHANNEL = "lipsync_jobs"
LOG_CHARS = 2000
"""Log tail carried in a progress frame (a payload must stay under PostgreSQL's 8000 bytes)."""
RECONNECT_S = 1.0

Heard = Callable[[dict[str, Any]], None]


class JobFeed:
    """Listens on the channel on a connection of its own and tells `heard` every other replica's
    message; `resync` is called after a reconnect (messages may have been missed meanwhile)."""

    def __init__(self, database: Database, holder: str, heard: Heard, resync: Callable[[], None]) -> None:
        self._database = database
        self._holder = holder
        self._heard = heard
        self._resync = resync
        self._pending: dict[tuple[str, str], str] = {}
        self._wanted = asyncio.Event()
        self._sending: asyncio.Task[None] | None = None
        self._listening: asyncio.Task[None] | None = None
        self._ready = asyncio.Event()

    async def start(self) -> None:
        """Listen from now on (returns once the LISTEN is in place)."""
        self._listening = asyncio.create_task(self._listen(), name="jobs-feed")
        self._sending = asyncio.create_task(self._send_forever(), name="jobs-feed-send")
        await self._ready.wait()

    def announce(self, job_id: str, kind: str, **fields: Any) -> None:
        """Tell the other replicas (in the background, with whatever else is waiting)."""
        message = {"job": job_id, "kind": kind, "from": self._holder, **fields}
        self._pending[(job_id, kind)] = json.dumps(message)
        self._wanted.set()

    async def aclose(self) -> None:
        tasks = [task for task in (self._sending, self._listening) if task is not None]
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)

    async def _send_forever(self) -> None:
        while True:
            await self._wanted.wait()
            self._wanted.clear()
            batch, self._pending = list(self._pending.values()), {}
            try:
                async with self._database.connection() as conn:
                    await conn.execute(
                        "SELECT pg_notify(%s, payload) FROM unnest(%s::text[]) AS payload", (CHANNEL, batch)
                    )
            except psycopg.Error as exc:
                log.warning("jobs feed: could not announce %d messages: %s", len(batch), type(exc).__name__)

    async def _listen(self) -> None:
        conninfo = self._database.pool.conninfo
        assert isinstance(conninfo, str)  # `Database.open` gives the pool its URL
        first = True
        while True:
            try:
                conn = await AsyncConnection.connect(conninfo, autocommit=True)
                async with conn:
                    await conn.execute(f"LISTEN {CHANNEL}")
                    self._ready.set()
                    if not first:
                        self._resync()
                    first = False
                    async for note in conn.notifies():
                        self._take(note.payload)
            except psycopg.Error as exc:
                log.warning("jobs feed: listening failed (%s); reconnecting", type(exc).__name__)
                self._ready.set()
                first = False
            await asyncio.sleep(RECONNECT_S)

    def _take(self, payload: str) -> None:
        try:
            message = json.loads(payload)
        except ValueError:
            return
        if not isinstance(message, dict) or not isinstance(message.get("job"), str):
            return
        if message.get("from") == self._holder:
            return
        try:
            self._heard(message)
        except Exception:
            log.exception("jobs feed: handling %s failed", message.get("kind"))
