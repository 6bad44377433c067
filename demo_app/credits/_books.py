"""What the ledger derives from its entries: balances, holds, the daily budget's use.

An entry is the only thing written; it is a small dict stored under its sequence number:

    {"time": ISO-8601 UTC, "owner": str, "kind": grant|hold|capture|release|adjust,
     "amount": change to the balance, "held": change to the held credits,
     "ref": job ref or None, "reason": human text, "spent": release only, see below}

    grant    amount +g        held 0      (g may be 0: it marks the account as opened)
    hold     amount 0         held +h
    capture  amount −charged  held −h     (0 ≤ charged ≤ h; the rest is returned)
    release  amount 0         held −h     spent s ≥ 0 (absent in older files: 0)
    adjust   amount ±a        held 0

So an owner's balance is the sum of its `amount`s and its held credits the sum of its `held`s.
The Space owner's spend — what Replicate bills — is a second figure per UTC day of the hold:
a capture spends what it charged, a release spends `spent` (compute that ran, while the
visitor gets everything back). It lives in the settling entry itself, so it is written exactly
once, with the settlement, and survives restarts and moves to archives like any entry.
`Books.apply` refuses entries valid operations cannot produce (a hold ending twice, a capture
above its hold...) and `Books.verify` checks the totals: together, the integrity check run on
every open. Sums do not depend on order, so entries are replayed file by file (a hold and its
settlement always sit in the same file, in order), never all at once.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from typing import Any

from demo_app.credits._types import HoldState

Entry = dict[str, Any]
SETTLE_KINDS = ("capture", "release")
ENDED: dict[str, HoldState] = {"capture": "captured", "release": "released"}


class CorruptEntry(ValueError):
    """An entry that valid operations cannot have produced."""


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
    state: HoldState = "open"
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
        kind, owner, ref, amount, held = e["kind"], e["owner"], e["ref"], e["amount"], e["held"]
        acct = self.accounts[owner]
        if kind == "grant" or kind == "adjust":
            if held != 0 or (kind == "grant" and amount < 0):
                raise CorruptEntry(f"entry {seq}: a {kind} of {amount} changing held by {held}")
            acct.opened = acct.opened or kind == "grant"
        elif kind == "hold":
            if self.knows(ref) or amount != 0 or held < 0:
                raise CorruptEntry(f"entry {seq}: second or malformed hold for {ref!r}")
            self.holds[ref] = HoldRecord(ref, owner, held, e["time"])
            acct.open_refs[ref] = None
            self.open_holds += 1
            self.held_on[e["time"][:10]] += held
        elif kind in SETTLE_KINDS:
            rec = self.holds.get(ref)
            if rec is None or rec.state != "open" or rec.owner != owner or -held != rec.amount:
                raise CorruptEntry(f"entry {seq}: {kind} of {ref!r}, which is not an open hold of {owner}")
            end(rec, e, seq)
            del acct.open_refs[ref]
            self.open_holds -= 1
            self.held_on[rec.day] -= rec.amount
            self.spent_on[rec.day] += rec.spent
        else:
            raise CorruptEntry(f"entry {seq}: unknown kind {kind!r}")
        acct.balance += amount
        acct.held += held
        self.last_seq = max(self.last_seq, seq)
        self.hot_entries += 1

    def verify(self) -> None:
        """Check the totals: nobody's available is negative, held equals the open holds."""
        held: dict[str, int] = defaultdict(int)
        for rec in self.holds.values():
            if rec.state == "open":
                held[rec.owner] += rec.amount
        for owner, acct in self.accounts.items():
            if acct.balance < acct.held:
                raise CorruptEntry(f"{owner} has {acct.balance - acct.held} credits available")
            if acct.held != held[owner]:
                raise CorruptEntry(f"{owner} has {acct.held} held but open holds of {held[owner]}")

    def seal(self, number: int, entries: dict[int, Entry]) -> None:
        """Record that `entries` (settled holds, grants, adjustments) moved to archive `number`."""
        for e in entries.values():
            archives = self.accounts[e["owner"]].archives
            if not archives or archives[-1] != number:
                archives.append(number)
            if e["kind"] in SETTLE_KINDS:
                del self.holds[e["ref"]]
                self.archived[e["ref"]] = number
            elif e["kind"] == "hold" and self.holds[e["ref"]].state == "open":
                raise CorruptEntry(f"archive {number} holds the open hold {e['ref']!r}")
        self.archives = number
        self.hot_entries -= len(entries)


def hold_from_entries(ref: str, entries: dict[int, Entry]) -> HoldRecord:
    """Rebuild one archived hold from its archive's entries (a hold and its settlement)."""
    mine = [entries[seq] for seq in sorted(entries) if entries[seq]["ref"] == ref]
    if len(mine) != 2 or mine[0]["kind"] != "hold" or mine[1]["kind"] not in SETTLE_KINDS:
        raise CorruptEntry(f"the archive does not hold exactly one hold and one settlement for {ref!r}")
    hold, settle = mine
    rec = HoldRecord(ref, hold["owner"], hold["held"], hold["time"])
    end(rec, settle, 0)
    return rec


def end(rec: HoldRecord, e: Entry, seq: int) -> None:
    """Mark `rec` ended by the capture or release entry `e`; raise `CorruptEntry` if it cannot be."""
    kind, charged = e["kind"], -e["amount"]
    spent = e.get("spent", 0) if kind == "release" else charged
    if not 0 <= charged <= rec.amount or (kind == "release" and charged):
        raise CorruptEntry(f"entry {seq}: {kind} of {charged} from a hold of {rec.amount}")
    if type(spent) is not int or spent < 0 or (kind == "capture" and "spent" in e):
        raise CorruptEntry(f"entry {seq}: {kind} of {rec.ref!r} spending {spent!r}")
    rec.state, rec.charged, rec.spent, rec.reason = ENDED[kind], charged, spent, e["reason"]
