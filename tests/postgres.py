"""A throw-away PostgreSQL for each test: the cluster of `bench._pg_cluster`, started once a session.

- `postgres` (session): a cluster made by `initdb` in a temp directory and started by `pg_ctl`,
  listening only on a unix socket in that directory (no port to collide with), fsync off; as
  the `postgres` OS user when the tests run as root (PostgreSQL refuses root). It holds a
  migrated template database; stopped and removed at the end of the session.
- `database_url` (function): a fresh database copied from the template (~100 ms), dropped after.
- `database` (async, function): that database opened as the app opens it (`Database.open`).

Missing server programs fail the test with what to run, never skip it.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator

import pytest

from bench._pg_cluster import MISSING, Cluster, server_bin
from demo_app.database import Database

__all__ = ["Cluster"]


@pytest.fixture(scope="session")
def postgres() -> Iterator[Cluster]:
    if server_bin() is None:
        pytest.fail(MISSING)
    cluster = Cluster()
    try:
        yield cluster.start()
    finally:
        cluster.stop()


@pytest.fixture
def database_url(postgres: Cluster) -> Iterator[str]:
    url = postgres.new_database()
    yield url
    postgres.drop(url)


@pytest.fixture
async def database(database_url: str) -> AsyncIterator[Database]:
    db = await Database.open(database_url)
    yield db
    await db.aclose()
