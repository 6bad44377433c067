"""Refusals say what is wrong with numbers and what to do; a refused hold writes nothing."""

from __future__ import annotations

from pathlib import Path

import pytest

from demo_app.credits import (
    Budget,
    DailyBudgetReached,
    HoldRefused,
    InsufficientCredits,
    Ledger,
    TooManyJobs,
)
from tests.credits.audit import disk_bytes
from tests.credits.conftest import ON_DISK, Clock, LedgerFactory

OWNER = "hf:ana"


@ON_DISK
async def test_not_enough_credits_names_available_and_needed(ledger: Ledger, ledger_path: Path) -> None:
    await ledger.open_account(OWNER)
    await ledger.hold(OWNER, 700, "job-1", reason="r")
    before = disk_bytes(ledger_path)
    with pytest.raises(InsufficientCredits) as refused:
        await ledger.hold(OWNER, 1200, "job-2", reason="r")
    assert (refused.value.available, refused.value.needed) == (300, 1200)
    assert refused.value.message == str(refused.value)
    assert "needs 1,200 credits and you have 300 available" in refused.value.message
    assert "shorter audio clip" in refused.value.message and "wait for a running job" in refused.value.message
    assert disk_bytes(ledger_path) == before
    assert [h.ref for h in await ledger.open_holds()] == ["job-1"]


async def test_an_owner_without_an_account_has_nothing_to_hold(ledger: Ledger) -> None:
    with pytest.raises(InsufficientCredits) as refused:
        await ledger.hold("browser:new", 1, "job-1", reason="r")
    assert refused.value.available == 0


async def test_too_many_jobs_names_the_limit(make_ledger: LedgerFactory, ledger_path: Path) -> None:
    ledger = make_ledger(max_open_holds_per_owner=2)
    await ledger.open_account(OWNER)
    await ledger.hold(OWNER, 10, "job-1", reason="r")
    await ledger.hold(OWNER, 10, "job-2", reason="r")
    before = disk_bytes(ledger_path)
    with pytest.raises(TooManyJobs) as refused:
        await ledger.hold(OWNER, 10, "job-3", reason="r")
    assert (refused.value.open, refused.value.limit) == (2, 2)
    assert "You already have 2 jobs running and the limit is 2" in refused.value.message
    assert "Wait for one to finish, or cancel one" in refused.value.message
    assert disk_bytes(ledger_path) == before
    await ledger.release("job-1", reason="done")
    assert (await ledger.hold(OWNER, 10, "job-3", reason="r")).applied


async def test_daily_budget_counts_held_and_captured_across_owners(
    make_ledger: LedgerFactory, ledger_path: Path, clock: Clock
) -> None:
    ledger = make_ledger(daily_budget=1000)
    for owner in ("hf:ana", "hf:bob"):
        await ledger.open_account(owner)
    await ledger.hold("hf:ana", 600, "a", reason="r")
    await ledger.capture("a", 500, reason="ok")  # 100 back to the budget
    await ledger.hold("hf:bob", 300, "b", reason="r")
    before = disk_bytes(ledger_path)
    with pytest.raises(DailyBudgetReached) as refused:
        await ledger.hold("hf:bob", 201, "c", reason="r")
    assert (refused.value.used, refused.value.cap, refused.value.needed) == (800, 1000, 201)
    assert "800 of 1,000 credits are already held or spent today (UTC), 200 remain" in refused.value.message
    assert "come back after midnight UTC" in refused.value.message
    assert disk_bytes(ledger_path) == before
    assert await ledger.budget() == Budget(clock.now.date(), 800, 1000, 200)
    assert (await ledger.hold("hf:bob", 200, "c", reason="r")).applied
    assert (await ledger.budget()).left == 0


async def test_daily_budget_starts_again_at_midnight_utc(make_ledger: LedgerFactory, clock: Clock) -> None:
    clock.now = clock.now.replace(hour=23, minute=59)
    ledger = make_ledger(daily_budget=500)
    await ledger.open_account(OWNER)
    await ledger.hold(OWNER, 500, "late", reason="r")
    with pytest.raises(DailyBudgetReached):
        await ledger.hold(OWNER, 1, "one-more", reason="r")
    clock.advance(minutes=1)
    assert (await ledger.hold(OWNER, 400, "next-day", reason="r")).applied
    # A capture after midnight counts against the day its hold was made.
    await ledger.capture("late", 100, reason="ok")
    with pytest.raises(DailyBudgetReached) as refused:
        await ledger.hold(OWNER, 101, "again", reason="r")
    assert refused.value.used == 400


async def test_a_zero_budget_pauses_paid_jobs(make_ledger: LedgerFactory) -> None:
    ledger = make_ledger(daily_budget=0)
    await ledger.open_account(OWNER)
    with pytest.raises(DailyBudgetReached):
        await ledger.hold(OWNER, 1, "job-1", reason="r")


async def test_refusals_are_one_family_with_a_message(make_ledger: LedgerFactory) -> None:
    ledger = make_ledger(max_open_holds_per_owner=1)
    await ledger.open_account(OWNER)
    await ledger.hold(OWNER, 1, "job-1", reason="r")
    with pytest.raises(HoldRefused) as refused:
        await ledger.hold(OWNER, 1, "job-2", reason="r")
    assert isinstance(refused.value, TooManyJobs) and refused.value.message.endswith("then try again.")
