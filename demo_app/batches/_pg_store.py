"""Batch records in PostgreSQL: any replica reads, zips and cancels any batch.

Each batch is run by one replica (`runner`, its `LIPSYNC_REPLICA_NAME`): only that replica's task
starts the batch's items and writes its record, and a restart under the same name carries its
unfinished batches on. Another replica cancels a batch by asking (`cancel_asked`) and canceling
the started jobs itself; the runner sees the ask at its next write or check and drops the rest.
Until it has, readers see the batch as it will be: canceled, its waiting items dropped. The
database refuses a second unfinished batch of one owner, whichever replicas start them.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from psycopg import errors
from psycopg.types.json import Jsonb

from demo_app.batches._types import ONE_RUNNING, BatchRecord, BatchRefused, ItemState

if TYPE_CHECKING:
    from demo_app.database import Database


class PgBatchStore:
    """The `batches` table of the database (which stays open after `close`); nothing is cached."""

    def __init__(self, database: Database, runner: str) -> None:
        self._database = database
        self._runner = runner

    async def get(self, batch_id: str) -> BatchRecord | None:
        found = await self._select("WHERE batch_id = %s", batch_id)
        return found[0] if found else None

    async def of_owner(self, owner: str) -> list[BatchRecord]:
        mine = await self._select("WHERE owner = %s", owner)
        return sorted(mine, key=lambda r: r.created_at, reverse=True)

    async def unfinished_here(self) -> list[BatchRecord]:
        unfinished = await self._select("WHERE runner = %s AND record->>'finished_at' IS NULL", self._runner)
        return sorted(unfinished, key=lambda r: r.created_at)

    async def save(self, record: BatchRecord) -> bool:
        doc = Jsonb(record.model_dump(mode="json"))
        try:
            async with self._database.connection() as conn:
                cur = await conn.execute(
                    "INSERT INTO batches (batch_id, owner, runner, record) VALUES (%s, %s, %s, %s) "
                    "ON CONFLICT (batch_id) DO UPDATE SET record = EXCLUDED.record RETURNING cancel_asked",
                    (record.batch_id, record.owner, self._runner, doc),
                )
                row = await cur.fetchone()
        except errors.UniqueViolation:
            raise BatchRefused(ONE_RUNNING) from None
        return bool(row is not None and row[0])

    async def ask_cancel(self, batch_id: str) -> None:
        async with self._database.connection() as conn:
            await conn.execute("UPDATE batches SET cancel_asked = true WHERE batch_id = %s", (batch_id,))

    async def cancel_asked(self, batch_id: str) -> bool:
        async with self._database.connection() as conn:
            cur = await conn.execute("SELECT cancel_asked FROM batches WHERE batch_id = %s", (batch_id,))
            row = await cur.fetchone()
        return bool(row is not None and row[0])

    async def delete(self, batch_ids: list[str]) -> None:
        async with self._database.connection() as conn:
            await conn.execute("DELETE FROM batches WHERE batch_id = ANY(%s)", (batch_ids,))

    def close(self) -> None:
        """Nothing to release: the services close the database."""

    async def _select(self, where: str, value: str) -> list[BatchRecord]:
        async with self._database.connection() as conn:
            cur = await conn.execute(f"SELECT record, cancel_asked FROM batches {where}", (value,))
            rows: list[Any] = await cur.fetchall()
        return [_as_it_will_be(BatchRecord.model_validate(row[0]), bool(row[1])) for row in rows]


def _as_it_will_be(record: BatchRecord, cancel_asked: bool) -> BatchRecord:
    """A batch whose cancel was asked, as its runner will write it: canceled, nothing left waiting."""
    if cancel_asked and record.finished_at is None:
        record.canceled = True
        for item in record.items:
            if item.state is ItemState.WAITING:
                item.state = ItemState.DROPPED
    return record
