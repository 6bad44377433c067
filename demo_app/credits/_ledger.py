"""The ledger: accounts, holds and append-only entries on TinyDB, each change on disk before it returns."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from datetime import UTC, date, datetime
from pathlib import Path
from typing import cast

from tinydb import TinyDB, where
from tinydb.table import Document

from demo_app.credits._archive import Archive
from demo_app.credits._books import Books, CorruptEntry, Entry, HoldRecord, hold_from_entries
from demo_app.credits._errors import (
    AdjustRefused,
    CaptureExceedsHold,
    DailyBudgetReached,
    HoldMismatch,
    InsufficientCredits,
    LedgerCorrupt,
    LedgerLocked,
    TooManyJobs,
    UnknownHold,
)
from demo_app.credits._grant_counts import GrantCounts
from demo_app.credits._types import (
    Balance,
    Budget,
    DaySpend,
    Hold,
    Kind,
    OpenHold,
    Outcome,
    Settlement,
    StatementLine,
    utc_now,
)
from demo_app.storage import GroupCommit, JournaledJSONStorage, StorageLocked

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
    `archive_at`: settled entries that trigger a move to an archive file.
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
    ) -> None:
        _check_credits("starting_grant", starting_grant)
        if grants_per_address_per_day is not None:
            _check_credits("grants_per_address_per_day", grants_per_address_per_day)
        _check_credits("daily_budget", daily_budget)
        _check_credits("max_open_holds_per_owner", max_open_holds_per_owner)
        _check_credits("archive_at", archive_at, minimum=1)
        self.path = Path(path).absolute()
        self.starting_grant = starting_grant
        self.daily_budget = daily_budget
        self.max_open_holds_per_owner = max_open_holds_per_owner
        self.grants_per_address_per_day = grants_per_address_per_day
        self._clock = clock
        self._archive_at = archive_at
        try:
            self._db = TinyDB(self.path, storage=JournaledJSONStorage, autocommit=False)
        except StorageLocked as exc:
            raise LedgerLocked(
                f"The ledger {self.path} is already open (by another process, or another Ledger in this "
                "one). Run one app per data directory: stop the other one, or point LIPSYNC_DATA_DIR at "
                "another folder."
            ) from exc
        storage = cast(JournaledJSONStorage, self._db.storage)
        self._entries = self._db.table("entries", cache_size=0)
        self._meta = self._db.table("meta", cache_size=0)
        self._archive = Archive(self.path)
        try:
            self._archive.tidy(self._recorded_archives())
            self._books = self._load_books()
            self._grant_counts = GrantCounts(self._db.table("grant_counts", cache_size=0))
        except BaseException:
            storage.close()
            raise
        self._group = GroupCommit(storage, on_reset=self._reload)

    # ---- accounts ------------------------------------------------------------------------

    async def open_account(self, owner: str, *, grant: bool = True, address: str | None = None) -> Balance:
        """Make sure `owner` has an account; the first call grants `starting_grant` (0: none).

        `grant=False` opens it without the grant. `address`: the network address a new anonymous
        visitor came from; opening the account counts it, and past `grants_per_address_per_day`
        new visitors from that address today (UTC) the account opens without the grant. The
        count is written in the same commit as the account, so a restart forgives nothing.
        """
        _check_text("owner", owner)
        if address is not None:
            _check_text("address", address)
        async with self._group.change():
            if not self._books.accounts[owner].opened:
                amount = self.starting_grant if grant and self._admit(address) else 0
                reason = "Starting grant" if amount else "Account opened (no starting grant)"
                self._append(owner, "grant", amount, 0, None, reason)
            result = self._balance(owner)
        await self._archive_if_due()
        return result

    async def balance(self, owner: str) -> Balance:
        """The owner's balance, held and available credits (zeros for an unknown owner)."""
        async with self._group.change():
            return self._balance(owner)

    async def adjust(self, owner: str, amount: int, *, reason: str) -> Balance:
        """Add (or, negative, take away) credits by hand; never more than is available."""
        _check_text("owner", owner)
        _check_text("reason", reason)
        _check_credits("amount", amount, minimum=None)
        async with self._group.change():
            available = self._balance(owner).available
            if amount + available < 0:
                raise AdjustRefused(
                    f"Cannot take {-amount:,} credits from {owner}: only {available:,} are available "
                    "(the rest is held by running jobs). Take at most that, or wait for the jobs to end."
                )
            self._append(owner, "adjust", amount, 0, None, reason)
            result = self._balance(owner)
        await self._archive_if_due()
        return result

    # ---- holds ---------------------------------------------------------------------------

    async def hold(self, owner: str, amount: int, ref: str, *, reason: str) -> Hold:
        """Set `amount` aside for job `ref`; the same ref again returns the first hold.

        Raises a `HoldRefused` (writing nothing) when the owner has too many jobs running,
        too few credits available, or today's budget cannot cover it.
        """
        _check_text("owner", owner)
        _check_text("ref", ref)
        _check_text("reason", reason)
        _check_credits("amount", amount)
        async with self._group.change():
            known = self._find(ref)
            if known is not None:
                if known.owner != owner or known.amount != amount:
                    raise HoldMismatch(
                        f"Job {ref} already holds {known.amount:,} credits for {known.owner}; "
                        f"a second hold of {amount:,} for {owner} with the same ref was refused."
                    )
                return _hold(known, applied=False)
            acct = self._books.accounts.get(owner)
            open_holds = len(acct.open_refs) if acct else 0
            if open_holds >= self.max_open_holds_per_owner:
                raise TooManyJobs(open_holds, self.max_open_holds_per_owner)
            available = self._balance(owner).available
            if amount > available:
                raise InsufficientCredits(available, amount)
            now = self._now()
            used = self._books.used(now.date().isoformat())
            if used + amount > self.daily_budget:
                raise DailyBudgetReached(used, self.daily_budget, amount)
            self._append(owner, "hold", 0, amount, ref, reason, now)
            return _hold(self._books.holds[ref], applied=True)

    async def capture(self, ref: str, actual: int, *, reason: str) -> Settlement:
        """End hold `ref` charging `actual` (≤ held); the rest goes back in the same entry.

        `actual` is also the Space owner's spend for the job, on the day of the hold.
        """
        _check_credits("actual", actual)
        return await self._settle(ref, "captured", actual, reason, actual)

    async def release(self, ref: str, *, reason: str, spent: int = 0) -> Settlement:
        """End hold `ref` returning all of it to the owner (failure, cancel, time-out, any error).

        `spent`: what Replicate bills the Space owner for the run all the same (compute that ran,
        in credits; 0 for a prediction that never started). It counts against the daily budget
        of the hold's UTC day, written in the same entry, so exactly once. A second settlement
        of the same ref changes nothing, whatever its `spent`.
        """
        _check_credits("spent", spent)
        return await self._settle(ref, "released", 0, reason, spent)

    async def budget(self) -> Budget:
        """How much of today's budget (UTC, all owners) is held or spent, and what is left."""
        async with self._group.change():
            today = self._now().date()
            used = self._books.used(today.isoformat())
            return Budget(today, used, self.daily_budget, max(0, self.daily_budget - used))

    async def spend(self, day: date | None = None) -> DaySpend:
        """The Space owner's spend and open holds for the holds made on `day` (UTC; default today)."""
        async with self._group.change():
            day = day or self._now().date()
            key = day.isoformat()
            held, spent = self._books.held_on.get(key, 0), self._books.spent_on.get(key, 0)
            return DaySpend(day, held, spent, self.daily_budget, max(0, self.daily_budget - held - spent))

    async def open_holds(self, owner: str | None = None) -> list[OpenHold]:
        """Holds still open (of `owner`, or of everyone), oldest first, with their age.

        Everyone's: what start-up reconciliation settles; one owner's: looked up through
        that owner's own index, so a page showing them costs nothing per other owner.
        """
        async with self._group.change():
            if owner is None:
                recs = [rec for rec in self._books.holds.values() if rec.state == "open"]
            else:
                acct = self._books.accounts.get(owner)
                recs = [self._books.holds[ref] for ref in acct.open_refs] if acct else []
            now = self._now()
            found = []
            for rec in recs:
                created = datetime.fromisoformat(rec.created_at)
                age_s = (now - created).total_seconds()
                found.append(OpenHold(rec.ref, rec.owner, rec.amount, created, age_s))
            return found

    # ---- explaining ----------------------------------------------------------------------

    async def statement(self, owner: str) -> list[StatementLine]:
        """Every entry of `owner`, oldest first, with the running balance after each."""
        async with self._group.change():
            acct = self._books.accounts.get(owner)
            numbers = list(acct.archives) if acct else []
            hot = [(doc.doc_id, dict(doc)) for doc in self._entries.search(where("owner") == owner)]
        archived = await asyncio.to_thread(self._archived_entries, numbers, owner)
        return _statement(sorted(archived + hot, key=lambda item: item[0]))

    def close(self) -> None:
        """Write anything still in memory and release the file."""
        self._group.close()

    # ---- internals -------------------------------------------------------------------------

    async def _settle(self, ref: str, outcome: Outcome, actual: int, reason: str, spent: int) -> Settlement:
        _check_text("ref", ref)
        _check_text("reason", reason)
        async with self._group.change():
            rec = self._find(ref)
            if rec is None:
                raise UnknownHold(f"There is no hold for job {ref}; nothing was captured or released.")
            if rec.state != "open":
                conflict = rec.state != outcome
                if conflict:
                    log.warning("refused to mark hold %s %s: already %s", ref, outcome, rec.state)
                return _settlement(rec, applied=False, conflict=conflict)
            if actual > rec.amount:
                raise CaptureExceedsHold(
                    f"Job {ref} held {rec.amount:,} credits and cannot be charged {actual:,}; "
                    "the hold stays open."
                )
            kind: Kind = "capture" if outcome == "captured" else "release"
            extra = {"spent": spent} if kind == "release" else {}
            self._append(rec.owner, kind, -actual, -rec.amount, ref, reason, extra=extra)
            result = _settlement(rec, applied=True, conflict=False)
            spent_today = self._books.spent_on[rec.day]
            held_that_day = self._books.held_on[rec.day]
        log.info(
            "owner spend: %s of job %s spent %d credits of %s (that day: %d spent, %d held, cap %d)",
            kind,
            ref,
            spent,
            rec.day,
            spent_today,
            held_that_day,
            self.daily_budget,
        )
        await self._archive_if_due()
        return result

    def _append(
        self,
        owner: str,
        kind: Kind,
        amount: int,
        held: int,
        ref: str | None,
        reason: str,
        now: datetime | None = None,
        *,
        extra: dict[str, int] | None = None,
    ) -> None:
        """Write one entry (in memory; the enclosing change makes it durable) and account for it."""
        seq = self._books.last_seq + 1
        entry = {
            "time": (now or self._now()).isoformat(timespec="microseconds"),
            "owner": owner,
            "kind": kind,
            "amount": amount,
            "held": held,
            "ref": ref,
            "reason": reason,
            **(extra or {}),
        }
        self._entries.insert(Document(entry, doc_id=seq))
        self._books.apply(seq, entry)

    def _admit(self, address: str | None) -> bool:
        """Count a new visitor from `address`; True while the address is within today's cap."""
        limit = self.grants_per_address_per_day
        if address is None or limit is None:
            return True
        return self._grant_counts.add(address, self._now().date().isoformat()) <= limit

    def _balance(self, owner: str) -> Balance:
        acct = self._books.accounts.get(owner)
        if acct is None:
            return Balance(owner, 0, 0, 0)
        return Balance(owner, acct.balance, acct.held, acct.balance - acct.held)

    def _find(self, ref: str) -> HoldRecord | None:
        """The hold for `ref`, looked up in the archive it moved to if it is no longer hot."""
        rec = self._books.holds.get(ref)
        if rec is not None:
            return rec
        number = self._books.archived.get(ref)
        if number is None:
            return None
        return hold_from_entries(ref, self._archive.read(number))

    def _now(self) -> datetime:
        now = self._clock()
        if now.tzinfo is None:
            raise ValueError("the ledger's clock must return timezone-aware datetimes")
        return now.astimezone(UTC)

    async def _archive_if_due(self) -> None:
        """Move settled entries to an archive once enough have gathered; a failure only delays it."""
        if self._books.archivable < self._archive_at:
            return
        try:
            await self._move_to_archive()
        except Exception:
            log.exception("moving settled entries of %s to an archive failed; will retry", self.path.name)

    async def _move_to_archive(self) -> None:
        async with self._group.change():
            if self._books.archivable < self._archive_at:
                return  # another task moved them meanwhile
            moved = {doc.doc_id: dict(doc) for doc in self._entries.all() if not self._stays_hot(doc)}
            number = self._books.archives + 1
            await self._group.run(self._archive.write, number, moved)
            self._entries.remove(doc_ids=list(moved))
            self._meta.upsert(Document({"archives": number}, doc_id=1))
            self._books.seal(number, moved)

    def _stays_hot(self, entry: Entry) -> bool:
        return entry["kind"] == "hold" and self._books.holds[entry["ref"]].state == "open"

    def _recorded_archives(self) -> int:
        meta = self._meta.get(doc_id=1)
        return int(meta["archives"]) if isinstance(meta, dict) else 0

    def _load_books(self) -> Books:
        """Replay the archives, then the hot entries; refuse to open on any contradiction."""
        books = Books()
        number = 0
        try:
            for number in range(1, self._recorded_archives() + 1):
                entries = self._archive.read(number)
                for seq in sorted(entries):
                    books.apply(seq, entries[seq])
                books.seal(number, entries)
            number = 0
            for doc in sorted(self._entries.all(), key=lambda d: d.doc_id):
                books.apply(doc.doc_id, doc)
            books.verify()
        except (CorruptEntry, FileNotFoundError, KeyError, TypeError) as exc:
            place = f"archive {self._archive.path(number).name}" if number else self.path.name
            raise LedgerCorrupt(
                f"The ledger fails its integrity check ({place}: {exc}). Stop the app and run "
                f"`python -m demo_app.repair --data-dir {self.path.parent}`; if it cannot repair the "
                "files, restore the data directory from a backup before starting the app."
            ) from exc
        return books

    def _reload(self) -> None:
        """After discarded changes: derive everything again from what is on disk."""
        self._books = self._load_books()
        self._grant_counts.reload()

    def _archived_entries(self, numbers: list[int], owner: str) -> list[tuple[int, Entry]]:
        found = []
        for number in numbers:
            found += [(seq, e) for seq, e in self._archive.read(number).items() if e["owner"] == owner]
        return found


