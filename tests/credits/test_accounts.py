"""Accounts, grants, adjustments, statements and the list of open holds."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest

from demo_app.credits import AdjustRefused, Balance, Ledger, StatementLine
from tests.credits.audit import read_entries
from tests.credits.conftest import ON_DISK, Clock, LedgerFactory

OWNER = "hf:ana"


async def test_the_starting_grant_is_given_once_even_across_restarts(make_ledger: LedgerFactory) -> None:
    ledger = make_ledger()
    assert await ledger.open_account(OWNER) == Balance(OWNER, 1000, 0, 1000)
    assert await ledger.open_account(OWNER) == Balance(OWNER, 1000, 0, 1000)
    ledger.close()
    again = make_ledger(starting_grant=5000)
    assert await again.open_account(OWNER) == Balance(OWNER, 1000, 0, 1000)
    assert await again.open_account("browser:b1") == Balance("browser:b1", 5000, 0, 5000)


async def test_a_zero_grant_opens_the_account_without_credits(
    make_ledger: LedgerFactory, ledger_path: Path
) -> None:
    ledger = make_ledger(starting_grant=0)
    assert await ledger.open_account(OWNER) == Balance(OWNER, 0, 0, 0)
    ledger.close()
    ledger = make_ledger(starting_grant=1000)
    assert await ledger.open_account(OWNER) == Balance(OWNER, 0, 0, 0)
    [(_, entry)] = read_entries(ledger_path)
    assert (entry["kind"], entry["amount"]) == ("grant", 0)
    assert entry["reason"] == "Account opened (no starting grant)"


async def test_an_account_opened_without_its_grant_never_gets_it_later(make_ledger: LedgerFactory) -> None:
    ledger = make_ledger()
    assert await ledger.open_account("browser:capped", grant=False) == Balance("browser:capped", 0, 0, 0)
    assert await ledger.open_account("browser:capped") == Balance("browser:capped", 0, 0, 0)
    [line] = await ledger.statement("browser:capped")
    assert (line.kind, line.amount, line.reason) == ("grant", 0, "Account opened (no starting grant)")


@ON_DISK
async def test_an_unknown_owner_has_zero_and_gets_no_account(ledger: Ledger, ledger_path: Path) -> None:
    assert await ledger.balance("browser:nobody") == Balance("browser:nobody", 0, 0, 0)
    assert read_entries(ledger_path) == []


async def test_adjustments_add_and_take_but_never_below_available(ledger: Ledger) -> None:
    await ledger.open_account(OWNER)
    await ledger.hold(OWNER, 600, "job-1", reason="r")
    assert await ledger.adjust(OWNER, 250, reason="refund for a bad video") == Balance(OWNER, 1250, 600, 650)
    with pytest.raises(AdjustRefused, match="Cannot take 651 credits from hf:ana: only 650 are available"):
        await ledger.adjust(OWNER, -651, reason="r")
    assert await ledger.adjust(OWNER, -650, reason="abuse") == Balance(OWNER, 600, 600, 0)


async def test_statement_explains_the_balance_line_by_line(ledger: Ledger, clock: Clock) -> None:
    start = clock.now
    await ledger.open_account(OWNER)
    await ledger.open_account("hf:bob")
    clock.advance(seconds=1)
    await ledger.hold(OWNER, 300, "job-1", reason="wan, 15 s")
    clock.advance(seconds=1)
    await ledger.capture("job-1", 200, reason="video delivered")
    await ledger.hold(OWNER, 100, "job-2", reason="sadtalker, 4 s")
    await ledger.release("job-2", reason="prediction failed")
    await ledger.hold(OWNER, 50, "job-3", reason="wav2lip")
    await ledger.adjust(OWNER, 25, reason="goodwill")
    lines = await ledger.statement(OWNER)
    assert [(x.kind, x.ref, x.amount, x.held_change, x.balance, x.held, x.available) for x in lines] == [
        ("grant", None, 1000, 0, 1000, 0, 1000),
        ("hold", "job-1", 0, 300, 1000, 300, 700),
        ("capture", "job-1", -200, -300, 800, 0, 800),
        ("hold", "job-2", 0, 100, 800, 100, 700),
        ("release", "job-2", 0, -100, 800, 0, 800),
        ("hold", "job-3", 0, 50, 800, 50, 750),
        ("adjust", None, 25, 0, 825, 50, 775),
    ]
    assert lines[0] == StatementLine(1, start, "grant", None, "Starting grant", 1000, 0, 1000, 0, 1000)
    assert lines[2].time == start + timedelta(seconds=2) and lines[2].reason == "video delivered"
    assert [x.seq for x in lines] == sorted(x.seq for x in lines)
    balance = await ledger.balance(OWNER)
    assert (lines[-1].balance, lines[-1].held) == (balance.balance, balance.held)
    assert [x.kind for x in await ledger.statement("hf:bob")] == ["grant"]


async def test_open_holds_give_age_and_ref_for_reconciliation(ledger: Ledger, clock: Clock) -> None:
    await ledger.open_account(OWNER)
    await ledger.open_account("hf:bob")
    await ledger.hold(OWNER, 100, "old", reason="r")
    clock.advance(seconds=90)
    await ledger.hold("hf:bob", 200, "new", reason="r")
    await ledger.hold(OWNER, 10, "done", reason="r")
    await ledger.release("done", reason="r")
    clock.advance(seconds=30)
    holds = await ledger.open_holds()
    assert [(h.ref, h.owner, h.amount, h.age_s) for h in holds] == [
        ("old", OWNER, 100, 120.0),
        ("new", "hf:bob", 200, 30.0),
    ]


async def test_the_clock_must_be_timezone_aware(make_ledger: LedgerFactory, clock: Clock) -> None:
    ledger = make_ledger()
    clock.now = clock.now.replace(tzinfo=None)
    with pytest.raises(ValueError, match="timezone-aware"):
        await ledger.open_account(OWNER)
