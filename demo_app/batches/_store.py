"""Persisted batch records: `BatchStore`, a file on the same crash-safe journaled storage as the
job records, for one process; `PgBatchStore` (`_pg_store`) for replicas sharing a database."""

from __future__ import annotations

from pathlib import Path
from typing import Protocol, cast

from tinydb import Query, TinyDB

from demo_app.batches._types import BatchRecord
from demo_app.storage import GroupCommit, JournaledJSONStorage


class BatchRecords(Protocol):
    """Where batch records are kept. Reads return copies the caller may change."""

    async def get(self, batch_id: str) -> BatchRecord | None: ...

    async def of_owner(self, owner: str) -> list[BatchRecord]:
        """The owner's batches, newest first."""
        ...

    async def unfinished_here(self) -> list[BatchRecord]:
        """The unfinished batches this process carries on after a restart."""
        ...

    async def save(self, record: BatchRecord) -> bool:
        """Store the record (durable when this returns); True if another process asked to cancel
        the batch (`ask_cancel`). A new batch of an owner who has one unfinished is a `BatchRefused`."""
        ...

    async def ask_cancel(self, batch_id: str) -> None:
        """Ask the process running the batch to cancel it."""
        ...

    async def cancel_asked(self, batch_id: str) -> bool: ...

    async def delete(self, batch_ids: list[str]) -> None: ...

    def close(self) -> None: ...


class BatchStore:
    """Every batch record of this data directory; reads from memory, writes through to disk.
    One process runs every batch it holds, so no other asks it to cancel one."""

    def __init__(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        self._db = TinyDB(path, storage=JournaledJSONStorage, autocommit=False)
        self._table = self._db.table("batches")
        self._records: dict[str, BatchRecord] = {
            doc["batch_id"]: BatchRecord.model_validate(doc) for doc in self._table.all()
        }
        self._group = GroupCommit(cast(JournaledJSONStorage, self._db.storage))

    async def get(self, batch_id: str) -> BatchRecord | None:
        record = self._records.get(batch_id)
        return record.model_copy(deep=True) if record is not None else None

    async def of_owner(self, owner: str) -> list[BatchRecord]:
        mine = [r.model_copy(deep=True) for r in self._records.values() if r.owner == owner]
        return sorted(mine, key=lambda r: r.created_at, reverse=True)

    async def unfinished_here(self) -> list[BatchRecord]:
        unfinished = [r.model_copy(deep=True) for r in self._records.values() if r.finished_at is None]
        return sorted(unfinished, key=lambda r: r.created_at)

    async def save(self, record: BatchRecord) -> bool:
        self._records[record.batch_id] = record.model_copy(deep=True)
        doc = record.model_dump(mode="json")
        async with self._group.change():
            self._table.upsert(doc, Query().batch_id == record.batch_id)
        return False

    async def ask_cancel(self, batch_id: str) -> None:
        """Nothing to ask: this process runs the batch (its cancel reaches the run directly)."""

    async def cancel_asked(self, batch_id: str) -> bool:
        return False

    async def delete(self, batch_ids: list[str]) -> None:
        for batch_id in batch_ids:
            self._records.pop(batch_id, None)
        async with self._group.change():
            self._table.remove(Query().batch_id.one_of(batch_ids))

    def close(self) -> None:
        """Write what is pending, then release the file (and its lock)."""
        self._group.close()
        self._db.close()
