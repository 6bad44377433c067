"""The memory storage keeps the file storages' commit rules, and a ledger on it writes no file."""

from __future__ import annotations

import math
from pathlib import Path
from typing import cast

import pytest
from tinydb import TinyDB

from demo_app.storage import GroupCommit, MemoryStorage
from tests.credits.conftest import LedgerFactory


def test_a_failed_transaction_or_unencodable_write_leaves_the_last_commit(tmp_path: Path) -> None:
    db = TinyDB(tmp_path / "db.json", storage=MemoryStorage)
    storage = cast(MemoryStorage, db.storage)
    table = db.table("t")
    table.insert({"n": 1})
    with pytest.raises(RuntimeError), storage.transaction():
        table.insert({"n": 2})
        raise RuntimeError("boom")
    with pytest.raises(ValueError):
        table.insert({"n": math.nan})
    assert [doc["n"] for doc in table.all()] == [1]
    assert storage.commits == 1
    assert list(tmp_path.iterdir()) == []


async def test_a_group_change_that_raises_after_writing_is_discarded(tmp_path: Path) -> None:
    db = TinyDB(tmp_path / "db.json", storage=MemoryStorage)
    group = GroupCommit(cast(MemoryStorage, db.storage))
    table = db.table("t", cache_size=0)
    async with group.change():
        table.insert({"n": 1})
    with pytest.raises(RuntimeError):
        async with group.change():
            table.insert({"n": 2})
            raise RuntimeError("boom")
    assert [doc["n"] for doc in table.all()] == [1]
    group.close()


async def test_a_ledger_in_memory_keeps_its_books_and_writes_no_file(
    make_ledger: LedgerFactory, ledger_path: Path
) -> None:
    ledger = make_ledger(storage=MemoryStorage)
    await ledger.open_account("hf:ana")
    await ledger.hold("hf:ana", 300, "job-1", reason="r")
    await ledger.capture("job-1", 200, reason="delivered")
    assert (await ledger.balance("hf:ana")).balance == 800
    assert [line.kind for line in await ledger.statement("hf:ana")] == ["grant", "hold", "capture"]
    assert not ledger_path.parent.exists()
