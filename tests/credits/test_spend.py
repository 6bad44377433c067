"""The Space owner's spend: what Replicate bills counts against the daily budget, refunds or not."""

from __future__ import annotations

import logging
from pathlib import Path

import pytest

from demo_app.credits import DailyBudgetReached, DaySpend, Ledger
from tests.credits.audit import audit, disk_bytes, read_entries
from tests.credits.conftest import Clock, LedgerFactory

OWNER = "hf:ana"


async def test_a_release_refunds_the_visitor_and_counts_the_compute_against_the_budget(
    make_ledger: LedgerFactory, ledger_path: Path, clock: Clock
) -> None:
    ledger = make_ledger(daily_budget=1000)
    await ledger.open_account(OWNER)
    await ledger.hold(OWNER, 600, "canceled", reason="r")
    s = await ledger.release("canceled", reason="canceled after 20 s of compute", spent=400)
    assert (s.outcome, s.charged, s.returned, s.spent) == ("released", 0, 600, 400)
    assert (await ledger.balance(OWNER)).available == 1000, "the visitor gets everything back"
    assert await ledger.spend() == DaySpend(clock.now.date(), 0, 400, 1000, 600)
    assert (await ledger.budget()).used == 400

    await ledger.hold(OWNER, 500, "running", reason="r")
    before = disk_bytes(ledger_path)
    with pytest.raises(DailyBudgetReached) as refused:
        await ledger.hold(OWNER, 101, "refused", reason="r")
    assert (refused.value.used, refused.value.needed) == (900, 101)
    assert "900 of 1,000 credits are already held or spent today (UTC), 100 remain" in refused.value.message
    assert disk_bytes(ledger_path) == before, "a refused hold writes nothing"
    assert (await ledger.hold(OWNER, 100, "fits", reason="r")).applied


async def test_a_start_cancel_loop_runs_out_of_budget(make_ledger: LedgerFactory) -> None:
    """Each canceled run is free for the visitor and billed to the owner: the budget stops it."""
    ledger = make_ledger(daily_budget=1000, starting_grant=300)
    await ledger.open_account(OWNER)
    refused_at = None
    for i in range(20):
        try:
            await ledger.hold(OWNER, 300, f"loop-{i}", reason="r")
        except DailyBudgetReached:
            refused_at = i
            break
        await ledger.release(f"loop-{i}", reason="canceled", spent=150)
    assert refused_at == 5  # 5 × 150 spent, then 750 + 300 > 1000
    assert (await ledger.balance(OWNER)).available == 300
    assert (await ledger.spend()).spent == 750


async def test_a_capture_spends_its_charge_and_a_never_started_run_spends_nothing(ledger: Ledger) -> None:
    await ledger.open_account(OWNER)
    await ledger.hold(OWNER, 300, "ok", reason="r")
    await ledger.hold(OWNER, 300, "aborted", reason="r")
    assert (await ledger.capture("ok", 180, reason="video delivered")).spent == 180
    assert (await ledger.release("aborted", reason="never started")).spent == 0
    spend = await ledger.spend()
    assert (spend.held, spend.spent) == (0, 180)


async def test_the_spend_lands_on_the_day_of_the_hold(make_ledger: LedgerFactory, clock: Clock) -> None:
    clock.now = clock.now.replace(hour=23, minute=59)
    yesterday = clock.now.date()
    ledger = make_ledger(daily_budget=1000)
    await ledger.open_account(OWNER)
    await ledger.hold(OWNER, 500, "late", reason="r")
    clock.advance(minutes=5)
    await ledger.release("late", reason="timed out", spent=450)
    assert await ledger.spend(yesterday) == DaySpend(yesterday, 0, 450, 1000, 550)
    assert await ledger.spend() == DaySpend(clock.now.date(), 0, 0, 1000, 1000)


async def test_a_repeated_settlement_does_not_spend_twice(ledger: Ledger) -> None:
    await ledger.open_account(OWNER)
    await ledger.hold(OWNER, 300, "job-1", reason="r")
    await ledger.release("job-1", reason="failed", spent=100)
    again = await ledger.release("job-1", reason="poller saw it too", spent=250)
    late = await ledger.capture("job-1", 300, reason="late success")
    assert (again.applied, again.spent, late.applied, late.conflict) == (False, 100, False, True)
    assert (await ledger.spend()).spent == 100


