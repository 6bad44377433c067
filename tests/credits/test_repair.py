"""Damaged data files stop the app with the file and the step; `python -m demo_app.repair` fixes them."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
from tinydb import TinyDB

from demo_app.credits import Balance, Ledger
from demo_app.jobs._store import JobStore
from demo_app.storage import JournaledJSONStorage, StorageError, backup_path, journal_path
from tests.credits.conftest import Clock

OWNER = "hf:ana"
REPO = Path(__file__).resolve().parents[2]


def open_ledger(path: Path, clock: Clock) -> Ledger:
    return Ledger(path, starting_grant=1000, daily_budget=100_000, max_open_holds_per_owner=10, clock=clock)


def repair(data_dir: Path, *args: str) -> subprocess.CompletedProcess[str]:
    """The repair command, as an operator runs it."""
    command = [sys.executable, "-m", "demo_app.repair", "--data-dir", str(data_dir), *args]
    return subprocess.run(command, capture_output=True, text=True, cwd=REPO, timeout=120, check=False)


async def three_jobs(ledger: Ledger) -> list[Balance]:
    """Open an account and run three jobs; the balance after each commit that changes it."""
    seen = [await ledger.open_account(OWNER)]
    for i in range(3):
        await ledger.hold(OWNER, 100, f"job-{i}", reason="r")
        await ledger.capture(f"job-{i}", 50, reason="delivered")
        seen.append(await ledger.balance(OWNER))
    return seen


def compact(path: Path) -> None:
    """Force a compaction (snapshot + backup copy, empty journal), as a long-running app makes."""
    db = TinyDB(path, storage=JournaledJSONStorage)
    storage = db.storage
    assert isinstance(storage, JournaledJSONStorage)
    storage.compact()
    db.close()


async def test_a_torn_last_line_is_a_crash_and_opens_by_itself(ledger_path: Path, clock: Clock) -> None:
    ledger = open_ledger(ledger_path, clock)
    balances = await three_jobs(ledger)
    ledger.close()
    with journal_path(ledger_path).open("ab") as f:
        f.write(b'1234abcd [["entries","99",{"kind":"ho')  # the commit a crash interrupted
    reopened = open_ledger(ledger_path, clock)
    assert await reopened.balance(OWNER) == balances[-1]
    reopened.close()
    checked = repair(ledger_path.parent, "--check")
    assert (checked.returncode, checked.stdout.strip()) == (0, "ledger.json: good.")


async def test_a_damaged_journal_line_stops_the_start_and_the_repair_keeps_what_came_before(
    ledger_path: Path, clock: Clock
) -> None:
    ledger = open_ledger(ledger_path, clock)
    await three_jobs(ledger)
    ledger.close()
    journal = journal_path(ledger_path)
    lines = journal.read_bytes().splitlines(keepends=True)
    assert len(lines) == 7  # open, then a hold and a capture per job
    lines[4] = lines[4].replace(b'"amount":-50', b'"amount":-5')  # the second job's capture: bit rot
    journal.write_bytes(b"".join(lines))
    damaged = journal.read_bytes()

    with pytest.raises(StorageError) as stopped:
        open_ledger(ledger_path, clock)
    message = str(stopped.value)
    assert "ledger.json.journal is damaged at byte" in message
    assert f"run `python -m demo_app.repair --data-dir {ledger_path.parent}`" in message

    checked = repair(ledger_path.parent, "--check")
    assert checked.returncode == 0 and "journal line 5 of 7 is damaged" in checked.stdout
    assert journal.read_bytes() == damaged, "--check changes nothing"
    done = repair(ledger_path.parent)
    assert done.returncode == 0, done.stderr
    assert "ledger.json: repaired; 2 commit(s) after the damage were dropped." in done.stdout
    [kept] = list(ledger_path.parent.glob("ledger.json.journal.damaged-*"))
    assert kept.read_bytes() == damaged

    reopened = open_ledger(ledger_path, clock)
    assert await reopened.balance(OWNER) == Balance(OWNER, 950, 100, 850), "up to the second job's hold"
    assert [h.ref for h in await reopened.open_holds()] == ["job-1"]
    reopened.close()
    assert repair(ledger_path.parent, "--check").stdout.strip() == "ledger.json: good."


async def test_a_damaged_snapshot_is_rebuilt_from_its_backup_copy_and_the_journal(
    ledger_path: Path, clock: Clock
) -> None:
    ledger = open_ledger(ledger_path, clock)
    await three_jobs(ledger)
    ledger.close()
    compact(ledger_path)
    ledger = open_ledger(ledger_path, clock)
    await ledger.hold(OWNER, 200, "after-compaction", reason="r")
    before = await ledger.balance(OWNER), await ledger.spend()
    ledger.close()
    assert journal_path(ledger_path).stat().st_size > 0 and backup_path(ledger_path).exists()
    ledger_path.write_bytes(ledger_path.read_bytes()[:-7] + b"\x00garbage")

    with pytest.raises(
        StorageError, match=r"ledger\.json is damaged: it is not valid JSON\. Stop the app, run"
    ):
        open_ledger(ledger_path, clock)
    done = repair(ledger_path.parent)
    assert done.returncode == 0, done.stderr
    assert "rebuilt from the backup copy of the snapshot" in done.stdout and "dropped" not in done.stdout
    reopened = open_ledger(ledger_path, clock)
    assert (await reopened.balance(OWNER), await reopened.spend()) == before, "nothing lost"
    reopened.close()


async def test_without_a_good_copy_the_repair_says_to_restore_a_backup(
    ledger_path: Path, clock: Clock
) -> None:
    ledger = open_ledger(ledger_path, clock)
    await three_jobs(ledger)
    ledger.close()
    compact(ledger_path)
    for damaged in (ledger_path, backup_path(ledger_path)):
        damaged.write_bytes(b"{not json")
    done = repair(ledger_path.parent)
    assert done.returncode == 1
    assert (
        "no good backup copy of the snapshot exists; restore the data directory from a backup." in done.stdout
    )
    assert ledger_path.read_bytes() == b"{not json", "nothing was written"


async def test_the_repair_refuses_while_the_app_has_the_files_open(ledger_path: Path, clock: Clock) -> None:
    ledger = open_ledger(ledger_path, clock)
    await ledger.open_account(OWNER)
    try:
        done = repair(ledger_path.parent)
    finally:
        ledger.close()
    assert done.returncode == 2 and "stop the app, then run the repair again" in done.stderr


def test_a_damaged_jobs_file_stops_the_start_and_is_repaired(tmp_path: Path) -> None:
    path = tmp_path / "jobs.json"
    db = TinyDB(path, storage=JournaledJSONStorage)
    for n in range(3):
        db.table("notes").insert({"n": n})
    db.close()
    journal = journal_path(path)
    lines = journal.read_bytes().splitlines(keepends=True)
    journal.write_bytes(lines[0] + b"garbage\n" + lines[2])

    with pytest.raises(StorageError) as stopped:
        JobStore(path)
    assert "jobs.json.journal is damaged" in str(stopped.value) and "demo_app.repair" in str(stopped.value)
    done = repair(tmp_path)
    assert done.returncode == 0 and "jobs.json: repaired; 1 commit(s)" in done.stdout
    JobStore(path).close()
    db = TinyDB(path, storage=JournaledJSONStorage)
    assert [d["n"] for d in db.table("notes").all()] == [0]
    db.close()
