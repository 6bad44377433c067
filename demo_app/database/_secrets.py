"""Secrets made once for the whole deployment: the first replica to ask writes one, all read it.

Used when a secret is not configured (settings win): a key signed by one replica must be
accepted by all, so a secret made by each replica on its own disk would not do.
"""

from __future__ import annotations

import secrets

from demo_app.database._database import Database


async def shared_secret(database: Database, name: str) -> bytes:
    """The secret called `name` in the database, made (32 random bytes, URL-safe) if there is none."""
    async with database.connection() as conn:
        await conn.execute(
            "INSERT INTO app_secrets (name, secret) VALUES (%s, %s) ON CONFLICT (name) DO NOTHING",
            (name, secrets.token_urlsafe(32)),
        )
        cur = await conn.execute("SELECT secret FROM app_secrets WHERE name = %s", (name,))
        row = await cur.fetchone()
    assert row is not None
    return str(row[0]).encode("ascii")