async def test_the_spend_survives_a_restart_and_a_move_to_an_archive(
    make_ledger: LedgerFactory, ledger_path: Path, clock: Clock
) -> None:
    ledger = make_ledger(daily_budget=10_000, archive_at=4, max_open_holds_per_owner=10)
    await ledger.open_account(OWNER)
    for i in range(6):
        await ledger.hold(OWNER, 100, f"job-{i}", reason="r")
        await ledger.release(f"job-{i}", reason="canceled", spent=10 * i)
    await ledger.hold(OWNER, 100, "open", reason="r")
    before = await ledger.spend()
    assert (before.held, before.spent) == (100, 150)
    ledger.close()
    assert ledger_path.with_name("ledger.archive").is_dir(), "settled entries moved to an archive"
    reopened = make_ledger(daily_budget=1000, archive_at=4, max_open_holds_per_owner=10)
    assert await reopened.spend() == DaySpend(clock.now.date(), 100, 150, 1000, 750)
    assert audit(read_entries(ledger_path), daily_budget=10_000).spent == {clock.now.date().isoformat(): 150}
    with pytest.raises(DailyBudgetReached):
        await reopened.hold(OWNER, 751, "too-much", reason="r")


async def test_each_settlement_logs_the_spend_in_credits(
    ledger: Ledger, caplog: pytest.LogCaptureFixture
) -> None:
    await ledger.open_account(OWNER)
    await ledger.hold(OWNER, 300, "job-1", reason="r")
    with caplog.at_level(logging.INFO, logger="demo_app.credits"):
        await ledger.release("job-1", reason="canceled", spent=120)
    [line] = [r.getMessage() for r in caplog.records if "owner spend" in r.getMessage()]
    assert "release of job job-1 spent 120 credits" in line and "120 spent, 0 held" in line


async def test_spent_must_be_whole_non_negative_credits(ledger: Ledger) -> None:
    await ledger.open_account(OWNER)
    await ledger.hold(OWNER, 300, "job-1", reason="r")
    for bad in (-1, 1.5, True):
        with pytest.raises((TypeError, ValueError)):
            await ledger.release("job-1", reason="r", spent=bad)  # type: ignore[arg-type]
    assert [h.ref for h in await ledger.open_holds()] == ["job-1"]


async def test_open_holds_of_one_owner(ledger: Ledger) -> None:
    for owner in (OWNER, "hf:bob"):
        await ledger.open_account(owner)
    await ledger.hold(OWNER, 10, "a1", reason="r")
    await ledger.hold("hf:bob", 10, "b1", reason="r")
    await ledger.hold(OWNER, 10, "a2", reason="r")
    await ledger.capture("a1", 5, reason="ok")
    assert [h.ref for h in await ledger.open_holds(OWNER)] == ["a2"]
    assert [h.ref for h in await ledger.open_holds("hf:bob")] == ["b1"]
    assert await ledger.open_holds("hf:nobody") == []


async def test_a_bill_above_the_hold_charges_the_hold_and_counts_all_of_it_as_spend(
    make_ledger: LedgerFactory, ledger_path: Path, clock: Clock
) -> None:
    """The visitor never pays more than was held; the owner's spend still counts the whole bill,
    written in the capture entry itself, so a reopened ledger counts it too."""
    ledger = make_ledger(daily_budget=1000)
    await ledger.open_account(OWNER)
    await ledger.hold(OWNER, 300, "long-video", reason="r")
    s = await ledger.capture("long-video", 300, reason="video delivered", spent=360)
    assert (s.outcome, s.charged, s.returned, s.spent) == ("captured", 300, 0, 360)
    assert (await ledger.balance(OWNER)).balance == 700
    assert await ledger.spend() == DaySpend(clock.now.date(), 0, 360, 1000, 640)
    with pytest.raises(ValueError, match="spent must be at least 100"):
        await ledger.hold(OWNER, 100, "under", reason="r")
        await ledger.capture("under", 100, reason="r", spent=99)
    ledger.close()
    reopened = make_ledger(daily_budget=1000)
    assert (await reopened.spend()).spent == 360
    capture = [e for _, e in read_entries(ledger_path) if e["ref"] == "long-video"][-1]
    assert (capture["amount"], capture["spent"]) == (-300, 360)


async def test_a_capture_that_spent_its_charge_writes_no_spent_field(
    make_ledger: LedgerFactory, ledger_path: Path
) -> None:
    ledger = make_ledger()
    await ledger.open_account(OWNER)
    await ledger.hold(OWNER, 300, "plain", reason="r")
    await ledger.capture("plain", 250, reason="video delivered", spent=250)
    assert [e.get("spent") for _, e in read_entries(ledger_path) if e["ref"] == "plain"] == [None, None]
