"""A thousand holds at once from two processes on one PostgreSQL ledger: never overdrawn, one hold per ref."""

from __future__ import annotations

import asyncio
import json
import subprocess
import sys
from pathlib import Path

import psycopg
import pytest

from demo_app.credits import Ledger
from demo_app.database import Database
from tests.credits.audit import audit, read_pg_entries
from tests.credits.pg_hold_worker import HOLDS, LIMITS, POOR, PRICE, RICH, SHARED

ROOT = Path(__file__).resolve().parents[2]
COVERED = 137


async def fund(url: str) -> None:
    database = await Database.open(url)
    ledger = Ledger.on_database(database, **LIMITS)
    await ledger.adjust(POOR, COVERED * PRICE + PRICE - 1, reason="enough for 137 jobs")
    await ledger.adjust(RICH, 10**6, reason="plenty")
    await database.aclose()


@pytest.mark.slow
def test_two_processes_holding_at_once_never_overdraw(database_url: str) -> None:
    asyncio.run(fund(database_url))
    workers = [
        subprocess.Popen(
            [sys.executable, "-m", "tests.credits.pg_hold_worker", database_url, name],
            cwd=ROOT,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
        )
        for name in ("a", "b")
    ]
    for worker in workers:
        assert worker.stdout is not None and worker.stdout.readline() == "ready\n"
    for worker in workers:
        assert worker.stdin is not None
        worker.stdin.write("go\n")
        worker.stdin.flush()
    said = [json.loads(worker.communicate(timeout=240)[0].strip().splitlines()[-1]) for worker in workers]
    assert [w.returncode for w in workers] == [0, 0]
    assert [s["unexpected"] for s in said] == [[], []]
    held = said[0]["held"] + said[1]["held"]
    assert len(held) == COVERED, "exactly as many holds as the credits cover, whoever sent them"
    assert {a for s in said for a in s["refused_available"]} == {PRICE - 1}
    shared = said[0]["shared_applied"] + said[1]["shared_applied"]
    assert sorted(shared) == sorted(f"shared-{i}" for i in range(SHARED)), "each shared ref held once"
    with psycopg.connect(database_url) as conn:
        on_entries = audit(read_pg_entries(conn), daily_budget=10**9)
        row = conn.execute("SELECT balance - held FROM ledger_accounts WHERE owner = %s", (POOR,)).fetchone()
    assert row is not None
    (stored,) = row
    assert on_entries.balance[POOR] - on_entries.held[POOR] == stored == PRICE - 1
    assert sorted(r for r in on_entries.open_refs if not r.startswith("shared")) == sorted(held)
    assert len(on_entries.holds) == COVERED + SHARED and HOLDS * 2 > COVERED
