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
WORKER = "lipsync-crash-worker"
"""The worker's `application_name`, so its sessions can be found after the kill."""


def end_worker_sessions(url: str) -> None:
    """End the killed worker's sessions on the server, waiting for each.

    A pipelined transaction travels with its COMMIT: the worker may be killed after sending it,
    and the server then commits a moment later. Read before that, the entries and the balances
    (two reads) could straddle the commit and seem to disagree. Once its sessions are gone, each
    of its changes is committed whole or was never made.
    """
    sessions = "FROM pg_stat_activity WHERE application_name = %s"
    with psycopg.connect(url, autocommit=True) as conn:
        # Waits up to 10 s for each; a session that ended by itself meanwhile only warns.
        conn.execute(f"SELECT pg_terminate_backend(pid, 10000) {sessions}", (WORKER,))
        (left,) = conn.execute(f"SELECT count(*) {sessions}", (WORKER,)).fetchone() or (0,)
    assert left == 0, "a killed worker's session outlived 10 s"


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
        run_until_killed(f"{database_url}&application_name={WORKER}", report, seed, rng)
        end_worker_sessions(database_url)
        with psycopg.connect(database_url) as conn:
            on_entries = audit(read_pg_entries(conn), daily_budget=10**9)
        assert_reported_ops_present(reported(report), on_entries)
        asyncio.run(assert_ledger_agrees(database_url, on_entries))
    ops = reported(report)
    print(f"{KILLS} kills, {len(ops)} reported operations")
    assert len(ops) > KILLS
