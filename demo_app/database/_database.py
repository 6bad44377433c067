"""One connection pool to PostgreSQL per process, opened and migrated at start, closed at the end."""

from __future__ import annotations

import logging
from contextlib import AbstractAsyncContextManager

import psycopg
from psycopg import AsyncConnection
from psycopg_pool import AsyncConnectionPool, PoolTimeout

from demo_app.database._migrate import migrate
from demo_app.database._url import check_database_url, describe_url

log = logging.getLogger(__name__)


class DatabaseUnavailable(RuntimeError):
    """The database could not be reached at start (its place named, never its password)."""


class Database:
    """The pool of connections (autocommit: each change opens its own transaction)."""

    def __init__(self, pool: AsyncConnectionPool, where: str) -> None:
        self.pool = pool
        self.where = where
        """`host:port/dbname` of the database, safe to show."""

    @classmethod
    async def open(cls, url: str, *, max_size: int = 10, timeout_s: float = 30.0) -> Database:
        """Connect (waiting at most `timeout_s`) and migrate; `DatabaseUnavailable` if it cannot."""
        check_database_url(url)
        where = describe_url(url)
        pool = AsyncConnectionPool(
            url,
            min_size=1,
            max_size=max_size,
            kwargs={"autocommit": True},
            open=False,
            name="lipsync",
            timeout=timeout_s,
        )
        try:
            await pool.open(wait=True, timeout=timeout_s)
        except (PoolTimeout, psycopg.Error):
            await pool.close()
            raise DatabaseUnavailable(
                f"Could not connect to the database at {where} within {timeout_s:g} s; check "
                "LIPSYNC_DATABASE_URL (host, port, user, password, database name) and that the server runs."
            ) from None
        try:
            async with pool.connection() as conn:
                await migrate(conn)
        except BaseException:
            await pool.close()
            raise
        log.info("database: connected to %s", where)
        return cls(pool, where)

    def connection(self) -> AbstractAsyncContextManager[AsyncConnection]:
        """A pooled connection for one unit of work (open a transaction on it to change anything)."""
        return self.pool.connection()

    async def aclose(self) -> None:
        """Close every connection; calls still waiting for one fail."""
        await self.pool.close()
