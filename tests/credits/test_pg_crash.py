"""SIGKILL a process in the middle of ledger work on PostgreSQL: each change is there whole or not at all."""

from __future__ import annotations

import asyncio
import random
from pathlib import Path

import psycopg
import pytest

from demo_app.credits import Ledger
from demo_app.database import Database
from tests.credits.audit import Audit, audit, read_pg_entries
from tests.credits.crash_worker import OWNERS
from tests.credits.test_crash import assert_reported_ops_present, reported, run_until_killed

KILLS = 20


async def assert_ledger_agrees(url: str, on_entries: Audit) -> None:
    """The totals the engine keeps (accounts, holds, days) equal the entries replayed."""
    database = await Database.open(url)
    limits = {"starting_grant": 5000, "daily_budget": 10**9, "max_open_holds_per_owner": 40}
    ledger = Ledger.on_database(database, **limits)
    try:
        for owner in OWNERS:
            balance = await ledger.balance(owner)
            assert (balance.balance, balance.held) == (on_entries.balance[owner], on_entries.held[owner])
            assert balance.available >= 0
        assert {h.ref for h in await ledger.open_holds()} == on_entries.open_refs
        used = sum(on_entries.usage.values())
        spend = await ledger.spend()
        assert spend.held + spend.spent == used
    finally:
        await database.aclose()


@pytest.mark.slow
def test_sigkill_at_random_moments_leaves_every_change_whole(database_url: str, tmp_path: Path) -> None:
    report = tmp_path / "done.jsonl"
    rng = random.Random()
    for seed in range(KILLS):
        run_until_killed(database_url, report, seed, rng)
        with psycopg.connect(database_url) as conn:
            on_entries = audit(read_pg_entries(conn), daily_budget=10**9)
        assert_reported_ops_present(reported(report), on_entries)
        asyncio.run(assert_ledger_agrees(database_url, on_entries))
    ops = reported(report)
    print(f"{KILLS} kills, {len(ops)} reported operations")
    assert len(ops) > KILLS
