"""What the ledger derives from its entries: balances, holds, the daily budget's use.

An entry is the only thing written; it is a small dict stored under its sequence number:

    {"time": ISO-8601 UTC, "owner": str, "kind": grant|hold|capture|release|adjust,
     "amount": change to the balance, "held": change to the held credits,
     "ref": job ref or None, "reason": human text}

    grant    amount +g        held 0      (g may be 0: it marks the account as opened)
    hold     amount 0         held +h
    capture  amount −charged  held −h     (0 ≤ charged ≤ h; the rest is returned)
    release  amount 0         held −h
    adjust   amount ±a        held 0

So an owner's balance is the sum of its `amount`s and its held credits the sum of its `held`s.
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
    open_holds: int = 0
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
        self.usage: dict[str, int] = defaultdict(int)
        """UTC day -> credits held or captured by holds made that day."""
        self.last_seq = 0
        self.archives = 0
        self.hot_entries = 0
        self.open_holds = 0

    @property
    def archivable(self) -> int:
        """Hot entries that could move to an archive (all but the entries of open holds)."""
        return self.hot_entries - self.open_holds

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
            acct.open_holds += 1
            self.open_holds += 1
            self.usage[e["time"][:10]] += held
        elif kind in SETTLE_KINDS:
            rec = self.holds.get(ref)
            charged = -amount
            if rec is None or rec.state != "open" or rec.owner != owner or -held != rec.amount:
                raise CorruptEntry(f"entry {seq}: {kind} of {ref!r}, which is not an open hold of {owner}")
            if not 0 <= charged <= rec.amount or (kind == "release" and charged):
                raise CorruptEntry(f"entry {seq}: {kind} of {charged} from a hold of {rec.amount}")
            rec.state, rec.charged, rec.reason = ENDED[kind], charged, e["reason"]
            acct.open_holds -= 1
            self.open_holds -= 1
            self.usage[rec.day] -= rec.amount - charged
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
    rec.state, rec.charged, rec.reason = ENDED[settle["kind"]], -settle["amount"], settle["reason"]
    return rec
