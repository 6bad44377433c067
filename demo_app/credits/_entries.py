"""The one thing the ledger writes: an entry, typed in memory and a small JSON document on disk.

    {"time": ISO-8601 UTC, "owner": str, "kind": grant|hold|capture|release|adjust,
     "amount": change to the balance, "held": change to the held credits,
     "ref": job ref or None, "reason": human text,
     "spent": a release's spend, or a capture's when it exceeds the charge}

`Entry.from_doc` is the only way in from the files: a document of the wrong shape is a
`CorruptEntry` (the ledger refuses to open), never a half-typed value deeper in the books.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, NamedTuple

from demo_app.credits._types import Kind


class CorruptEntry(ValueError):
    """An entry that valid operations cannot have produced."""


class Entry(NamedTuple):
    """One line of the books, as written (see `_books` for what each kind may carry).

    A named tuple rather than a frozen dataclass: every open builds one per entry ever written,
    and a tuple is built several times faster.
    """

    time: str
    owner: str
    kind: Kind
    amount: int
    held: int
    ref: str | None
    reason: str
    spent: int | None = None
    """A release's spend, or a capture's when the run cost more than it charged (None: not
    written — every other kind, captures that spent their charge, releases of older files)."""

    @property
    def day(self) -> str:
        """The UTC day the entry was written."""
        return self.time[:10]

    def to_doc(self) -> dict[str, Any]:
        """The document stored in TinyDB (and in the archives)."""
        doc: dict[str, Any] = {
            "time": self.time,
            "owner": self.owner,
            "kind": self.kind.value,
            "amount": self.amount,
            "held": self.held,
            "ref": self.ref,
            "reason": self.reason,
        }
        if self.spent is not None:
            doc["spent"] = self.spent
        return doc

    @classmethod
    def from_doc(cls, seq: int, doc: Mapping[str, Any]) -> Entry:
        """Type a stored document; `CorruptEntry` if a field is missing or of the wrong type.

        Written for speed (every open reads every entry ever written): plain lookups, exact
        type tests, and the tuple built without the named tuple's keyword machinery.
        """
        try:
            time, owner, kind = doc["time"], doc["owner"], _KINDS[doc["kind"]]
            amount, held, ref, reason = doc["amount"], doc["held"], doc["ref"], doc["reason"]
        except (KeyError, TypeError):
            raise CorruptEntry(f"entry {seq}: {_missing(doc)}") from None
        spent = doc.get("spent")
        e = _new_tuple(cls, (time, owner, kind, amount, held, ref, reason, spent))
        if not (
            type(amount) is int
            and type(held) is int
            and type(time) is str
            and type(owner) is str
            and type(reason) is str
            and (ref is None or type(ref) is str)
        ):
            raise CorruptEntry(f"entry {seq}: {_mistyped(e)}")
        if spent is not None and (
            type(spent) is not int or spent < 0 or kind not in (Kind.RELEASE, Kind.CAPTURE) or spent < -amount
        ):
            raise CorruptEntry(f"entry {seq}: {kind} of {ref!r} spending {spent!r}")
        return e


_new_tuple = tuple.__new__
_KINDS = {kind.value: kind for kind in Kind}


def _mistyped(e: Entry) -> str:
    """Which fields have the wrong type (named, never shown: owners and reasons stay out of errors)."""
    wanted = {"time": str, "owner": str, "amount": int, "held": int, "reason": str}
    wrong = [name for name, kind in wanted.items() if type(getattr(e, name)) is not kind]
    wrong += ["ref"] if e.ref is not None and type(e.ref) is not str else []
    return f"{', '.join(wrong)} of the wrong type"


def _missing(doc: Mapping[str, Any]) -> str:
    """Why a document could not be read as an entry (for the integrity check's message)."""
    if not isinstance(doc, Mapping):
        return f"not a document ({type(doc).__name__})"
    absent = [name for name in Entry._fields[:-1] if name not in doc]
    if absent:
        return f"no {', '.join(absent)}"
    return f"unknown kind {doc['kind']!r}"
