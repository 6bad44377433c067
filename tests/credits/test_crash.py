"""SIGKILL a process in the middle of ledger work, many times: the files always load and agree."""

from __future__ import annotations

import asyncio
import json
import os
import random
import signal
import subprocess
from pathlib import Path

import pytest

from demo_app.credits import Ledger
from tests import forked
from tests.credits.audit import Audit, audit, read_entries
from tests.credits.crash_worker import OWNERS

KILLS = 60


def run_until_killed(where: Path | str, report: Path, seed: int, rng: random.Random) -> None:
    """Run the crash worker on the ledger at `where` (a file, or a database URL), then SIGKILL it."""
    worker = forked.Worker(
        "tests.credits.crash_worker", [str(where), str(report), str(seed)], dict(os.environ)
    )
    assert worker.stdout.readline() == "ready\n", "the worker could not open the ledger"
    with pytest.raises(subprocess.TimeoutExpired):
        worker.wait(timeout=rng.uniform(0.0, 0.25))  # the random moment of the crash
    worker.send_signal(signal.SIGKILL)
    assert worker.wait() == -signal.SIGKILL, worker.stderr()
    worker.stdout.close()


def reported(report: Path) -> list[dict]:
    return [json.loads(line) for line in report.read_text().splitlines()]


def assert_reported_ops_present(ops: list[dict], on_disk: Audit) -> None:
    for op in ops:
        if op["op"] == "hold":
            hold = on_disk.holds[op["ref"]]
            assert (hold["owner"], hold["held"]) == (op["owner"], op["amount"])
        elif op["op"] == "capture":
            end = on_disk.ends[op["ref"]]
            assert (end["kind"], -end["amount"]) == ("capture", op["charged"])
        elif op["op"] == "release":
            assert on_disk.ends[op["ref"]]["kind"] == "release"
        else:
            assert op["reason"] in on_disk.reasons


async def assert_ledger_agrees(ledger_path: Path, on_disk: Audit) -> None:
    ledger = Ledger(ledger_path, starting_grant=5000, daily_budget=10**9, max_open_holds_per_owner=40)
    try:
        for owner in OWNERS:
            balance = await ledger.balance(owner)
            assert (balance.balance, balance.held) == (on_disk.balance[owner], on_disk.held[owner])
            assert balance.available >= 0
        assert {h.ref for h in await ledger.open_holds()} == on_disk.open_refs
    finally:
        ledger.close()


@pytest.mark.slow
def test_sigkill_at_random_moments_loses_nothing_that_was_reported(tmp_path: Path) -> None:
    ledger_path = tmp_path / "data" / "ledger.json"
    report = tmp_path / "done.jsonl"
    rng = random.Random()
    leftovers = 0
    for seed in range(KILLS):
        run_until_killed(ledger_path, report, seed, rng)
        leftovers += len(list(ledger_path.parent.rglob(".*.tmp")))
        on_disk = audit(read_entries(ledger_path), daily_budget=10**9)  # the files load, history holds
        assert_reported_ops_present(reported(report), on_disk)
        asyncio.run(assert_ledger_agrees(ledger_path, on_disk))
        assert list(ledger_path.parent.rglob(".*.tmp")) == []  # opening removed what the crash left
    ops = reported(report)
    archives = len(list(ledger_path.with_name("ledger.archive").glob("*.json")))
    print(f"{KILLS} kills, {len(ops)} reported operations, {archives} archives, {leftovers} temp files left")
    assert len(ops) > KILLS and archives > 0
