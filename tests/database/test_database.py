"""The database module: URLs refused in one sentence without their password, migrations once."""

from __future__ import annotations

import asyncio

import psycopg
import pytest

from demo_app.database import MIGRATIONS, Database, DatabaseUnavailable, Migration, SchemaTooNew, migrate
from demo_app.settings import SettingsError, load_settings
from tests.postgres import Cluster

SECRET = "hunter2-very-secret"


@pytest.mark.parametrize(
    "url", [f"mysql://app:{SECRET}@db/lipsync", f"sqlite:///{SECRET}.db", f"app:{SECRET}@db:5432/x"]
)
def test_settings_refuse_anything_but_postgresql_without_showing_the_url(url: str) -> None:
    with pytest.raises(SettingsError) as refused:
        load_settings(database_url=url)
    text = str(refused.value)
    assert "LIPSYNC_DATABASE_URL" in text and "postgresql://" in text
    assert SECRET not in text and text.count("\n") == 0


def test_settings_take_both_schemes_and_keep_the_url_secret() -> None:
    for scheme in ("postgresql", "postgres"):
        settings = load_settings(database_url=f"{scheme}://app:{SECRET}@db:5432/lipsync")
        assert settings.database_url is not None
        assert SECRET not in repr(settings) and SECRET not in str(settings.database_url)
    assert load_settings(database_url="").database_url is None


async def test_an_unreachable_server_is_named_without_its_password(postgres: Cluster) -> None:
    url = f"postgresql://app:{SECRET}@/nothing?host={postgres.dir}/nowhere"
    with pytest.raises(DatabaseUnavailable) as refused:
        await Database.open(url, timeout_s=0.5)
    assert SECRET not in str(refused.value) and "LIPSYNC_DATABASE_URL" in str(refused.value)


async def test_replicas_starting_together_migrate_once(postgres: Cluster) -> None:
    postgres.admin("CREATE DATABASE empty_start")
    url = postgres.url("empty_start")
    try:
        opened = await asyncio.gather(*(Database.open(url) for _ in range(4)))
        for db in opened:
            await db.aclose()
        with psycopg.connect(url) as conn:
            rows = conn.execute("SELECT version FROM schema_migrations").fetchall()
        assert rows == [(m.version,) for m in MIGRATIONS]
    finally:
        postgres.drop(url)


async def test_a_schema_newer_than_the_app_is_refused(database: Database) -> None:
    future = [*MIGRATIONS, Migration(MIGRATIONS[-1].version + 1, "later", "CREATE TABLE later (id int)")]
    async with database.connection() as conn:
        assert await migrate(conn, future) == [future[-1].version]
        assert await migrate(conn, future) == []
        with pytest.raises(SchemaTooNew, match="newer than this app"):
            await migrate(conn)
