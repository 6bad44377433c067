"""A TinyDB storage that appends each commit's changes to a journal and rewrites the file rarely.

`AtomicJSONStorage` rewrites its whole file per commit. `JournaledJSONStorage` keeps the same
file as a snapshot and appends one line per commit to `<file>.journal` (one write, one fsync):
the changed documents, found by comparing the data with a private copy of the last commit
(in-place updates and nested changes included). Opening replays the journal on the snapshot.

    <crc32 of body, 8 hex> <body: JSON list of [table, doc_id, doc]>\\n
        doc None: the document was removed; doc_id None: the table was dropped

Crashes: a line is complete (newline, matching CRC) or it is the torn tail of a commit that
never returned, which opening cuts off; a bad line before the last means damage and raises
`StorageError`. A failed append is cut off at once, so later lines never follow garbage.

Keyed writes: `put(table, doc_id, doc)` changes one document in place and records it, so the
next commit writes it without comparing the table (a store of thousands of documents that
changes one at a time would otherwise pay a whole-table comparison per commit). A table that
TinyDB wrote meanwhile is compared as before, which covers its keyed changes too.

Compaction, once the journal passes `compact_at` bytes, is part of an ordinary commit: append
the line, write the snapshot atomically twice — first as `<file>.backup`, then as the file
itself (each then equals the old snapshot plus the whole journal) — and replace the journal
with an empty one. A crash between any of these steps replays a journal the snapshot already
contains: every key ends at its last journaled value, which is the snapshot's, so nothing
changes. A failed compaction is only logged: the commit is already durable in the journal,
and the next commit tries again.

Damage (a snapshot that does not parse, a bad line before the journal's end: disk faults,
not crashes) stops the opening with the file's name and the recovery step: stop the app and
run `python -m demo_app.repair --data-dir DIR`, which rebuilds the file from the backup copy
of the snapshot and the journal's good lines (see `demo_app.repair`).
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import zlib
from pathlib import Path
from typing import Any

from demo_app.storage._atomic import AtomicJSONStorage
from demo_app.storage._base import Commit, Data, StorageError
from demo_app.storage._files import encode_json, fsync_dir, load_json, repair_step, write_atomic

log = logging.getLogger(__name__)

DEFAULT_COMPACT_AT = 256 * 1024
"""Journal bytes that trigger a compaction (about a thousand ledger entries)."""


class JournaledJSONStorage(AtomicJSONStorage):
    """`AtomicJSONStorage` whose commits append changes to a journal (see the module docstring).

    `compact_ratio`: compact only once the journal is also this many times the snapshot's size,
    so a large file is rewritten in proportion to what was appended, not every `compact_at`.
    """

    def __init__(
        self,
        path: str | os.PathLike[str],
        *,
        autocommit: bool = True,
        compact_at: int = DEFAULT_COMPACT_AT,
        compact_ratio: float = 0.0,
    ) -> None:
        self.journal_path = journal_path(Path(path).absolute())
        self.backup_path = backup_path(Path(path).absolute())
        self.compact_at = compact_at
        self.compact_ratio = compact_ratio
        self._fd: int | None = None
        self._journal_size = 0
        self._snapshot_size = 0
        self._committed: Data = {}  # a private deep copy of the data as of the last commit
        self._seen: dict[str, dict[str, Any]] = {}  # table dicts as of the last commit (TinyDB replaces them)
        self._keyed: dict[tuple[str, str], dict[str, Any] | None] = {}  # `put` since the last commit
        super().__init__(path, autocommit=autocommit)

    def _put(self, table: str, doc_id: str, doc: dict[str, Any] | None) -> None:
        self._keyed[(table, doc_id)] = doc

    def prepare(self) -> Commit:
        """The journal line for what changed since the last commit (and a snapshot if it is time)."""
        data = self._data or {}
        changes: list[list[Any]] = []
        for table, docs in data.items():
            if self._seen.get(table) is docs:
                continue
            before = self._committed.get(table, {})
            changes += [[table, doc_id, doc] for doc_id, doc in docs.items() if before.get(doc_id) != doc]
            changes += [[table, doc_id, None] for doc_id in before.keys() - docs.keys()]
        changes += [[table, None, None] for table in self._committed.keys() - data.keys()]
        changes += [
            [table, doc_id, doc]
            for (table, doc_id), doc in self._keyed.items()
            if self._seen.get(table) is data.get(table)
        ]
        self._seen = dict(data)
        self._keyed = {}
        if not changes:
            return Commit(None, None)
        body = encode_json(changes)
        apply_changes(self._committed, json.loads(body))  # decoding gives the private copy its own objects
        line = f"{zlib.crc32(body):08x} ".encode() + body + b"\n"
        due = max(self.compact_at, self.compact_ratio * self._snapshot_size)
        compact = self._journal_size + len(line) > due
        return Commit(line, encode_json(data) if compact else None)

    def persist(self, commit: Commit) -> None:
        """Append the line (fsync), then compact if the commit carries a snapshot."""
        if commit.line is not None:
            self._append(commit.line)
        self.commits += 1
        if commit.snapshot is not None:
            try:
                self._write_snapshot(commit.snapshot)
            except OSError:  # the commit is already durable in the journal; the next one retries
                log.warning("compacting %s failed; its journal keeps growing until it succeeds", self.path)

    def compact(self) -> None:
        """Write the committed data as the snapshot (and its backup) now and empty the journal."""
        self._write_snapshot(encode_json(self._committed))

    def _write_snapshot(self, snapshot: bytes) -> None:
        self._snapshot_size = len(snapshot)
        write_atomic(self.backup_path, snapshot)
        write_atomic(self.path, snapshot)
        self._close_journal()
        write_atomic(self.journal_path, b"")
        self._journal_size = 0

    def reload(self) -> None:
        """Snapshot plus journal; a torn last line (a commit that never returned) is cut off."""
        self._close_journal()
        try:
            data: Data | None = load_json(self.path)
        except StorageError as exc:
            message = f"{self.path.name} is damaged: it is not valid JSON. {repair_step(self.path)}"
            raise StorageError(message) from exc
        raw = self.journal_path.read_bytes() if self.journal_path.exists() else b""
        good = 0
        for line in raw.splitlines(keepends=True):
            changes = parse_line(line)
            if changes is None:
                if good + len(line) < len(raw):
                    raise StorageError(
                        f"{self.journal_path.name} is damaged at byte {good} (not at its end, so not a "
                        f"crash). {repair_step(self.path)}"
                    )
                break
            data = data if data is not None else {}
            apply_changes(data, changes)
            good += len(line)
        if good < len(raw):
            os.truncate(self.journal_path, good)
        self._data = data
        self._committed = json.loads(encode_json(data or {}))
        self._seen = dict(data or {})
        self._keyed = {}
        self._journal_size = good
        self._snapshot_size = self.path.stat().st_size if self.path.exists() else 0

    def close(self) -> None:
        """Close the journal and release the file lock."""
        self._close_journal()
        super().close()

    def _append(self, line: bytes) -> None:
        if self._fd is None:
            created = not self.journal_path.exists()
            self._fd = os.open(self.journal_path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
            if created:
                fsync_dir(self.journal_path.parent)
        start = self._journal_size
        try:
            view = memoryview(line)
            while view:
                view = view[os.write(self._fd, view) :]
            os.fsync(self._fd)
        except BaseException:
            with contextlib.suppress(OSError):
                os.ftruncate(self._fd, start)  # never leave a partial line for later lines to follow
            raise
        self._journal_size = start + len(line)

    def _close_journal(self) -> None:
        if self._fd is not None:
            os.close(self._fd)
            self._fd = None


def journal_path(path: Path) -> Path:
    """The journal of the data file `path`."""
    return path.with_name(path.name + ".journal")


def backup_path(path: Path) -> Path:
    """The backup copy of the snapshot of `path`, written at each compaction."""
    return path.with_name(path.name + ".backup")


def parse_line(line: bytes) -> list[list[Any]] | None:
    """The changes of one complete journal line, or None if it is torn or damaged."""
    if not line.endswith(b"\n") or len(line) < 10 or line[8:9] != b" ":
        return None
    body = line[9:-1]
    try:
        if int(line[:8], 16) != zlib.crc32(body):
            return None
        changes = json.loads(body)
    except ValueError:
        return None
    return changes if isinstance(changes, list) else None


def apply_changes(data: Data, changes: list[list[Any]]) -> None:
    """Apply one journal line's changes to `data` in place."""
    for table, doc_id, doc in changes:
        if doc_id is None:
            data.pop(table, None)
        elif doc is None:
            data.get(table, {}).pop(doc_id, None)
        else:
            data.setdefault(table, {})[doc_id] = doc
