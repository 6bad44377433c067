"""Share links in PostgreSQL: every replica reads the same links, so one made here opens anywhere.

Nothing is cached: a revoke on one replica stops the link on all at once. Lookups go by the
token's sha256 (the primary key), as in the file store.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from psycopg.types.json import Jsonb

from demo_app.shares._store import TOKEN_SHAPE, Share, new_share, token_hash

if TYPE_CHECKING:
    from demo_app.database import Database


class PgShareStore:
    """The `shares` table of the database (which stays open after `close`)."""

    def __init__(self, database: Database) -> None:
        self._database = database

    async def of(self, job_id: str) -> Share | None:
        return await self._one("SELECT record FROM shares WHERE job_id = %s", job_id)

    async def find(self, token: str) -> Share | None:
        if not TOKEN_SHAPE.fullmatch(token):
            return None
        return await self._one("SELECT record FROM shares WHERE token_hash = %s", token_hash(token))

    async def create(self, owner: str, job_id: str) -> Share:
        """The job's live link, else a new one; two replicas sharing at once end with the same link."""
        share = new_share(owner, job_id)
        async with self._database.connection() as conn:
            await conn.execute(
                "INSERT INTO shares (token_hash, job_id, record) VALUES (%s, %s, %s)"
                " ON CONFLICT (job_id) DO NOTHING",
                (token_hash(share.token), job_id, Jsonb(share.model_dump(mode="json"))),
            )
        kept = await self.of(job_id)
        assert kept is not None
        return kept

    async def revoke(self, job_id: str) -> bool:
        async with self._database.connection() as conn:
            cur = await conn.execute("DELETE FROM shares WHERE job_id = %s RETURNING 1", (job_id,))
            return await cur.fetchone() is not None

    def close(self) -> None:
        """Nothing to release: the services close the database."""

    async def _one(self, query: str, value: str) -> Share | None:
        async with self._database.connection() as conn:
            cur = await conn.execute(query, (value,))
            row: Any = await cur.fetchone()
        return Share.model_validate(row[0]) if row is not None else None
