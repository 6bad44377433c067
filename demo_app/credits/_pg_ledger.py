"""The PostgreSQL engine of the ledger: every change one transaction, shared by any number of processes.

The same entries as the TinyDB files (`Entry`, numbered without gaps), written with the totals
they add up to in the same transaction, so a process killed at any moment leaves either the
whole change or none of it. Rows are locked in one order — the hold, the owner's account, the
day's budget, the grant counts, the entry sequence — so writers never deadlock, and a change
decides on figures no other writer can move until it commits:

- a hold locks its owner's account (running jobs, available credits), then the day's row
  (the budget all owners share), then takes the next sequence number;
- a capture or release locks its hold's row: the first settlement commits, every later one
  finds the hold ended and returns the first outcome; the unique indexes of the schema refuse
  a second hold or settlement of a ref whatever happens above them;
- the accounts' CHECK refuses an overdrawn balance, should a rule ever let one through.

Within one process, the changes of one owner run one after another in the order they were
asked (a burst of clicks is served first come, first served, as on TinyDB); across processes
the database's locks decide.

Statements are rebuilt from the entries by the same code as the TinyDB engine's, so both give
the same lines for the same history.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator, Awaitable, Callable
from datetime import date, datetime
from typing import Any, TypeVar

from psycopg import AsyncCursor, errors

from demo_app.credits._books import HoldRecord
from demo_app.credits._engine import Limits, aware_now, check_budget, check_room
from demo_app.credits._entries import Entry
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
from demo_app.database import Database

log = logging.getLogger(__name__)

T = TypeVar("T")
Cursor = AsyncCursor[tuple[Any, ...]]

RETRIES = 5
"""Tries of one change that lost a race the database detected (a deadlock, or the same new ref
held at once for two owners): each retry sees what the winner committed."""

LOCK_ACCOUNT = """
INSERT INTO ledger_accounts (owner) VALUES (%s)
ON CONFLICT (owner) DO UPDATE SET owner = EXCLUDED.owner
RETURNING balance, held, open_holds, opened
"""
LOCK_DAY = """
INSERT INTO ledger_days (day) VALUES (%s)
ON CONFLICT (day) DO UPDATE SET day = EXCLUDED.day
RETURNING held, spent
"""
APPEND = """
WITH next AS (UPDATE ledger_sequence SET last_seq = last_seq + 1 WHERE id = 1 RETURNING last_seq)
INSERT INTO ledger_entries (seq, time, owner, kind, amount, held, ref, reason, spent)
SELECT last_seq, %s, %s, %s, %s, %s, %s, %s, %s FROM next
"""
ADD_HOLD = """
INSERT INTO ledger_holds (ref, seq, owner, amount, created_at, day)
SELECT %s, last_seq, %s, %s, %s, %s FROM ledger_sequence WHERE id = 1
"""
HOLD_COLUMNS = "ref, owner, amount, created_at, state, charged, spent, reason"


class PgLedger:
    """The ledger in PostgreSQL (see `Ledger`); as many instances, in as many processes, as wanted."""

    def __init__(self, database: Database, limits: Limits, *, clock: Callable[[], datetime]) -> None:
        self._db = database
        self._limits = limits
        self._clock = clock
        self._turns: dict[str, tuple[asyncio.Lock, int]] = {}
        """Owner -> the lock their changes queue on in this process, and how many queue."""

    # ---- accounts ------------------------------------------------------------------------

    async def open_account(self, owner: str, *, grant: bool, address: str | None) -> Balance:
        async def change(cur: Cursor) -> Balance:
            balance, held, _, opened = await _one(cur, LOCK_ACCOUNT, (owner,))
            if not opened:
                now = self._now()
                amount = self._limits.starting_grant if grant and await self._admit(cur, address, now) else 0
                reason = "Starting grant" if amount else "Account opened (no starting grant)"
                await _append(cur, Entry(_stamp(now), owner, Kind.GRANT, amount, 0, None, reason))
                await cur.execute(
                    "UPDATE ledger_accounts SET balance = balance + %s, opened = true WHERE owner = %s",
                    (amount, owner),
                )
                balance += amount
            return Balance(owner=owner, balance=balance, held=held, available=balance - held)

        async with self._turn(owner):
            return await self._change(change)

    async def balance(self, owner: str) -> Balance:
        async with self._db.connection() as conn:
            cur = await conn.execute("SELECT balance, held FROM ledger_accounts WHERE owner = %s", (owner,))
            row = await cur.fetchone()
        balance, held = row if row is not None else (0, 0)
        return Balance(owner=owner, balance=balance, held=held, available=balance - held)

    async def adjust(self, owner: str, amount: int, *, reason: str) -> Balance:
        async def change(cur: Cursor) -> Balance:
            balance, held, _, _ = await _one(cur, LOCK_ACCOUNT, (owner,))
            available = balance - held
            if amount + available < 0:
                raise AdjustRefused(
                    f"Cannot take {-amount:,} credits from {owner}: only {available:,} are available "
                    "(the rest is held by running jobs). Take at most that, or wait for the jobs to end."
                )
            await _append(cur, Entry(_stamp(self._now()), owner, Kind.ADJUST, amount, 0, None, reason))
            await cur.execute(
                "UPDATE ledger_accounts SET balance = balance + %s WHERE owner = %s", (amount, owner)
            )
            balance += amount
            return Balance(owner=owner, balance=balance, held=held, available=balance - held)

        async with self._turn(owner):
            return await self._change(change)

    # ---- holds ---------------------------------------------------------------------------

    async def hold(self, owner: str, amount: int, ref: str, *, reason: str) -> Hold:
        async def change(cur: Cursor) -> Hold:
            balance, held, open_holds, _ = await _one(cur, LOCK_ACCOUNT, (owner,))
            known = await _hold_record(cur, ref, lock=False)  # after the lock: a double click sees the first
            if known is not None:
                if known.owner != owner or known.amount != amount:
                    raise HoldMismatch(
                        f"Job {ref} already holds {known.amount:,} credits for {known.owner}; "
                        f"a second hold of {amount:,} for {owner} with the same ref was refused."
                    )
                return hold_view(known, applied=False)
            check_room(self._limits, open_holds=open_holds, available=balance - held, amount=amount)
            now = self._now()  # one instant for the budget's day and the entry's
            day = now.date().isoformat()
            day_held, day_spent = await _one(cur, LOCK_DAY, (day,))
            check_budget(self._limits, day_held + day_spent, amount)
            entry = Entry(_stamp(now), owner, Kind.HOLD, 0, amount, ref, reason)
            await _append(cur, entry)
            await cur.execute(ADD_HOLD, (ref, owner, amount, entry.time, day))  # numbered as its entry
            await cur.execute(
                "UPDATE ledger_accounts SET held = held + %s, open_holds = open_holds + 1 WHERE owner = %s",
                (amount, owner),
            )
            await cur.execute("UPDATE ledger_days SET held = held + %s WHERE day = %s", (amount, day))
            return hold_view(HoldRecord(ref, owner, amount, entry.time), applied=True)

        async with self._turn(owner):
            return await self._change(change)

    async def capture(self, ref: str, actual: int, *, reason: str, spent: int) -> Settlement:
        return await self._settle(ref, HoldState.CAPTURED, actual, reason, spent)

    async def release(self, ref: str, *, reason: str, spent: int) -> Settlement:
        return await self._settle(ref, HoldState.RELEASED, 0, reason, spent)

    async def budget(self) -> Budget:
        today = self._now().date()
        held, spent = await self._day(today)
        used = held + spent
        cap = self._limits.daily_budget
        return Budget(day=today, used=used, cap=cap, left=max(0, cap - used))

    async def spend(self, day: date | None) -> DaySpend:
        day = day or self._now().date()
        held, spent = await self._day(day)
        cap = self._limits.daily_budget
        return DaySpend(day=day, held=held, spent=spent, cap=cap, left=max(0, cap - held - spent))

    async def open_holds(self, owner: str | None) -> list[OpenHold]:
        query = "SELECT ref, owner, amount, created_at FROM ledger_holds WHERE state = 'open'"
        params: tuple[str, ...] = ()
        if owner is not None:
            query, params = query + " AND owner = %s", (owner,)
        async with self._db.connection() as conn:
            rows = await (await conn.execute(query + " ORDER BY seq", params)).fetchall()
        now = self._now()
        found = []
        for ref, holder, amount, created_at in rows:
            created = datetime.fromisoformat(created_at)
            age_s = (now - created).total_seconds()
            found.append(OpenHold(ref=ref, owner=holder, amount=amount, created_at=created, age_s=age_s))
        return found

    # ---- explaining ----------------------------------------------------------------------

    async def statement(self, owner: str) -> list[StatementLine]:
        async with self._db.connection() as conn:
            cur = await conn.execute(
                "SELECT seq, time, owner, kind, amount, held, ref, reason, spent FROM ledger_entries "
                "WHERE owner = %s ORDER BY seq",
                (owner,),
            )
            rows = await cur.fetchall()
        return statement_lines([(row[0], Entry(row[1], row[2], Kind(row[3]), *row[4:])) for row in rows])

    def close(self) -> None:
        """Nothing to write: every change committed before it returned (the pool is the app's)."""

    # ---- internals -------------------------------------------------------------------------

    async def _settle(self, ref: str, outcome: HoldState, actual: int, reason: str, spent: int) -> Settlement:
        """End hold `ref` once; a repeat returns the first outcome."""
        note: list[str] = []

        async def change(cur: Cursor) -> Settlement:
            rec = await _hold_record(cur, ref, lock=True)
            if rec is None:
                raise UnknownHold(f"There is no hold for job {ref}; nothing was captured or released.")
            if rec.state != HoldState.OPEN:
                return repeated_settlement(rec, outcome)
            if actual > rec.amount:
                raise CaptureExceedsHold(
                    f"Job {rec.ref} held {rec.amount:,} credits and cannot be charged {actual:,}; "
                    "the hold stays open."
                )
            kind = Kind.CAPTURE if outcome == HoldState.CAPTURED else Kind.RELEASE
            written = spent if kind == Kind.RELEASE or spent != actual else None
            await cur.execute(
                "UPDATE ledger_accounts SET balance = balance - %s, held = held - %s, "
                "open_holds = open_holds - 1 WHERE owner = %s",
                (actual, rec.amount, rec.owner),
            )
            day = cur.connection.cursor()  # its row is read once the rest is on its way too
            await day.execute(
                "UPDATE ledger_days SET held = held - %s, spent = spent + %s WHERE day = %s "
                "RETURNING spent, held",
                (rec.amount, spent, rec.day),
            )
            entry = Entry(_stamp(self._now()), rec.owner, kind, -actual, -rec.amount, ref, reason, written)
            await _append(cur, entry)
            await cur.execute(
                "UPDATE ledger_holds SET state = %s, charged = %s, spent = %s, reason = %s WHERE ref = %s",
                (outcome.value, actual, spent, reason, ref),
            )
            row = await day.fetchone()
            assert row is not None, "the hold's day has a row"
            day_spent, day_held = row
            rec.state, rec.charged, rec.spent, rec.reason = outcome, actual, spent, reason
            note.append(
                f"{kind} of job {ref} spent {spent} credits of {rec.day} (that day: {day_spent} spent, "
                f"{day_held} held, cap {self._limits.daily_budget})"
            )
            return settlement_view(rec, applied=True, conflict=False)

        settlement = await self._change(change)
        if note:
            log.info("owner spend: %s", note[-1])
        return settlement

    async def _admit(self, cur: Cursor, address: str | None, now: datetime) -> bool:
        """Count a new visitor from `address`; True while the address is within today's cap.

        Only today's counts are kept: the first visitor of a day drops the earlier days' rows.
        """
        limit = self._limits.grants_per_address_per_day
        if address is None or limit is None:
            return True
        day = now.date().isoformat()
        (count,) = await _one(
            cur,
            "INSERT INTO ledger_grant_counts (day, address, count) VALUES (%s, %s, 1) "
            "ON CONFLICT (day, address) DO UPDATE SET count = ledger_grant_counts.count + 1 RETURNING count",
            (day, address),
        )
        if count == 1:
            await cur.execute("DELETE FROM ledger_grant_counts WHERE day <> %s", (day,))
        return bool(count <= limit)

    async def _day(self, day: date) -> tuple[int, int]:
        """Credits held by the open holds made on `day`, and spent by its settled ones."""
        async with self._db.connection() as conn:
            cur = await conn.execute("SELECT held, spent FROM ledger_days WHERE day = %s", (day.isoformat(),))
            row = await cur.fetchone()
        return (row[0], row[1]) if row is not None else (0, 0)

    async def _change(self, change: Callable[[Cursor], Awaitable[T]]) -> T:
        """Run `change` in one transaction; again when it lost a race the database detected.

        In pipeline mode: statements whose rows are not read wait and travel together with the
        COMMIT, so the day's budget row, which every hold and settlement locks, stays locked for
        one round trip to the server rather than one per statement.
        """
        for attempt in range(RETRIES):
            try:
                async with (
                    self._db.connection() as conn,
                    conn.pipeline(),
                    conn.transaction(),
                    conn.cursor() as cur,
                ):
                    return await change(cur)
            except (errors.DeadlockDetected, errors.SerializationFailure, errors.UniqueViolation):
                if attempt == RETRIES - 1:
                    raise
                log.info("ledger change lost a race; trying again (%d)", attempt + 1)
        raise AssertionError("unreachable")

    @contextlib.asynccontextmanager
    async def _turn(self, owner: str) -> AsyncIterator[None]:
        """Wait for this process's earlier changes of `owner` (first come, first served)."""
        lock, queued = self._turns.get(owner) or (asyncio.Lock(), 0)
        self._turns[owner] = (lock, queued + 1)
        try:
            async with lock:
                yield
        finally:
            lock, queued = self._turns[owner]
            if queued == 1:
                del self._turns[owner]
            else:
                self._turns[owner] = (lock, queued - 1)

    def _now(self) -> datetime:
        return aware_now(self._clock)


async def _one(cur: Cursor, query: str, params: tuple[Any, ...]) -> tuple[Any, ...]:
    """The one row `query` returns."""
    await cur.execute(query, params)
    row = await cur.fetchone()
    assert row is not None, "the query returns one row"
    return row


async def _append(cur: Cursor, entry: Entry) -> None:
    """Write `entry` with the next sequence number (the sequence row stays locked until commit)."""
    await cur.execute(APPEND, (*entry[:2], entry.kind.value, *entry[3:]))


async def _hold_record(cur: Cursor, ref: str, *, lock: bool) -> HoldRecord | None:
    """The hold of `ref` as it stands (locked until commit with `lock`), or None."""
    query = f"SELECT {HOLD_COLUMNS} FROM ledger_holds WHERE ref = %s" + (" FOR UPDATE" if lock else "")
    await cur.execute(query, (ref,))
    row = await cur.fetchone()
    if row is None:
        return None
    ref, owner, amount, created_at, state, charged, spent, reason = row
    return HoldRecord(ref, owner, amount, created_at, HoldState(state), charged, spent, reason)


def _stamp(now: datetime) -> str:
    """An entry's time, as the TinyDB engine writes it."""
    return now.isoformat(timespec="microseconds")
