"""What the ledger derives from its entries (see `_entries`): balances, holds, the daily budget's use.

    grant    amount +g        held 0      (g may be 0: it marks the account as opened)
    hold     amount 0         held +h
    capture  amount −charged  held −h     (0 ≤ charged ≤ h; the rest is returned) spent s ≥ charged
    release  amount 0         held −h     spent s ≥ 0 (absent in older files: 0)
    adjust   amount ±a        held 0

So an owner's balance is the sum of its `amount`s and its held credits the sum of its `held`s.
The Space owner's spend — what Replicate bills — is a second figure per UTC day of the hold:
a capture spends what it charged (or its `spent`, when the run cost more than its hold), a
release spends `spent` (compute that ran, while the visitor gets everything back). It lives
in the settling entry itself, so it is written exactly once, with the settlement, and
survives restarts and moves to archives like any entry.
`Books.apply` refuses entries valid operations cannot produce (a hold ending twice, a capture
above its hold...) and `Books.verify` checks the totals: together, the integrity check run on
every open. Sums do not depend on order, so entries are replayed file by file (a hold and its
settlement always sit in the same file, in order), never all at once.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field

from demo_app.credits._entries import CorruptEntry, Entry
from demo_app.credits._types import HoldState, Kind

# Members bound once: on Python 3.11 each `Kind.X` is a descriptor call, 15 times a name lookup,
# and replaying the books on open touches them for every entry ever written.
GRANT, HOLD, CAPTURE, RELEASE, ADJUST = Kind.GRANT, Kind.HOLD, Kind.CAPTURE, Kind.RELEASE, Kind.ADJUST
OPEN, CAPTURED, RELEASED = HoldState.OPEN, HoldState.CAPTURED, HoldState.RELEASED
SETTLE_KINDS = (CAPTURE, RELEASE)


@dataclass
class Account:
    """An owner's running totals."""

    balance: int = 0
    held: int = 0
    open_refs: dict[str, None] = field(default_factory=dict)
    """Refs of this owner's open holds, oldest first (an ordered set)."""
    opened: bool = False
    archives: list[int] = field(default_factory=list)
    """Numbers of the archive files holding some of this owner's entries (for statements)."""


@dataclass
class HoldRecord:
    """A hold and, once it ended, how."""

    ref: str
    owner: str
    amount: int
    created_at: str
    state: HoldState = HoldState.OPEN
    charged: int = 0
    spent: int = 0
    """What the Space owner pays upstream for this job: the charge, or a release's `spent`."""
    reason: str = ""

    @property
    def day(self) -> str:
        """The UTC day whose budget this hold counts against (the day it was made)."""
        return self.created_at[:10]


