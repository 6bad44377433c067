"""A commit that the disk refuses (here: a file-size limit, like a full disk) changes nothing."""

from __future__ import annotations

import asyncio
import contextlib
import resource
import signal
from collections.abc import Iterator
from pathlib import Path

import pytest

from demo_app.credits import Balance
from demo_app.storage import CommitFailed
from tests.credits.audit import disk_bytes, read_entries
from tests.credits.conftest import LedgerFactory

OWNER = "hf:ana"


@contextlib.contextmanager
def file_size_limit(max_bytes: int) -> Iterator[None]:
    """Make writes past `max_bytes` fail with EFBIG in this process, as a full disk would fail them."""
    soft, hard = resource.getrlimit(resource.RLIMIT_FSIZE)
    previous = signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
    resource.setrlimit(resource.RLIMIT_FSIZE, (max_bytes, hard))
    try:
        yield
    finally:
        resource.setrlimit(resource.RLIMIT_FSIZE, (soft, hard))
        signal.signal(signal.SIGXFSZ, previous)


def temp_files(directory: Path) -> list[Path]:
    return list(directory.glob(".*.tmp"))


def no_room_to_grow(ledger_path: Path) -> int:
    """A size limit just above the ledger's journal: its next append cannot fit."""
    return ledger_path.with_name("ledger.json.journal").stat().st_size + 16


async def test_a_refused_write_fails_every_pending_change_and_keeps_the_books(
    make_ledger: LedgerFactory, ledger_path: Path
) -> None:
    ledger = make_ledger()
    await ledger.open_account(OWNER)
    await ledger.hold(OWNER, 100, "job-1", reason="r")
    before = disk_bytes(ledger_path)
    with file_size_limit(no_room_to_grow(ledger_path)):
        results = await asyncio.gather(
            ledger.hold(OWNER, 200, "job-2", reason="r"),
            ledger.capture("job-1", 50, reason="ok"),
            return_exceptions=True,
        )
    assert [type(r) for r in results] == [CommitFailed, CommitFailed]
    assert "check that the disk is not full" in str(results[0])
    assert disk_bytes(ledger_path) == before
    assert temp_files(ledger_path.parent) == []
    assert await ledger.balance(OWNER) == Balance(OWNER, 1000, 100, 900)
    assert [h.ref for h in await ledger.open_holds()] == ["job-1"]
    # Once the disk has room again, the same calls go through and stay.
    assert (await ledger.hold(OWNER, 200, "job-2", reason="r")).applied
    assert (await ledger.capture("job-1", 50, reason="ok")).applied
    assert [e["ref"] for _, e in read_entries(ledger_path)][-2:] == ["job-2", "job-1"]


@pytest.mark.parametrize("count", [1, 3])
async def test_a_refused_write_leaves_no_half_file(
    make_ledger: LedgerFactory, ledger_path: Path, count: int
) -> None:
    ledger = make_ledger()
    await ledger.open_account(OWNER)
    before = disk_bytes(ledger_path)
    with file_size_limit(no_room_to_grow(ledger_path)):
        for i in range(count):
            with pytest.raises(CommitFailed):
                await ledger.adjust(OWNER, 5, reason=f"gift {i}")
    ledger.close()
    assert disk_bytes(ledger_path) == before
    again = make_ledger()
    assert await again.balance(OWNER) == Balance(OWNER, 1000, 0, 1000)
