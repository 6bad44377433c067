"""Persisted batch records, on the same crash-safe journaled storage as the job records."""

from __future__ import annotations

from pathlib import Path
from typing import cast

from tinydb import Query, TinyDB

from demo_app.batches._types import BatchRecord
from demo_app.storage import GroupCommit, JournaledJSONStorage


class BatchStore:
    """Every batch record of this data directory; reads from memory, writes through to disk."""

    def __init__(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        self._db = TinyDB(path, storage=JournaledJSONStorage, autocommit=False)
        self._table = self._db.table("batches")
        self._records: dict[str, BatchRecord] = {
            doc["batch_id"]: BatchRecord.model_validate(doc) for doc in self._table.all()
        }
        self._group = GroupCommit(cast(JournaledJSONStorage, self._db.storage))

    def get(self, batch_id: str) -> BatchRecord | None:
        return self._records.get(batch_id)

    def all(self) -> list[BatchRecord]:
        """Every record, newest first."""
        return sorted(self._records.values(), key=lambda r: r.created_at, reverse=True)

    async def save(self, record: BatchRecord) -> None:
        """Persist one record; returns once it is on disk."""
        self._records[record.batch_id] = record
        doc = record.model_dump(mode="json")
        async with self._group.change():
            self._table.upsert(doc, Query().batch_id == record.batch_id)

    async def delete(self, batch_ids: list[str]) -> None:
        for batch_id in batch_ids:
            self._records.pop(batch_id, None)
        async with self._group.change():
            self._table.remove(Query().batch_id.one_of(batch_ids))

    def close(self) -> None:
        """Write what is pending, then release the file (and its lock)."""
        self._group.close()
        self._db.close()
