"""Which `webhook-id`s were already received: Replicate retries a delivery until it gets a 2xx, so
the same event may come twice, and with several replicas the repeat may reach another one.

`SeenInMemory` is one process's memory (bounded by count and age); `SeenInDatabase` is the
`webhook_deliveries` table, where the primary key makes "first time" one atomic insert for the
whole deployment.
"""

from __future__ import annotations

from collections import OrderedDict
from typing import TYPE_CHECKING, Protocol

if TYPE_CHECKING:
    from demo_app.database import Database

SEEN_MAX = 20_000
SEEN_KEEP_S = 3600.0
"""Webhook ids remembered this long (Replicate's last retry comes about a minute after the end)."""
PRUNE_EVERY = 1000
"""The database forgets ids older than `SEEN_KEEP_S` once per this many deliveries."""


class Seen(Protocol):
    async def first_time(self, webhook_id: str, now: float) -> bool:
        """Remember `webhook_id`; False if it was already received."""
        ...


class SeenInMemory:
    """The ids this process received, the oldest forgotten first."""

    def __init__(self) -> None:
        self._seen: OrderedDict[str, float] = OrderedDict()

    async def first_time(self, webhook_id: str, now: float) -> bool:
        while self._seen:
            oldest = next(iter(self._seen.values()))
            if len(self._seen) < SEEN_MAX and oldest >= now - SEEN_KEEP_S:
                break
            self._seen.popitem(last=False)
        if webhook_id in self._seen:
            return False
        self._seen[webhook_id] = now
        return True


class SeenInDatabase:
    """The ids every replica received, in the database (old ones pruned now and then)."""

    def __init__(self, database: Database) -> None:
        self._database = database
        self._count = 0

    async def first_time(self, webhook_id: str, now: float) -> bool:
        self._count += 1
        async with self._database.connection() as conn:
            if self._count % PRUNE_EVERY == 0:
                await conn.execute(
                    "DELETE FROM webhook_deliveries WHERE received_at < now() - make_interval(secs => %s)",
                    (SEEN_KEEP_S,),
                )
            cur = await conn.execute(
                "INSERT INTO webhook_deliveries (webhook_id) VALUES (%s) ON CONFLICT DO NOTHING RETURNING 1",
                (webhook_id,),
            )
            return await cur.fetchone() is not None
