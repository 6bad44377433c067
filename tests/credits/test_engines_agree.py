"""The same history on both engines gives the same statements, balances, holds, budget and spend."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest

from demo_app.credits import CreditsError, Ledger
from demo_app.database import Database
from tests.credits.conftest import Clock

OWNERS = ("hf:ana", "browser:b1", "browser:b2")
LIMITS: dict[str, Any] = {
    "starting_grant": 500,
    "daily_budget": 1100,
    "max_open_holds_per_owner": 2,
    "grants_per_address_per_day": 1,
}


async def history(ledger: Ledger, clock: Clock) -> list[object]:
    """Grants (one refused by the address cap), holds and their refusals, repeats, settlements
    of every kind, adjustments, a new day; what each call answered, errors included."""
    said: list[object] = []

    async def call(coro: Any) -> None:
        try:
            said.append(await coro)
        except CreditsError as exc:
            said.append((type(exc).__name__, exc.message))

    await call(ledger.open_account("hf:ana"))
    await call(ledger.open_account("browser:b1", address="10.0.0.1"))
    await call(ledger.open_account("browser:b2", address="10.0.0.1"))  # no grant: the address's second
    await call(ledger.hold("hf:ana", 200, "job-1", reason="a job"))
    await call(ledger.hold("hf:ana", 200, "job-1", reason="double click"))
    await call(ledger.hold("hf:ana", 201, "job-1", reason="another amount"))
    await call(ledger.hold("hf:ana", 250, "job-2", reason="a job"))
    await call(ledger.hold("hf:ana", 10, "job-3", reason="a third job"))  # too many jobs
    await call(ledger.hold("browser:b1", 501, "job-4", reason="too dear"))  # too few credits
    await call(ledger.hold("browser:b2", 0, "job-5", reason="free"))
    clock.advance(seconds=7)
    await call(ledger.capture("job-1", 150, reason="delivered"))
    await call(ledger.release("job-1", reason="late failure report"))  # repeat: conflict
    await call(ledger.capture("job-2", 250, reason="billed above", spent=400))
    await call(ledger.release("job-5", reason="canceled", spent=3))
    await call(ledger.capture("job-9", 1, reason="unknown"))
    await call(ledger.adjust("browser:b2", 40, reason="gift"))
    await call(ledger.adjust("browser:b2", -41, reason="too much"))
    await call(ledger.hold("browser:b1", 500, "job-6", reason="all of it"))
    await call(ledger.capture("job-6", 501, reason="more than held"))
    await call(ledger.hold("hf:ana", 100, "job-7", reason="past the budget"))  # budget
    clock.advance(days=1)
    await call(ledger.hold("hf:ana", 100, "job-8", reason="a new day"))
    await call(ledger.open_account("browser:b3", address="10.0.0.1"))  # a new day: granted again
    for owner in (*OWNERS, "browser:b3"):
        said += [await ledger.balance(owner), await ledger.statement(owner), await ledger.open_holds(owner)]
    said += [await ledger.open_holds(), await ledger.budget(), await ledger.spend()]
    said.append(await ledger.spend(clock.now.date() - timedelta(days=1)))
    return said


async def test_one_history_reads_the_same_on_both_engines(tmp_path: Path, database: Database) -> None:
    tiny = Ledger(tmp_path / "ledger.json", clock=(tiny_clock := Clock()), archive_at=3, **LIMITS)
    pg = Ledger.on_database(database, clock=(pg_clock := Clock()), **LIMITS)
    try:
        on_files = await history(tiny, tiny_clock)
        on_postgres = await history(pg, pg_clock)
    finally:
        tiny.close()
        pg.close()
    assert on_postgres == on_files
    refusals = {said[0] for said in on_files if isinstance(said, tuple)}
    assert refusals == {
        "HoldMismatch",
        "TooManyJobs",
        "InsufficientCredits",
        "DailyBudgetReached",
        "UnknownHold",
        "AdjustRefused",
        "CaptureExceedsHold",
    }


@pytest.mark.parametrize("owner", ["", "hf:ana"])
async def test_refused_arguments_write_nothing_on_postgres(database: Database, owner: str) -> None:
    ledger = Ledger.on_database(database, clock=Clock(), **LIMITS)
    with pytest.raises((ValueError, TypeError)):
        await ledger.hold(owner, 1.5 if owner else 1, "job-1", reason="x")  # type: ignore[arg-type]
    assert await ledger.statement("hf:ana") == [] and await ledger.open_holds() == []
