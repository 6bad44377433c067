"""New anonymous visitors per network address today: the count behind the cap on starting grants.

Kept in the ledger's own file and changed in the same commit as the account it opens, so a
restart forgives nothing and a grant is never given without being counted. Only today's
(UTC) counts are kept: the first count of a new day drops yesterday's, so the table holds at
most one small document per address seen today, and addresses are not kept longer than that.
"""

from __future__ import annotations

from tinydb.table import Table


class GrantCounts:
    """One document per address seen today: {"day", "address", "count"}."""

    def __init__(self, table: Table) -> None:
        self._table = table
        self._day = ""
        self._index: dict[str, tuple[int, int]] = {}
        self.reload()

    def reload(self) -> None:
        """Rebuild the address index from the table (on open, and after discarded changes)."""
        docs = self._table.all()
        self._day = max((str(doc.get("day", "")) for doc in docs), default="")
        self._index = {
            str(doc["address"]): (doc.doc_id, int(doc["count"]))
            for doc in docs
            if doc.get("day") == self._day
        }

    def add(self, address: str, day: str) -> int:
        """Count one more new visitor from `address` on `day`; the count including this one."""
        if day != self._day:
            if len(self._table):
                self._table.truncate()
            self._day, self._index = day, {}
        known = self._index.get(address)
        if known is None:
            doc_id = self._table.insert({"day": day, "address": address, "count": 1})
            self._index[address] = (doc_id, 1)
            return 1
        doc_id, count = known
        self._table.update({"count": count + 1}, doc_ids=[doc_id])
        self._index[address] = (doc_id, count + 1)
        return count + 1
