"""The ledger: the rules every caller sees, checked once, then carried out by a storage engine."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, datetime
from pathlib import Path
from typing import TYPE_CHECKING

from demo_app.credits._engine import LedgerEngine, Limits
from demo_app.credits._tiny_ledger import TinyLedger
from demo_app.credits._types import (
    Balance,
    Budget,
    DaySpend,
    Hold,
    OpenHold,
    Settlement,
    StatementLine,
    utc_now,
)
from demo_app.credits._views import check_credits, check_text
from demo_app.storage import JournaledJSONStorage, StorageFactory

if TYPE_CHECKING:
    from demo_app.database import Database

DEFAULT_ARCHIVE_AT = 500
"""Settled entries that trigger a move to an archive: keeps each commit near 1 ms (see bench/ledger.py)."""


class Ledger:
    """Credits of every owner: grant, hold, capture, release, adjust; explainable line by line.

    `Ledger(path, ...)` keeps the books in a TinyDB file: one instance per file and process (a
    second one raises `LedgerLocked`). `Ledger.on_database(database, ...)` keeps them in
    PostgreSQL, shared by every process on that database with the same guarantees. All
    methods are coroutines of one event loop; a method returns only once its change is
    durable. `close()` after the last call.

    `starting_grant`: credits a new owner gets once (0: none). `daily_budget`: cap on the Space
    owner's money per UTC day, all owners together: credits held by the day's open holds plus
    what its settled ones spent upstream (charges, and the compute of released runs; see
    `spend`). 0 refuses every paid hold. `max_open_holds_per_owner`: running jobs per owner.
    `archive_at`: settled entries that trigger a move to an archive file. `storage`: the
    TinyDB storage of the live file (`MemoryStorage` runs the ledger without writing it; the
    archives are files beside `path` whichever it is).
    """

    path: Path | None
    """The TinyDB file (None on PostgreSQL)."""

    def __init__(
        self,
        path: Path,
        *,
        starting_grant: int,
        daily_budget: int,
        max_open_holds_per_owner: int,
        clock: Callable[[], datetime] = utc_now,
        archive_at: int = DEFAULT_ARCHIVE_AT,
        grants_per_address_per_day: int | None = None,
        storage: StorageFactory = JournaledJSONStorage,
    ) -> None:
        limits = Limits(starting_grant, daily_budget, max_open_holds_per_owner, grants_per_address_per_day)
        check_credits("archive_at", archive_at, minimum=1)
        self.path = Path(path).absolute()
        self._engine: LedgerEngine = TinyLedger(
            self.path, limits, clock=clock, archive_at=archive_at, storage=storage
        )

    @classmethod
    def on_database(
        cls,
        database: Database,
        *,
        starting_grant: int,
        daily_budget: int,
        max_open_holds_per_owner: int,
        clock: Callable[[], datetime] = utc_now,
        grants_per_address_per_day: int | None = None,
    ) -> Ledger:
        """The ledger in PostgreSQL (`database` already migrated; it stays open after `close`)."""
        from demo_app.credits._pg_ledger import PgLedger

        limits = Limits(starting_grant, daily_budget, max_open_holds_per_owner, grants_per_address_per_day)
        ledger = cls.__new__(cls)
        ledger.path = None
        ledger._engine = PgLedger(database, limits, clock=clock)
        return ledger

    # ---- accounts ------------------------------------------------------------------------

    async def open_account(self, owner: str, *, grant: bool = True, address: str | None = None) -> Balance:
        """Make sure `owner` has an account; the first call grants `starting_grant` (0: none).

        `grant=False` opens it without the grant. `address`: the network address a new anonymous
        visitor came from; opening the account counts it, and past `grants_per_address_per_day`
        new visitors from that address today (UTC) the account opens without the grant. The
        count is written with the account, so a restart forgives nothing.
        """
        check_text("owner", owner)
        if address is not None:
            check_text("address", address)
        return await self._engine.open_account(owner, grant=grant, address=address)

    async def balance(self, owner: str) -> Balance:
        """The owner's balance, held and available credits (zeros for an unknown owner)."""
        return await self._engine.balance(owner)

    async def adjust(self, owner: str, amount: int, *, reason: str) -> Balance:
        """Add (or, negative, take away) credits by hand; never more than is available."""
        check_text("owner", owner)
        check_text("reason", reason)
        check_credits("amount", amount, minimum=None)
        return await self._engine.adjust(owner, amount, reason=reason)

    # ---- holds ---------------------------------------------------------------------------

    async def hold(self, owner: str, amount: int, ref: str, *, reason: str) -> Hold:
        """Set `amount` aside for job `ref`; the same ref again returns the first hold.

        Raises a `HoldRefused` (writing nothing) when the owner has too many jobs running,
        too few credits available, or today's budget cannot cover it.
        """
        check_text("owner", owner)
        check_text("ref", ref)
        check_text("reason", reason)
        check_credits("amount", amount)
        return await self._engine.hold(owner, amount, ref, reason=reason)

    async def capture(self, ref: str, actual: int, *, reason: str, spent: int | None = None) -> Settlement:
        """End hold `ref` charging `actual` (≤ held); the rest goes back in the same entry.

        `spent` (default `actual`, never less) is the Space owner's spend for the job, on the day
        of the hold: a run billed above its hold is charged the hold, and the difference still
        counts against the owner's budget, written in the same entry, never lost.
        """
        check_text("ref", ref)
        check_text("reason", reason)
        check_credits("actual", actual)
        if spent is not None:
            check_credits("spent", spent, minimum=actual)
        spent = actual if spent is None else spent
        return await self._engine.capture(ref, actual, reason=reason, spent=spent)

    async def release(self, ref: str, *, reason: str, spent: int = 0) -> Settlement:
        """End hold `ref` returning all of it to the owner (failure, cancel, time-out, any error).

        `spent`: what Replicate bills the Space owner for the run all the same (compute that ran,
        in credits; 0 for a prediction that never started). It counts against the daily budget
        of the hold's UTC day, written in the same entry, so exactly once. A second settlement
        of the same ref changes nothing, whatever its `spent`.
        """
        check_text("ref", ref)
        check_text("reason", reason)
        check_credits("spent", spent)
        return await self._engine.release(ref, reason=reason, spent=spent)

    async def budget(self) -> Budget:
        """How much of today's budget (UTC, all owners) is held or spent, and what is left."""
        return await self._engine.budget()

    async def spend(self, day: date | None = None) -> DaySpend:
        """The Space owner's spend and open holds for the holds made on `day` (UTC; default today)."""
        return await self._engine.spend(day)

    async def open_holds(self, owner: str | None = None) -> list[OpenHold]:
        """Holds still open (of `owner`, or of everyone), oldest first, with their age.

        Everyone's: what start-up reconciliation settles; one owner's: what their page shows.
        """
        return await self._engine.open_holds(owner)

    # ---- explaining ----------------------------------------------------------------------

    async def statement(self, owner: str) -> list[StatementLine]:
        """Every entry of `owner`, oldest first, with the running balance after each."""
        return await self._engine.statement(owner)

    def close(self) -> None:
        """Write anything still in memory and release the file (the database stays open)."""
        self._engine.close()
