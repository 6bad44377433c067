"""What a storage engine of the ledger does, and the rules both engines apply the same way.

`Ledger` checks every argument, then hands the call to its engine: `TinyLedger` (entries in
TinyDB files, books in memory, one process) or `PgLedger` (entries and their totals in
PostgreSQL, any number of processes). Both refuse with the same errors, decided here.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Protocol

from demo_app.credits._errors import DailyBudgetReached, InsufficientCredits, TooManyJobs
from demo_app.credits._types import Balance, Budget, DaySpend, Hold, OpenHold, Settlement, StatementLine
from demo_app.credits._views import check_credits


@dataclass(frozen=True)
class Limits:
    """The ledger's settings (see `Ledger`)."""

    starting_grant: int
    daily_budget: int
    max_open_holds_per_owner: int
    grants_per_address_per_day: int | None = None

    def __post_init__(self) -> None:
        check_credits("starting_grant", self.starting_grant)
        if self.grants_per_address_per_day is not None:
            check_credits("grants_per_address_per_day", self.grants_per_address_per_day)
        check_credits("daily_budget", self.daily_budget)
        check_credits("max_open_holds_per_owner", self.max_open_holds_per_owner)


class LedgerEngine(Protocol):
    """The ledger's operations on one storage; arguments arrive checked (see `Ledger`)."""

    async def open_account(self, owner: str, *, grant: bool, address: str | None) -> Balance: ...
    async def balance(self, owner: str) -> Balance: ...
    async def adjust(self, owner: str, amount: int, *, reason: str) -> Balance: ...
    async def hold(self, owner: str, amount: int, ref: str, *, reason: str) -> Hold: ...
    async def capture(self, ref: str, actual: int, *, reason: str, spent: int) -> Settlement: ...
    async def release(self, ref: str, *, reason: str, spent: int) -> Settlement: ...
    async def budget(self) -> Budget: ...
    async def spend(self, day: date | None) -> DaySpend: ...
    async def open_holds(self, owner: str | None) -> list[OpenHold]: ...
    async def statement(self, owner: str) -> list[StatementLine]: ...
    def close(self) -> None: ...


def check_room(limits: Limits, *, open_holds: int, available: int, amount: int) -> None:
    """Refuse a new hold (`HoldRefused`) the owner's jobs or credits cannot take.

    Checked before `check_budget`: the day's use is the one figure every hold shares, so an
    engine reads (and locks) it only for a hold the owner could take.
    """
    if open_holds >= limits.max_open_holds_per_owner:
        raise TooManyJobs(open_holds, limits.max_open_holds_per_owner)
    if amount > available:
        raise InsufficientCredits(available, amount)


def check_budget(limits: Limits, used: int, amount: int) -> None:
    """Refuse a hold that would take the day's use (`used`) past the daily budget."""
    if used + amount > limits.daily_budget:
        raise DailyBudgetReached(used, limits.daily_budget, amount)


def aware_now(clock: Callable[[], datetime]) -> datetime:
    """The clock's time in UTC; a naive clock is a programming error."""
    now = clock()
    if now.tzinfo is None:
        raise ValueError("the ledger's clock must return timezone-aware datetimes")
    return now.astimezone(UTC)
