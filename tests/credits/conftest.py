from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from demo_app.credits import Ledger
from demo_app.storage import JournaledJSONStorage, MemoryStorage, StorageFactory


class Clock:
    """A settable clock for the ledger (aware UTC)."""

    def __init__(self, start: datetime = datetime(2025, 3, 1, 12, 0, tzinfo=UTC)) -> None:
        self.now = start

    def __call__(self) -> datetime:
        return self.now

    def advance(self, **delta: float) -> None:
        self.now += timedelta(**delta)


LedgerFactory = Callable[..., Ledger]


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def ledger_path(tmp_path: Path) -> Path:
    return tmp_path / "data" / "ledger.json"


@pytest.fixture
def make_ledger(ledger_path: Path, clock: Clock) -> Iterator[LedgerFactory]:
    """Open a ledger (same file by default) with test-sized limits; all are closed afterwards."""
    opened: list[Ledger] = []

    def make(path: Path | None = None, **overrides: Any) -> Ledger:
        options: dict[str, Any] = {
            "starting_grant": 1000,
            "daily_budget": 100_000,
            "max_open_holds_per_owner": 3,
            "clock": clock,
        }
        options.update(overrides)
        ledger = Ledger(path or ledger_path, **options)
        opened.append(ledger)
        return ledger

    yield make
    for ledger in opened:
        ledger.close()


STORAGES: dict[str, StorageFactory] = {"journaled": JournaledJSONStorage, "memory": MemoryStorage}


ON_DISK = pytest.mark.parametrize("ledger", ["journaled"], indirect=True)
"""For a test that reads the files the ledger wrote: its `ledger` runs on the journaled file only."""


@pytest.fixture(params=list(STORAGES))
def ledger(request: pytest.FixtureRequest, make_ledger: LedgerFactory) -> Ledger:
    """The ledger on each storage, as TinyDB's own suite runs on both of its (see `ON_DISK`)."""
    return make_ledger(storage=STORAGES[request.param])