class Books:
    """Balances, holds and budget use, derived from the entries (archived ones included)."""

    def __init__(self) -> None:
        self.accounts: dict[str, Account] = defaultdict(Account)
        self.holds: dict[str, HoldRecord] = {}
        """Holds whose entries are still in the hot file (all open ones, recent settled ones)."""
        self.archived: dict[str, int] = {}
        """Ref -> archive number, for holds that ended and moved to an archive."""
        self.held_on: dict[str, int] = defaultdict(int)
        """UTC day -> credits held by the still open holds made that day."""
        self.spent_on: dict[str, int] = defaultdict(int)
        """UTC day -> the Space owner's spend for the settled holds made that day."""
        self.last_seq = 0
        self.archives = 0
        self.hot_entries = 0
        self.open_holds = 0

    @property
    def archivable(self) -> int:
        """Hot entries that could move to an archive (all but the entries of open holds)."""
        return self.hot_entries - self.open_holds

    def used(self, day: str) -> int:
        """Credits of the daily budget of `day` taken: held by its open holds plus spent."""
        return self.held_on.get(day, 0) + self.spent_on.get(day, 0)

    def knows(self, ref: str) -> bool:
        return ref in self.holds or ref in self.archived

    def apply(self, seq: int, e: Entry) -> None:
        """Account for one entry; raise `CorruptEntry` if valid operations cannot have written it."""
        acct = self.accounts[e.owner]
        kind, ref = e.kind, e.ref
        if kind is GRANT or kind is ADJUST:
            if e.held != 0 or (kind is GRANT and e.amount < 0):
                raise CorruptEntry(f"entry {seq}: a {kind} of {e.amount} changing held by {e.held}")
            acct.opened = acct.opened or kind is GRANT
        elif kind is HOLD:
            if ref is None or self.knows(ref) or e.amount != 0 or e.held < 0:
                raise CorruptEntry(f"entry {seq}: second or malformed hold for {ref!r}")
            self.holds[ref] = HoldRecord(ref, e.owner, e.held, e.time)
            acct.open_refs[ref] = None
            self.open_holds += 1
            self.held_on[e.time[:10]] += e.held
        else:
            rec = self.holds.get(ref) if ref is not None else None
            if rec is None or rec.state != OPEN or rec.owner != e.owner or -e.held != rec.amount:
                raise CorruptEntry(f"entry {seq}: {kind} of {ref!r}, which is not an open hold of {e.owner}")
            end(rec, e, seq)
            del acct.open_refs[rec.ref]
            self.open_holds -= 1
            self.held_on[rec.day] -= rec.amount
            self.spent_on[rec.day] += rec.spent
        acct.balance += e.amount
        acct.held += e.held
        self.last_seq = max(self.last_seq, seq)
        self.hot_entries += 1

    def verify(self) -> None:
        """Check the totals: nobody's available is negative, held equals the open holds."""
        held: dict[str, int] = defaultdict(int)
        for rec in self.holds.values():
            if rec.state == OPEN:
                held[rec.owner] += rec.amount
        for owner, acct in self.accounts.items():
            if acct.balance < acct.held:
                raise CorruptEntry(f"{owner} has {acct.balance - acct.held} credits available")
            if acct.held != held[owner]:
                raise CorruptEntry(f"{owner} has {acct.held} held but open holds of {held[owner]}")

    def seal(self, number: int, entries: dict[int, Entry]) -> None:
        """Record that `entries` (settled holds, grants, adjustments) moved to archive `number`."""
        for e in entries.values():
            archives = self.accounts[e.owner].archives
            if not archives or archives[-1] != number:
                archives.append(number)
            if e.ref is None:
                continue
            if e.kind in SETTLE_KINDS:
                del self.holds[e.ref]
                self.archived[e.ref] = number
            elif e.kind == HOLD and self.holds[e.ref].state == OPEN:
                raise CorruptEntry(f"archive {number} holds the open hold {e.ref!r}")
        self.archives = number
        self.hot_entries -= len(entries)


def hold_from_entries(ref: str, entries: dict[int, Entry]) -> HoldRecord:
    """Rebuild one archived hold from its archive's entries (a hold and its settlement)."""
    mine = [entries[seq] for seq in sorted(entries) if entries[seq].ref == ref]
    if len(mine) != 2 or mine[0].kind != HOLD or mine[1].kind not in SETTLE_KINDS:
        raise CorruptEntry(f"the archive does not hold exactly one hold and one settlement for {ref!r}")
    hold, settle = mine
    rec = HoldRecord(ref, hold.owner, hold.held, hold.time)
    end(rec, settle, 0)
    return rec


def end(rec: HoldRecord, e: Entry, seq: int) -> None:
    """Mark `rec` ended by the capture or release entry `e`; raise `CorruptEntry` if it cannot be."""
    charged = -e.amount
    if not 0 <= charged <= rec.amount or (e.kind is RELEASE and charged):
        raise CorruptEntry(f"entry {seq}: {e.kind} of {charged} from a hold of {rec.amount}")
    if e.kind is RELEASE:
        rec.state, rec.spent = RELEASED, e.spent or 0
    else:
        if e.spent is not None and e.spent < charged:
            raise CorruptEntry(f"entry {seq}: a capture of {charged} spending only {e.spent}")
        rec.state, rec.spent = CAPTURED, charged if e.spent is None else e.spent
    rec.charged, rec.reason = charged, e.reason
