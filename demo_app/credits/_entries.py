"""The one thing the ledger writes: an entry, typed in memory and a small JSON document on disk.

    {"time": ISO-8601 UTC, "owner": str, "kind": grant|hold|capture|release|adjust,
     "amount": change to the balance, "held": change to the held credits,
     "ref": job ref or None, "reason": human text, "spent": release only}

`Entry.from_doc` is the only way in from the files: a document of the wrong shape is a
`CorruptEntry` (the ledger refuses to open), never a half-typed value deeper in the books.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from demo_app.credits._types import Kind


class CorruptEntry(ValueError):
    """An entry that valid operations cannot have produced."""


@dataclass(frozen=True)
class Entry:
    """One line of the books, as written (see `_books` for what each kind may carry)."""

    time: str
    owner: str
    kind: Kind
    amount: int
    held: int
    ref: str | None
    reason: str
    spent: int | None = None
    """A release's spend (None: not written — every other kind, and releases of older files)."""

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
        """Type a stored document; `CorruptEntry` if a field is missing or of the wrong type."""
        try:
            kind = Kind(doc["kind"])
        except ValueError:
            raise CorruptEntry(f"entry {seq}: unknown kind {doc['kind']!r}") from None
        except (KeyError, TypeError) as exc:
            raise CorruptEntry(f"entry {seq}: no kind ({exc!r})") from None
        entry = cls(
            time=_field(seq, doc, "time", str),
            owner=_field(seq, doc, "owner", str),
            kind=kind,
            amount=_field(seq, doc, "amount", int),
            held=_field(seq, doc, "held", int),
            ref=_field(seq, doc, "ref", str, optional=True),
            reason=_field(seq, doc, "reason", str),
            spent=doc.get("spent"),
        )
        if entry.spent is not None and (
            type(entry.spent) is not int or entry.spent < 0 or kind != Kind.RELEASE
        ):
            raise CorruptEntry(f"entry {seq}: {kind} of {entry.ref!r} spending {entry.spent!r}")
        return entry


def _field(seq: int, doc: Mapping[str, Any], name: str, kind: type, *, optional: bool = False) -> Any:
    """`doc[name]` if it has exactly the type `kind` (bools are not credits), else `CorruptEntry`."""
    if name not in doc:
        raise CorruptEntry(f"entry {seq}: no {name!r}")
    value = doc[name]
    if (value is None and optional) or type(value) is kind:
        return value
    raise CorruptEntry(f"entry {seq}: {name} {value!r} is not a {kind.__name__}")
