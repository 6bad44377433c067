"""The ledger: accounts, holds and append-only entries on TinyDB, each change on disk before it returns."""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import UTC, date, datetime
from pathlib import Path

from demo_app.credits._books import Books, HoldRecord
from demo_app.credits._entries import Entry
from demo_app.credits._entry_store import EntryStore
from demo_app.credits._errors import (
    AdjustRefused,
    CaptureExceedsHold,
    DailyBudgetReached,
    HoldMismatch,
    InsufficientCredits,
    TooManyJobs,
    UnknownHold,
)
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
    utc_now,
)
from demo_app.credits._views import check_credits, check_text, hold_view, settlement_view, statement_lines
from demo_app.storage import JournaledJSONStorage, StorageFactory

log = logging.getLogger(__name__)

DEFAULT_ARCHIVE_AT = 500
"""Settled entries that trigger a move to an archive: keeps each commit near 1 ms (see bench/ledger.py)."""


class Ledger:
    """Credits of every owner: grant, hold, capture, release, adjust; explainable line by line.

    One instance per file and process (a second one raises `LedgerLocked`). All methods are
    coroutines of one event loop; a method returns only once its change is on disk.
    `close()` after the last call.

    `starting_grant`: credits a new owner gets once (0: none). `daily_budget`: cap on the Space
    owner's money per UTC day, all owners together: credits held by the day's open holds plus
    what its settled ones spent upstream (charges, and the compute of released runs; see
    `spend`). 0 refuses every paid hold. `max_open_holds_per_owner`: running jobs per owner.
    `archive_at`: settled entries that trigger a move to an archive file. `storage`: the
    TinyDB storage of the live file (`MemoryStorage` runs the ledger without writing it; the
    archives are files beside `path` whichever it is).
    """

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
        check_credits("starting_grant", starting_grant)
        if grants_per_address_per_day is not None:
            check_credits("grants_per_address_per_day", grants_per_address_per_day)
        check_credits("daily_budget", daily_budget)
        check_credits("max_open_holds_per_owner", max_open_holds_per_owner)
        check_credits("archive_at", archive_at, minimum=1)
        self.path = Path(path).absolute()
        self.starting_grant = starting_grant
        self.daily_budget = daily_budget
        self.max_open_holds_per_owner = max_open_holds_per_owner
        self.grants_per_address_per_day = grants_per_address_per_day
        self._clock = clock
        self._store = EntryStore(self.path, storage=storage, archive_at=archive_at)

    # ---- accounts ------------------------------------------------------------------------

    async def open_account(self, owner: str, *, grant: bool = True, address: str | None = None) -> Balance:
        """Make sure `owner` has an account; the first call grants `starting_grant` (0: none).

        `grant=False` opens it without the grant. `address`: the network address a new anonymous
        visitor came from; opening the account counts it, and past `grants_per_address_per_day`
        new visitors from that address today (UTC) the account opens without the grant. The
        count is written in the same commit as the account, so a restart forgives nothing.
        """
        check_text("owner", owner)
        if address is not None:
            check_text("address", address)
        async with self._store.group.change():
            if not self._books.accounts[owner].opened:
                amount = self.starting_grant if grant and self._admit(address) else 0
                reason = "Starting grant" if amount else "Account opened (no starting grant)"
                self._append(Kind.GRANT, owner, amount, 0, None, reason)
            result = self._balance(owner)
        await self._store.archive_if_due()
        return result

    async def balance(self, owner: str) -> Balance:
        """The owner's balance, held and available credits (zeros for an unknown owner)."""
        async with self._store.group.change():
            return self._balance(owner)

    async def adjust(self, owner: str, amount: int, *, reason: str) -> Balance:
        """Add (or, negative, take away) credits by hand; never more than is available."""
        check_text("owner", owner)
        check_text("reason", reason)
        check_credits("amount", amount, minimum=None)
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
        """Set `amount` aside for job `ref`; the same ref again returns the first hold.

        Raises a `HoldRefused` (writing nothing) when the owner has too many jobs running,
        too few credits available, or today's budget cannot cover it.
        """
        check_text("owner", owner)
        check_text("ref", ref)
        check_text("reason", reason)
        check_credits("amount", amount)
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

    async def capture(self, ref: str, actual: int, *, reason: str, spent: int | None = None) -> Settlement:
        """End hold `ref` charging `actual` (≤ held); the rest goes back in the same entry.

        `spent` (default `actual`, never less) is the Space owner's spend for the job, on the day
        of the hold: a run billed above its hold is charged the hold, and the difference still
        counts against the owner's budget, written in the same entry, never lost.
        """
        check_credits("actual", actual)
        if spent is not None:
            check_credits("spent", spent, minimum=actual)
        return await self._settle(ref, HoldState.CAPTURED, actual, reason, actual if spent is None else spent)

    async def release(self, ref: str, *, reason: str, spent: int = 0) -> Settlement:
        """End hold `ref` returning all of it to the owner (failure, cancel, time-out, any error).

        `spent`: what Replicate bills the Space owner for the run all the same (compute that ran,
        in credits; 0 for a prediction that never started). It counts against the daily budget
        of the hold's UTC day, written in the same entry, so exactly once. A second settlement
        of the same ref changes nothing, whatever its `spent`.
        """
        check_credits("spent", spent)
        return await self._settle(ref, HoldState.RELEASED, 0, reason, spent)

    async def budget(self) -> Budget:
        """How much of today's budget (UTC, all owners) is held or spent, and what is left."""
        async with self._store.group.change():
            today = self._now().date()
            used = self._books.used(today.isoformat())
            return Budget(day=today, used=used, cap=self.daily_budget, left=max(0, self.daily_budget - used))

    async def spend(self, day: date | None = None) -> DaySpend:
        """The Space owner's spend and open holds for the holds made on `day` (UTC; default today)."""
        async with self._store.group.change():
            day = day or self._now().date()
            key = day.isoformat()
            held, spent = self._books.held_on.get(key, 0), self._books.spent_on.get(key, 0)
            left = max(0, self.daily_budget - held - spent)
            return DaySpend(day=day, held=held, spent=spent, cap=self.daily_budget, left=left)

    async def open_holds(self, owner: str | None = None) -> list[OpenHold]:
        """Holds still open (of `owner`, or of everyone), oldest first, with their age.

        Everyone's: what start-up reconciliation settles; one owner's: looked up through
        that owner's own index, so a page showing them costs nothing per other owner.
        """
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

    # ---- explaining ----------------------------------------------------------------------

    async def statement(self, owner: str) -> list[StatementLine]:
        """Every entry of `owner`, oldest first, with the running balance after each."""
        return statement_lines(await self._store.entries_of(owner))

    def close(self) -> None:
        """Write anything still in memory and release the file."""
        self._store.close()

    # ---- internals -------------------------------------------------------------------------

    async def _settle(self, ref: str, outcome: HoldState, actual: int, reason: str, spent: int) -> Settlement:
        """End hold `ref` once; a repeat returns the first outcome (read from its archive if it moved)."""
        check_text("ref", ref)
        check_text("reason", reason)
        ended: tuple[Settlement, str] | None = None
        async with self._store.group.change():
            found = self._store.lookup(ref)
            if found is None:
                raise UnknownHold(f"There is no hold for job {ref}; nothing was captured or released.")
            if isinstance(found, HoldRecord) and found.state == HoldState.OPEN:
                ended = self._end(found, outcome, actual, reason, spent)
        if ended is None:
            return _repeated(await self._store.hold_record(ref, found), outcome)
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
        if open_holds >= self.max_open_holds_per_owner:
            raise TooManyJobs(open_holds, self.max_open_holds_per_owner)
        available = self._balance(owner).available
        if amount > available:
            raise InsufficientCredits(available, amount)
        used = self._books.used(today.isoformat())
        if used + amount > self.daily_budget:
            raise DailyBudgetReached(used, self.daily_budget, amount)

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
        now = self._clock()
        if now.tzinfo is None:
            raise ValueError("the ledger's clock must return timezone-aware datetimes")
        return now.astimezone(UTC)


def _repeated(rec: HoldRecord, outcome: HoldState) -> Settlement:
    """A settlement asked of a hold that already ended: its first outcome, logged if it differs."""
    conflict = rec.state != outcome
    if conflict:
        log.warning("refused to mark hold %s %s: already %s", rec.ref, outcome, rec.state)
    return settlement_view(rec, applied=False, conflict=conflict)
