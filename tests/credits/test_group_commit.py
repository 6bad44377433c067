"""GroupCommit: one writer at a time, each change on disk before it returns, commits shared."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from pathlib import Path
from typing import cast

import pytest
from tinydb import TinyDB

from demo_app.storage import AtomicJSONStorage, CommitFailed, GroupCommit, JournaledJSONStorage, StorageError
from tests.credits.audit import read_state


class Store:
    """A TinyDB table behind a GroupCommit, with a count of resets."""

    def __init__(self, path: Path, storage: type[AtomicJSONStorage]) -> None:
        self.path = path
        self.db = TinyDB(path, storage=storage)
        self.storage = cast(AtomicJSONStorage, self.db.storage)
        self.resets = 0
        self.group = GroupCommit(self.storage, on_reset=self._count_reset)
        self.table = self.db.table("t", cache_size=0)

    def _count_reset(self) -> None:
        self.resets += 1

    def on_disk(self) -> list[int]:
        return sorted(doc["n"] for doc in read_state(self.path).get("t", {}).values())

    async def add(self, n: int) -> None:
        async with self.group.change():
            self.table.insert({"n": n})


@pytest.fixture(params=[AtomicJSONStorage, JournaledJSONStorage])
def storage_class(request: pytest.FixtureRequest) -> type[AtomicJSONStorage]:
    return cast(type[AtomicJSONStorage], request.param)


@pytest.fixture
def store(tmp_path: Path, storage_class: type[AtomicJSONStorage]) -> Iterator[Store]:
    s = Store(tmp_path / "db.json", storage_class)
    yield s
    s.group.close()


async def test_a_change_is_on_disk_when_it_returns(store: Store) -> None:
    await store.add(1)
    assert store.on_disk() == [1]
    await store.add(2)
    assert store.on_disk() == [1, 2]


async def test_concurrent_changes_share_commits(store: Store) -> None:
    await asyncio.gather(*(store.add(n) for n in range(500)))
    assert store.on_disk() == list(range(500))
    assert store.storage.commits <= 3


async def test_a_change_that_raises_before_writing_changes_nothing(store: Store) -> None:
    await store.add(1)
    with pytest.raises(LookupError):
        async with store.group.change():
            raise LookupError("refused before any write")
    await store.add(2)
    assert store.on_disk() == [1, 2] and store.resets == 0


async def test_a_change_that_raises_after_writing_discards_everything_not_on_disk(store: Store) -> None:
    await store.add(1)

    async def broken() -> None:
        async with store.group.change():
            store.table.insert({"n": 99})
            raise RuntimeError("bug after a write")

    pending, failed = await asyncio.gather(store.add(2), broken(), return_exceptions=True)
    assert isinstance(pending, CommitFailed) and "the change was not applied" in str(pending)
    assert isinstance(failed, RuntimeError)
    assert [doc["n"] for doc in store.table.all()] == [1] == store.on_disk()
    assert store.resets == 1
    await store.add(3)
    assert store.on_disk() == [1, 3]


async def test_close_writes_what_is_still_in_memory(
    tmp_path: Path, storage_class: type[AtomicJSONStorage]
) -> None:
    store = Store(tmp_path / "db.json", storage_class)
    applied = asyncio.Event()

    async def add_and_signal() -> None:
        async with store.group.change():
            store.table.insert({"n": 7})
            applied.set()

    task = asyncio.create_task(add_and_signal())
    await applied.wait()
    assert store.on_disk() == []
    store.group.close()
    await task
    assert store.on_disk() == [7]
    reopened = Store(tmp_path / "db.json", storage_class)
    assert [doc["n"] for doc in reopened.table.all()] == [7]
    reopened.group.close()


async def test_after_close_a_change_is_refused_not_left_waiting(store: Store) -> None:
    await store.add(1)
    store.group.close()
    with pytest.raises(StorageError, match=r"db\.json is closed"):
        await store.add(2)
    assert store.on_disk() == [1]