def _hold(rec: HoldRecord, *, applied: bool) -> Hold:
    return Hold(rec.ref, rec.owner, rec.amount, rec.state, datetime.fromisoformat(rec.created_at), applied)


def _settlement(rec: HoldRecord, *, applied: bool, conflict: bool) -> Settlement:
    outcome: Outcome = "captured" if rec.state == "captured" else "released"
    return Settlement(
        rec.ref,
        rec.owner,
        outcome,
        rec.amount,
        rec.charged,
        rec.amount - rec.charged,
        rec.reason,
        applied,
        conflict,
        rec.spent,
    )


def _statement(entries: list[tuple[int, Entry]]) -> list[StatementLine]:
    lines = []
    balance = held = 0
    for seq, e in entries:
        balance += e["amount"]
        held += e["held"]
        lines.append(
            StatementLine(
                seq,
                datetime.fromisoformat(e["time"]),
                e["kind"],
                e["ref"],
                e["reason"],
                e["amount"],
                e["held"],
                balance,
                held,
                balance - held,
            )
        )
    return lines


def _check_credits(name: str, value: int, *, minimum: int | None = 0) -> None:
    """Credits are whole numbers (floats and bools refused), at least `minimum` unless None."""
    if type(value) is not int:
        raise TypeError(f"{name} must be a whole number, not {type(value).__name__}")
    if minimum is not None and value < minimum:
        raise ValueError(f"{name} must be at least {minimum} (got {value})")


def _check_text(name: str, value: str) -> None:
    if not isinstance(value, str) or (name != "reason" and not value):
        raise ValueError(f"{name} must be a non-empty string")
