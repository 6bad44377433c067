"""Write-once archive files: where settled entries go so the live ledger stays small.

Every operation costs time in proportion to the live file (TinyDB rebuilds a table per write,
the journal diff compares it, a compaction rewrites it). When enough entries have settled,
they move to `ledger.archive/000001.json`, `000002.json`, ... (each a closed period of the
books, in TinyDB's own layout), and the live file keeps only open holds and what came after.
Balances carry forward in memory, derived from the archives on open. Being write-once, an
archive can be read without the ledger's commit lock, on a worker thread (statements, and
settled holds looked up by ref).

A move is two commits: first the archive file (atomic, durable), then the live file without
those entries and with `archives = n` in its meta table. A crash in between leaves an archive
numbered above the recorded count: an orphan, deleted on open (its entries are still live).
"""

from __future__ import annotations

from pathlib import Path

from demo_app.credits._entries import Entry
from demo_app.storage import encode_json, ensure_dir, load_json, remove_stale_temps, write_atomic


class Archive:
    """The archive folder beside a ledger file."""

    def __init__(self, ledger_path: Path) -> None:
        self.dir = ledger_path.with_name(ledger_path.stem + ".archive")

    def path(self, number: int) -> Path:
        return self.dir / f"{number:06d}.json"

    def write(self, number: int, entries: dict[int, Entry]) -> None:
        """Write archive `number` durably (replacing an orphan of the same number)."""
        ensure_dir(self.dir)
        table = {str(seq): entries[seq].to_doc() for seq in sorted(entries)}
        write_atomic(self.path(number), encode_json({"entries": table}))

    def read(self, number: int) -> dict[int, Entry]:
        """The entries of archive `number`, by sequence number (blocking: call it off the event loop)."""
        data = load_json(self.path(number))
        if not isinstance(data, dict) or not isinstance(data.get("entries"), dict):
            raise FileNotFoundError(f"archive {self.path(number)} is missing or empty")
        return {int(seq): Entry.from_doc(int(seq), doc) for seq, doc in data["entries"].items()}

    def tidy(self, recorded: int) -> None:
        """Remove temp files and orphans (archives above the `recorded` count) left by a crash."""
        if not self.dir.is_dir():
            return
        remove_stale_temps(self.dir)
        for path in self.dir.glob("*.json"):
            if path.stem.isdigit() and int(path.stem) > recorded:
                path.unlink()
