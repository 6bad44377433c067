"""Apply the schema's migrations once, even when several replicas start at the same moment.

Every replica takes the same session-level advisory lock before it reads `schema_migrations`;
the second waits, then finds everything applied. Each migration and its row in
`schema_migrations` commit together, so a crash mid-way leaves it either applied or not.
"""

from __future__ import annotations

import logging

from psycopg import AsyncConnection

from demo_app.database._schema import MIGRATIONS, Migration

log = logging.getLogger(__name__)

LOCK_KEY = 0x4C495053  # "LIPS": the advisory lock every replica takes to migrate


class SchemaTooNew(RuntimeError):
    """The database was migrated by a newer version of the app than this one."""


async def migrate(conn: AsyncConnection, migrations: list[Migration] = MIGRATIONS) -> list[int]:
    """Apply the migrations `conn`'s database lacks (`conn` in autocommit mode); the versions applied."""
    await conn.execute("SELECT pg_advisory_lock(%s)", (LOCK_KEY,))
    try:
        await conn.execute(
            "CREATE TABLE IF NOT EXISTS schema_migrations ("
            " version int PRIMARY KEY, name text NOT NULL, applied_at timestamptz NOT NULL DEFAULT now())"
        )
        cur = await conn.execute("SELECT version FROM schema_migrations")
        done = {int(row[0]) for row in await cur.fetchall()}
        known = max((m.version for m in migrations), default=0)
        if done and max(done) > known:
            raise SchemaTooNew(
                f"The database's schema is at version {max(done)}, newer than this app's {known}; "
                "run the newer app (or a database of its own) instead."
            )
        applied = []
        for migration in sorted(migrations):
            if migration.version in done:
                continue
            async with conn.transaction():
                await conn.execute(migration.sql)
                await conn.execute(
                    "INSERT INTO schema_migrations (version, name) VALUES (%s, %s)",
                    (migration.version, migration.name),
                )
            log.info("database: applied migration %d (%s)", migration.version, migration.name)
            applied.append(migration.version)
        return applied
    finally:
        await conn.execute("SELECT pg_advisory_unlock(%s)", (LOCK_KEY,))
