"""Settled entries move to write-once archives; nothing about the books changes when they do."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import pytest

from demo_app.credits import Balance, Ledger, LedgerCorrupt
from tests.credits.audit import audit, read_entries, read_state
from tests.credits.conftest import LedgerFactory

OWNER = "hf:ana"


def archive_dir(ledger_path: Path) -> Path:
    return ledger_path.with_name("ledger.archive")


def hot_entries(ledger_path: Path) -> dict[str, dict]:
    return dict(read_state(ledger_path)["entries"])


def edit_hot_file(ledger_path: Path, edit: Callable[[dict[str, dict]], object]) -> None:
    """Rewrite the live data by hand (as one snapshot, no journal)."""
    data = read_state(ledger_path)
    edit(data["entries"])
    ledger_path.write_text(json.dumps(data))
    ledger_path.with_name("ledger.json.journal").unlink()


async def run_jobs(ledger: Ledger, count: int, *, prefix: str = "job") -> None:
    for i in range(count):
        await ledger.hold(OWNER, 10, f"{prefix}-{i}", reason="r")
        if i % 2:
            await ledger.capture(f"{prefix}-{i}", 7, reason="delivered")
        else:
            await ledger.release(f"{prefix}-{i}", reason="failed")


async def test_settled_entries_move_out_and_open_holds_stay(
    make_ledger: LedgerFactory, ledger_path: Path
) -> None:
    ledger = make_ledger(archive_at=6)
    await ledger.open_account(OWNER)
    await ledger.hold(OWNER, 100, "long-job", reason="r")
    await run_jobs(ledger, 10)
    archives = sorted(p.name for p in archive_dir(ledger_path).glob("*.json"))
    assert archives == ["000001.json", "000002.json", "000003.json"]
    hot = hot_entries(ledger_path)
    assert len(hot) <= 6 and any(e["ref"] == "long-job" for e in hot.values())
    every = read_entries(ledger_path)
    assert [seq for seq, _ in every] == list(range(1, 23))
    audited = audit(every, daily_budget=100_000)
    balance = audited.balance[OWNER]
    assert await ledger.balance(OWNER) == Balance(OWNER, balance, 100, balance - 100)
    assert (await ledger.capture("long-job", 60, reason="finally")).applied
    assert (await ledger.balance(OWNER)).balance == 1000 - 5 * 7 - 60


async def test_statement_reads_through_the_archives(make_ledger: LedgerFactory, ledger_path: Path) -> None:
    ledger = make_ledger(archive_at=4)
    await ledger.open_account(OWNER)
    await ledger.open_account("hf:bob")
    await run_jobs(ledger, 6)
    lines = await ledger.statement(OWNER)
    assert [x.seq for x in lines] == [1, *range(3, 15)]
    assert [x.kind for x in lines[:3]] == ["grant", "hold", "release"]
    assert lines[-1].balance == 1000 - 3 * 7 == (await ledger.balance(OWNER)).balance
    assert [x.kind for x in await ledger.statement("hf:bob")] == ["grant"]


async def test_archived_holds_keep_their_one_outcome(make_ledger: LedgerFactory, ledger_path: Path) -> None:
    ledger = make_ledger(archive_at=4)
    await ledger.open_account(OWNER)
    await run_jobs(ledger, 6)
    assert not any(e["ref"] == "job-1" for e in hot_entries(ledger_path).values())
    again = await ledger.hold(OWNER, 10, "job-1", reason="retried")
    assert (again.state, again.applied) == ("captured", False)
    repeat = await ledger.capture("job-1", 10, reason="again")
    assert (repeat.charged, repeat.returned, repeat.reason, repeat.applied, repeat.conflict) == (
        7,
        3,
        "delivered",
        False,
        False,
    )
    assert (await ledger.release("job-1", reason="late failure")).conflict
    assert (await ledger.balance(OWNER)).balance == 1000 - 3 * 7
    assert len(read_entries(ledger_path)) == 13


async def test_reopening_rebuilds_the_same_books(make_ledger: LedgerFactory, ledger_path: Path) -> None:
    ledger = make_ledger(archive_at=5)
    for owner in (OWNER, "hf:bob"):
        await ledger.open_account(owner)
    await ledger.hold("hf:bob", 300, "bob-1", reason="r")
    await run_jobs(ledger, 9)
    before = [await ledger.balance(o) for o in (OWNER, "hf:bob")], await ledger.open_holds()
    statement = await ledger.statement(OWNER)
    ledger.close()
    ledger = make_ledger(archive_at=5)
    assert ([await ledger.balance(o) for o in (OWNER, "hf:bob")], await ledger.open_holds()) == before
    assert await ledger.statement(OWNER) == statement
    assert (await ledger.hold(OWNER, 10, "job-3", reason="r")).state == "captured"


async def test_an_archive_written_but_not_recorded_is_dropped_on_open(
    make_ledger: LedgerFactory, ledger_path: Path
) -> None:
    ledger = make_ledger(archive_at=4)
    await ledger.open_account(OWNER)
    await run_jobs(ledger, 2)
    ledger.close()
    recorded = sorted(archive_dir(ledger_path).glob("*.json"))
    orphan = archive_dir(ledger_path) / "000002.json"
    orphan.write_bytes(recorded[0].read_bytes())  # as if a crash came between the two commits of a move
    ledger = make_ledger(archive_at=4)
    assert not orphan.exists()
    assert (await ledger.balance(OWNER)).balance == 993
    await run_jobs(ledger, 2, prefix="more")
    assert orphan.exists() and audit(read_entries(ledger_path), 100_000).balance[OWNER] == 986


async def test_leftover_temp_files_are_removed_but_not_other_files_ones(
    make_ledger: LedgerFactory, ledger_path: Path
) -> None:
    ledger = make_ledger(archive_at=4)
    await ledger.open_account(OWNER)
    await run_jobs(ledger, 2)
    ledger.close()
    ours = [ledger_path.with_name(".ledger.json.k2j3.tmp"), archive_dir(ledger_path) / ".000002.json.x1.tmp"]
    theirs = ledger_path.with_name(".jobs.json.a1b2c3.tmp")
    for path in [*ours, theirs]:
        path.write_bytes(b'{"entries": {"1": ')
    make_ledger(archive_at=4)
    assert [p.exists() for p in ours] == [False, False]
    assert theirs.exists()


async def test_contradictory_files_refuse_to_open(make_ledger: LedgerFactory, ledger_path: Path) -> None:
    ledger = make_ledger()
    await ledger.open_account(OWNER)
    await ledger.hold(OWNER, 10, "job-1", reason="r")
    await ledger.release("job-1", reason="r")
    ledger.close()
    edit_hot_file(ledger_path, lambda entries: entries.update({"4": entries["3"]}))  # released twice
    with pytest.raises(LedgerCorrupt, match=r"integrity check \(ledger.json: entry 4: release of 'job-1'"):
        make_ledger()


async def test_a_missing_archive_refuses_to_open(make_ledger: LedgerFactory, ledger_path: Path) -> None:
    ledger = make_ledger(archive_at=4)
    await ledger.open_account(OWNER)
    await run_jobs(ledger, 2)
    ledger.close()
    (archive_dir(ledger_path) / "000001.json").unlink()
    with pytest.raises(LedgerCorrupt, match=r"archive 000001\.json"):
        make_ledger(archive_at=4)


async def test_totals_that_cannot_add_up_refuse_to_open(
    make_ledger: LedgerFactory, ledger_path: Path
) -> None:
    ledger = make_ledger()
    await ledger.open_account(OWNER)
    await ledger.hold(OWNER, 600, "job-1", reason="r")
    await ledger.adjust(OWNER, -100, reason="r")
    ledger.close()
    edit_hot_file(ledger_path, lambda entries: entries["3"].update(amount=-500))  # more than available
    with pytest.raises(LedgerCorrupt, match="hf:ana has -100 credits available"):
        make_ledger()


async def test_a_failed_move_only_delays_it(
    make_ledger: LedgerFactory, ledger_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    blocker = archive_dir(ledger_path)
    ledger = make_ledger(archive_at=4)
    blocker.write_bytes(b"not a folder")
    await ledger.open_account(OWNER)
    await run_jobs(ledger, 2)
    assert "moving settled entries of ledger.json to an archive failed" in caplog.text
    assert len(hot_entries(ledger_path)) == 5 and (await ledger.balance(OWNER)).balance == 993
    blocker.unlink()
    await run_jobs(ledger, 1, prefix="later")
    assert sorted(p.name for p in blocker.glob("*.json")) == ["000001.json"]
    assert hot_entries(ledger_path) == {}
    assert audit(read_entries(ledger_path), 100_000).balance[OWNER] == 993
