"""The TinyDB engine of the ledger: books in memory, entries on disk before a change returns."""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import date, datetime
from pathlib import Path

from demo_app.credits._books import Books, HoldRecord
from demo_app.credits._engine import Limits, aware_now, check_budget, check_room
from demo_app.credits._entries import Entry
from demo_app.credits._entry_store import EntryStore
from demo_app.credits._errors import AdjustRefused, CaptureExceedsHold, HoldMismatch, UnknownHold
from demo_app.credits._types import (
    Balance,
    Budget,
    DaySpend,
    Hold,
    HoldState,
    Kind,
    OpenHold,
    Settlement,
    StatementLine,
)
from demo_app.credits._views import hold_view, repeated_settlement, settlement_view, statement_lines
from demo_app.storage import StorageFactory

log = logging.getLogger(__name__)


class TinyLedger:
    """The ledger on one TinyDB file (see `Ledger`): one instance per file and process.

    A second one raises `LedgerLocked`. Balances, holds and budget use are derived in memory
    from the entries; a method returns only once its change is on disk. `archive_at`: settled
    entries that trigger a move to an archive file. `storage`: the TinyDB storage of the live
    file (`MemoryStorage` runs the ledger without writing it; the archives are files beside
    `path` whichever it is).
    """

    def __init__(
        self,
        path: Path,
        limits: Limits,
        *,
        clock: Callable[[], datetime],
        archive_at: int,
        storage: StorageFactory,
    ) -> None:
        self.path = path
        self.starting_grant = limits.starting_grant
        self.daily_budget = limits.daily_budget
        self.grants_per_address_per_day = limits.grants_per_address_per_day
        self._limits = limits
        self._clock = clock
        self._store = EntryStore(self.path, storage=storage, archive_at=archive_at)

    # ---- accounts ------------------------------------------------------------------------

    async def open_account(self, owner: str, *, grant: bool, address: str | None) -> Balance:
        """The grant (and the address's count) is written in the same commit as the account."""
        async with self._store.group.change():
            if not self._books.accounts[owner].opened:
                amount = self.starting_grant if grant and self._admit(address) else 0
                reason = "Starting grant" if amount else "Account opened (no starting grant)"
                self._append(Kind.GRANT, owner, amount, 0, None, reason)
            result = self._balance(owner)
        await self._store.archive_if_due()
        return result

    async def balance(self, owner: str) -> Balance:
        async with self._store.group.change():
            return self._balance(owner)

    async def adjust(self, owner: str, amount: int, *, reason: str) -> Balance:
        async with self._store.group.change():
            available = self._balance(owner).available
            if amount + available < 0:
                raise AdjustRefused(
                    f"Cannot take {-amount:,} credits from {owner}: only {available:,} are available "
                    "(the rest is held by running jobs). Take at most that, or wait for the jobs to end."
                )
            self._append(Kind.ADJUST, owner, amount, 0, None, reason)
            result = self._balance(owner)
        await self._store.archive_if_due()
        return result

    # ---- holds ---------------------------------------------------------------------------

    async def hold(self, owner: str, amount: int, ref: str, *, reason: str) -> Hold:
        async with self._store.group.change():
            found = self._store.lookup(ref)
            if found is None:
                now = self._now()  # one instant for the budget's day and the entry's
                self._check_room(owner, amount, now.date())
                self._append(Kind.HOLD, owner, 0, amount, ref, reason, now=now)
                return hold_view(self._books.holds[ref], applied=True)
        known = await self._store.hold_record(ref, found)
        if known.owner != owner or known.amount != amount:
            raise HoldMismatch(
                f"Job {ref} already holds {known.amount:,} credits for {known.owner}; "
                f"a second hold of {amount:,} for {owner} with the same ref was refused."
            )
        return hold_view(known, applied=False)

    async def capture(self, ref: str, actual: int, *, reason: str, spent: int) -> Settlement:
        return await self._settle(ref, HoldState.CAPTURED, actual, reason, spent)

    async def release(self, ref: str, *, reason: str, spent: int) -> Settlement:
        return await self._settle(ref, HoldState.RELEASED, 0, reason, spent)

    async def budget(self) -> Budget:
        async with self._store.group.change():
            today = self._now().date()
            used = self._books.used(today.isoformat())
            return Budget(day=today, used=used, cap=self.daily_budget, left=max(0, self.daily_budget - used))

    async def spend(self, day: date | None) -> DaySpend:
        async with self._store.group.change():
            day = day or self._now().date()
            key = day.isoformat()
            held, spent = self._books.held_on.get(key, 0), self._books.spent_on.get(key, 0)
            left = max(0, self.daily_budget - held - spent)
            return DaySpend(day=day, held=held, spent=spent, cap=self.daily_budget, left=left)

    async def open_holds(self, owner: str | None) -> list[OpenHold]:
        """One owner's are looked up through that owner's own index: nothing per other owner."""
        async with self._store.group.change():
            if owner is None:
                recs = [rec for rec in self._books.holds.values() if rec.state == HoldState.OPEN]
            else:
                acct = self._books.accounts.get(owner)
                recs = [self._books.holds[ref] for ref in acct.open_refs] if acct else []
            now = self._now()
            found = []
            for rec in recs:
                created = datetime.fromisoformat(rec.created_at)
                age_s = (now - created).total_seconds()
                found.append(
                    OpenHold(ref=rec.ref, owner=rec.owner, amount=rec.amount, created_at=created, age_s=age_s)
                )
            return found

    async def statement(self, owner: str) -> list[StatementLine]:
        return statement_lines(await self._store.entries_of(owner))

    def close(self) -> None:
        """Write anything still in memory and release the file."""
        self._store.close()

    # ---- internals -------------------------------------------------------------------------

    async def _settle(self, ref: str, outcome: HoldState, actual: int, reason: str, spent: int) -> Settlement:
        """End hold `ref` once; a repeat returns the first outcome (read from its archive if it moved)."""
        ended: tuple[Settlement, str] | None = None
        async with self._store.group.change():
            found = self._store.lookup(ref)
            if found is None:
                raise UnknownHold(f"There is no hold for job {ref}; nothing was captured or released.")
            if isinstance(found, HoldRecord) and found.state == HoldState.OPEN:
                ended = self._end(found, outcome, actual, reason, spent)
        if ended is None:
            return repeated_settlement(await self._store.hold_record(ref, found), outcome)
        settlement, spend_note = ended
        log.info("owner spend: %s", spend_note)
        await self._store.archive_if_due()
        return settlement

    def _end(
        self, rec: HoldRecord, outcome: HoldState, actual: int, reason: str, spent: int
    ) -> tuple[Settlement, str]:
        """Write the entry ending the open hold `rec`: its settlement and a note of the day's spend."""
        if actual > rec.amount:
            raise CaptureExceedsHold(
                f"Job {rec.ref} held {rec.amount:,} credits and cannot be charged {actual:,}; "
                "the hold stays open."
            )
        kind = Kind.CAPTURE if outcome == HoldState.CAPTURED else Kind.RELEASE
        self._append(
            kind,
            rec.owner,
            -actual,
            -rec.amount,
            rec.ref,
            reason,
            spent=spent if kind == Kind.RELEASE or spent != actual else None,
        )
        day = rec.day
        note = (
            f"{kind} of job {rec.ref} spent {spent} credits of {day} (that day: {self._books.spent_on[day]} "
            f"spent, {self._books.held_on[day]} held, cap {self.daily_budget})"
        )
        return settlement_view(rec, applied=True, conflict=False), note

    @property
    def _books(self) -> Books:
        """The books as they stand (rebuilt by the store after a failed commit)."""
        return self._store.books

    def _append(
        self,
        kind: Kind,
        owner: str,
        amount: int,
        held: int,
        ref: str | None,
        reason: str,
        *,
        spent: int | None = None,
        now: datetime | None = None,
    ) -> None:
        """Write one entry stamped `now` (default: the clock's); durable when the enclosing change returns."""
        time = (now or self._now()).isoformat(timespec="microseconds")
        entry = Entry(
            time=time, owner=owner, kind=kind, amount=amount, held=held, ref=ref, reason=reason, spent=spent
        )
        self._store.append(entry)

    def _check_room(self, owner: str, amount: int, today: date) -> None:
        """Refuse a new hold (`HoldRefused`) the owner's jobs, credits or today's budget cannot take."""
        acct = self._books.accounts.get(owner)
        open_holds = len(acct.open_refs) if acct else 0
        available = self._balance(owner).available
        check_room(self._limits, open_holds=open_holds, available=available, amount=amount)
        check_budget(self._limits, self._books.used(today.isoformat()), amount)

    def _admit(self, address: str | None) -> bool:
        """Count a new visitor from `address`; True while the address is within today's cap."""
        limit = self.grants_per_address_per_day
        if address is None or limit is None:
            return True
        return self._store.grant_counts.add(address, self._now().date().isoformat()) <= limit

    def _balance(self, owner: str) -> Balance:
        acct = self._books.accounts.get(owner)
        if acct is None:
            return Balance(owner=owner, balance=0, held=0, available=0)
        return Balance(owner=owner, balance=acct.balance, held=acct.held, available=acct.balance - acct.held)

    def _now(self) -> datetime:
        return aware_now(self._clock)
