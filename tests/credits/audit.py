"""Read a ledger's files (or its PostgreSQL tables) without the ledger's code and check its invariants.

Independent of `demo_app.credits` on purpose: if the ledger derived something wrongly, this
reader, working straight from the JSON files or the raw entry rows, disagrees.
"""

from __future__ import annotations

import json
import zlib
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import psycopg

Entry = dict[str, Any]


def read_state(ledger_path: Path) -> dict[str, dict[str, Any]]:
    """The live file's data: its snapshot with the journal's complete lines replayed on it."""
    state = json.loads(ledger_path.read_bytes()) if ledger_path.exists() else {}
    journal = ledger_path.with_name(ledger_path.name + ".journal")
    for line in journal.read_bytes().splitlines(keepends=True) if journal.exists() else []:
        if not line.endswith(b"\n") or int(line[:8], 16) != zlib.crc32(line[9:-1]):
            break  # the torn tail of a commit that never returned
        for table, doc_id, doc in json.loads(line[9:-1]):
            if doc_id is None:
                state.pop(table, None)
            elif doc is None:  # may be gone already: a crash after compaction replays a covered journal
                state.get(table, {}).pop(doc_id, None)
            else:
                state.setdefault(table, {})[doc_id] = doc
    return state


def read_entries(ledger_path: Path) -> list[tuple[int, Entry]]:
    """Every entry (live file and recorded archives), in order; each sequence number once."""
    hot = read_state(ledger_path)
    entries = {int(seq): e for seq, e in hot.get("entries", {}).items()}
    recorded = hot.get("meta", {}).get("1", {}).get("archives", 0)
    for number in range(1, recorded + 1):
        archive = ledger_path.with_name(ledger_path.stem + ".archive") / f"{number:06d}.json"
        for seq, e in json.loads(archive.read_bytes())["entries"].items():
            assert int(seq) not in entries, f"entry {seq} is both in {archive.name} and elsewhere"
            entries[int(seq)] = e
    return sorted(entries.items())


def read_pg_entries(conn: psycopg.Connection) -> list[tuple[int, Entry]]:
    """Every entry row of a PostgreSQL ledger, in order, as the files hold them; numbered 1..n."""
    rows = conn.execute(
        "SELECT seq, time, owner, kind, amount, held, ref, reason, spent FROM ledger_entries ORDER BY seq"
    ).fetchall()
    assert [row[0] for row in rows] == list(range(1, len(rows) + 1)), "entry numbers with a gap"
    entries = []
    for seq, time, owner, kind, amount, held, ref, reason, spent in rows:
        e = {"time": time, "owner": owner, "kind": kind, "amount": amount, "held": held, "ref": ref}
        e["reason"] = reason
        if spent is not None:
            e["spent"] = spent
        entries.append((seq, e))
    return entries


def pg_rows(conn: psycopg.Connection) -> list[Any]:
    """Every row of a PostgreSQL ledger's tables, to show that an operation wrote nothing."""
    tables = ("ledger_sequence", "ledger_entries", "ledger_accounts", "ledger_holds", "ledger_days")
    return [conn.execute(f"SELECT * FROM {table} ORDER BY 1").fetchall() for table in tables]


@dataclass
class Audit:
    """Totals recomputed from raw entries."""

    balance: dict[str, int] = field(default_factory=lambda: defaultdict(int))
    held: dict[str, int] = field(default_factory=lambda: defaultdict(int))
    holds: dict[str, Entry] = field(default_factory=dict)
    """ref -> its hold entry."""
    ends: dict[str, Entry] = field(default_factory=dict)
    """ref -> its capture or release entry."""
    usage: dict[str, int] = field(default_factory=lambda: defaultdict(int))
    """UTC day -> held by open holds made that day + spent by settled ones."""
    spent: dict[str, int] = field(default_factory=lambda: defaultdict(int))
    """UTC day -> the Space owner's spend (charges, and compute of released runs)."""
    reasons: set[str] = field(default_factory=set)

    @property
    def open_refs(self) -> set[str]:
        return set(self.holds) - set(self.ends)


def audit(entries: list[tuple[int, Entry]], daily_budget: int) -> Audit:
    """Replay the entries, asserting after each one what must always hold."""
    a = Audit()
    for seq, e in entries:
        owner, ref, kind = e["owner"], e["ref"], e["kind"]
        a.balance[owner] += e["amount"]
        a.held[owner] += e["held"]
        a.reasons.add(e["reason"])
        if kind == "hold":
            assert ref not in a.holds, f"entry {seq}: second hold for {ref}"
            assert e["amount"] == 0 and e["held"] >= 0
            a.holds[ref] = e
            day = e["time"][:10]
            a.usage[day] += e["held"]
            # Checked when a hold is made: a release may then spend more than its hold.
            assert a.usage[day] <= daily_budget, f"entry {seq}: {day} uses {a.usage[day]} > {daily_budget}"
        elif kind in ("capture", "release"):
            assert ref in a.holds, f"entry {seq}: {kind} of unknown hold {ref}"
            assert ref not in a.ends, f"entry {seq}: hold {ref} ended twice"
            hold = a.holds[ref]
            charged = -e["amount"]
            assert owner == hold["owner"] and -e["held"] == hold["held"]
            assert 0 <= charged <= hold["held"] and (kind == "capture" or charged == 0)
            a.ends[ref] = e
            spent = e.get("spent", 0) if kind == "release" else charged
            assert isinstance(spent, int) and spent >= 0 and (kind == "release" or "spent" not in e)
            a.usage[hold["time"][:10]] += spent - hold["held"]
            a.spent[hold["time"][:10]] += spent
        else:
            assert kind in ("grant", "adjust") and e["held"] == 0, f"entry {seq}: bad {kind}"
        assert a.balance[owner] >= a.held[owner], f"entry {seq}: {owner} has negative available"
    for owner, held in a.held.items():
        assert held == sum(a.holds[r]["held"] for r in a.open_refs if a.holds[r]["owner"] == owner)
    return a


def disk_bytes(ledger_path: Path) -> bytes:
    """The live file's bytes and its journal's, to show that an operation wrote nothing."""
    journal = ledger_path.with_name(ledger_path.name + ".journal")
    return b"".join(p.read_bytes() for p in (ledger_path, journal) if p.exists())
