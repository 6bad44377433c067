"""A thousand holds at once: exactly as many succeed as the credits (or the budget) cover."""

from __future__ import annotations

import asyncio
from pathlib import Path

from demo_app.credits import DailyBudgetReached, Hold, InsufficientCredits, Ledger
from tests.credits.audit import audit, read_entries
from tests.credits.conftest import ON_DISK, LedgerFactory

REQUESTS = 1000
PRICE = 7


async def hold_all(ledger: Ledger, owners: list[str]) -> list[object]:
    return await asyncio.gather(
        *(ledger.hold(owner, PRICE, f"job-{i}", reason="burst") for i, owner in enumerate(owners)),
        return_exceptions=True,
    )


async def test_one_owner_with_credits_for_exactly_n(make_ledger: LedgerFactory, ledger_path: Path) -> None:
    covered = 137
    ledger = make_ledger(starting_grant=covered * PRICE + PRICE - 1, max_open_holds_per_owner=REQUESTS)
    await ledger.open_account("hf:ana")
    results = await hold_all(ledger, ["hf:ana"] * REQUESTS)
    held = [r for r in results if isinstance(r, Hold)]
    refused = [r for r in results if isinstance(r, InsufficientCredits)]
    assert (len(held), len(refused)) == (covered, REQUESTS - covered)
    assert all(h.applied for h in held)
    assert {r.available for r in refused} == {PRICE - 1}
    balance = await ledger.balance("hf:ana")
    assert (balance.held, balance.available) == (covered * PRICE, PRICE - 1)
    ledger.close()
    on_disk = audit(read_entries(ledger_path), daily_budget=100_000)
    assert sorted(on_disk.open_refs) == sorted(h.ref for h in held)
    reopened = make_ledger()
    assert await reopened.balance("hf:ana") == balance
    assert len(await reopened.open_holds()) == covered


async def test_many_owners_against_the_daily_budget(make_ledger: LedgerFactory, ledger_path: Path) -> None:
    covered = 271
    ledger = make_ledger(starting_grant=PRICE, daily_budget=covered * PRICE + 3)
    owners = [f"browser:{i}" for i in range(REQUESTS)]
    await asyncio.gather(*(ledger.open_account(owner) for owner in owners))
    results = await hold_all(ledger, owners)
    held = [r for r in results if isinstance(r, Hold)]
    refused = [r for r in results if isinstance(r, DailyBudgetReached)]
    assert (len(held), len(refused)) == (covered, REQUESTS - covered)
    assert {r.used for r in refused} == {covered * PRICE}
    on_disk = audit(read_entries(ledger_path), daily_budget=covered * PRICE + 3)
    assert len(on_disk.open_refs) == covered and sum(on_disk.usage.values()) == covered * PRICE


@ON_DISK
async def test_repeats_of_one_ref_at_once_make_one_hold(ledger: Ledger, ledger_path: Path) -> None:
    await ledger.open_account("hf:ana")
    clicks = (ledger.hold("hf:ana", 300, "job-1", reason="double click") for _ in range(50))
    results = await asyncio.gather(*clicks)
    assert [r.applied for r in results].count(True) == 1
    settles = await asyncio.gather(
        *(ledger.capture("job-1", 200, reason="webhook") for _ in range(25)),
        *(ledger.release("job-1", reason="poller saw failure") for _ in range(25)),
    )
    assert [s.applied for s in settles].count(True) == 1
    assert {(s.outcome, s.charged) for s in settles} == {("captured", 200)}
    assert [e["kind"] for _, e in read_entries(ledger_path)] == ["grant", "hold", "capture"]
