"""Where job records are written: one TinyDB file, or one JSONB row per job in PostgreSQL."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

from psycopg.types.json import Jsonb

from demo_app.jobs._leases import Leases
from demo_app.storage import GroupCommit, JournaledJSONStorage


class TinyJobRows:
    """The records in a TinyDB file on the journaled storage: one appended line per commit,
    written by one worker thread (fsync never blocks the event loop), with transitions of many
    jobs arriving together sharing a commit.

    Records are written by document id (`JournaledJSONStorage.put`), not through a TinyDB
    query: a write costs the event loop the same with ten records or ten thousand
    (`bench/job_store_writes.py`). The file keeps TinyDB's layout, so older ones open as before.
    """

    TABLE = "jobs"

    def __init__(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        self._storage = JournaledJSONStorage(path, autocommit=False, compact_ratio=1.0)
        self._group = GroupCommit(self._storage, on_reset=self._index)
        self._index()

    def _index(self) -> None:
        """Which document holds which job (again after a failed commit put memory back)."""
        docs = (self._storage.read() or {}).get(self.TABLE, {})
        self._doc_ids = {doc["job_id"]: doc_id for doc_id, doc in docs.items()}
        self._next_id = max((int(doc_id) for doc_id in docs), default=0) + 1

    def load(self) -> list[dict[str, Any]]:
        docs = (self._storage.read() or {}).get(self.TABLE, {})
        return [dict(doc) for doc in docs.values()]

    async def upsert(self, job_id: str, doc: dict[str, Any]) -> None:
        async with self._group.change():
            doc_id = self._doc_ids.get(job_id)
            if doc_id is None:
                doc_id = self._doc_ids[job_id] = str(self._next_id)
                self._next_id += 1
            self._storage.put(self.TABLE, doc_id, doc)

    async def delete(self, job_ids: list[str]) -> None:
        async with self._group.change():
            for job_id in job_ids:
                doc_id = self._doc_ids.pop(job_id, None)
                if doc_id is not None:
                    self._storage.put(self.TABLE, doc_id, None)

    def close(self) -> None:
        self._group.close()
        self._storage.close()


class PgJobRows:
    """The records in the `jobs` table, each change committed before it returns.

    Writes of one job are kept in order (one at a time per job, each writing the latest
    record), so a slower connection can never leave an older state last. A new row is leased to
    this replica; an existing one is changed only while this replica holds its lease (a write
    after the lease was lost to another replica changes nothing).
    """

    def __init__(self, leases: Leases) -> None:
        self._leases = leases
        self._db = leases.database
        self._latest: dict[str, dict[str, Any]] = {}
        self._writing: dict[str, asyncio.Lock] = {}

    async def load(self) -> list[dict[str, Any]]:
        async with self._db.connection() as conn:
            rows = await (await conn.execute("SELECT record FROM jobs")).fetchall()
        return [row[0] for row in rows]

    async def upsert(self, job_id: str, doc: dict[str, Any]) -> None:
        self._latest[job_id] = doc
        async with self._writing.setdefault(job_id, asyncio.Lock()):
            latest = self._latest.get(job_id)
            if latest is None:
                return  # a later write of this job already stored its latest record
            del self._latest[job_id]
            async with self._db.connection() as conn:
                await conn.execute(
                    "INSERT INTO jobs (job_id, record, lease_holder, lease_until) "
                    "VALUES (%s, %s, %s, now() + make_interval(secs => %s)) "
                    "ON CONFLICT (job_id) DO UPDATE SET record = EXCLUDED.record "
                    "WHERE jobs.lease_holder = EXCLUDED.lease_holder",
                    (job_id, Jsonb(latest), self._leases.holder, self._leases.lease_s),
                )

    async def delete(self, job_ids: list[str]) -> None:
        for job_id in job_ids:
            self._writing.pop(job_id, None)
            self._latest.pop(job_id, None)
        async with self._db.connection() as conn:
            await conn.execute("DELETE FROM jobs WHERE job_id = ANY(%s)", (job_ids,))

    def close(self) -> None:
        """Nothing pending: every write committed before it returned (the pool is the app's)."""
