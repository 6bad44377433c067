"""Where the ledger's entries live: the live TinyDB file, its archives, and the books derived from both.

`EntryStore` owns the storage, the group commit and the archive folder; it appends entries,
finds holds by ref, gathers an owner's entries and moves settled ones to archives. What may be
written — the rules of accounts, holds and budgets — is the `Ledger`'s. Archive files are
read off the event loop, after the commit lock is released, except when the books are rebuilt
(on open, and after a failed commit), which must not be seen half done.
"""

from __future__ import annotations

import asyncio
import logging
from pathlib import Path
from typing import cast

from tinydb import TinyDB, where
from tinydb.table import Document

from demo_app.credits._archive import Archive
from demo_app.credits._books import Books, HoldRecord, hold_from_entries
from demo_app.credits._entries import CorruptEntry, Entry
from demo_app.credits._errors import LedgerCorrupt, LedgerLocked
from demo_app.credits._grant_counts import GrantCounts
from demo_app.credits._types import HoldState, Kind
from demo_app.storage import CommittingStorage, GroupCommit, StorageFactory, StorageLocked

log = logging.getLogger(__name__)


class EntryStore:
    """The entries of one ledger file (see the module docstring); one instance per file and process."""

    def __init__(self, path: Path, *, storage: StorageFactory, archive_at: int) -> None:
        self.path = path
        self._archive_at = archive_at
        self._db = _open_db(path, storage)
        self._entries = self._db.table("entries", cache_size=0)
        self._meta = self._db.table("meta", cache_size=0)
        self._archive = Archive(path)
        committing = cast(CommittingStorage, self._db.storage)
        self._storage = committing
        try:
            self._archive.tidy(self._recorded_archives())
            self.books = self._load_books()
            self.grant_counts = GrantCounts(self._db.table("grant_counts", cache_size=0))
        except BaseException:
            committing.close()
            raise
        self.group = GroupCommit(committing, on_reset=self._reload)
        """Every read or change of the books runs inside `group.change()`."""

    def append(self, entry: Entry) -> None:
        """Write one entry (in memory; the enclosing change makes it durable) and account for it."""
        seq = self.books.last_seq + 1
        self._storage.put("entries", str(seq), entry.to_doc())  # not TinyDB's insert: O(1), see `put`
        self.books.apply(seq, entry)

    def lookup(self, ref: str) -> HoldRecord | int | None:
        """The hot hold for `ref`, else the number of the archive its settled hold moved to, else None."""
        return self.books.holds.get(ref) or self.books.archived.get(ref)

    async def hold_record(self, ref: str, found: HoldRecord | int) -> HoldRecord:
        """The hold `lookup` found; an archived one is read on a worker thread, outside the commit lock.

        Safe without the lock: an archive is write-once, and its number is handed out only
        by a change that has returned, so once it is on disk.
        """
        if isinstance(found, HoldRecord):
            return found
        return hold_from_entries(ref, await asyncio.to_thread(self._archive.read, found))

    async def entries_of(self, owner: str) -> list[tuple[int, Entry]]:
        """Every entry of `owner`, in order: hot ones under the lock, archived ones read after it."""
        async with self.group.change():
            acct = self.books.accounts.get(owner)
            numbers = list(acct.archives) if acct else []
            hot = _numbered(self._entries.search(where("owner") == owner))
        archived = await asyncio.to_thread(self._archived_entries, numbers, owner)
        return sorted(archived + hot, key=lambda item: item[0])

    def close(self) -> None:
        """Write anything still in memory and release the file."""
        self.group.close()

    async def archive_if_due(self) -> None:
        """Move settled entries to an archive once enough have gathered; a failure only delays it."""
        if self.books.archivable < self._archive_at:
            return
        try:
            await self._move_to_archive()
        except Exception:
            log.exception("moving settled entries of %s to an archive failed; will retry", self.path.name)

    async def _move_to_archive(self) -> None:
        async with self.group.change():
            if self.books.archivable < self._archive_at:
                return  # another task moved them meanwhile
            moved = {seq: e for seq, e in _numbered(self._entries.all()) if not self._stays_hot(e)}
            number = self.books.archives + 1
            await self.group.run(self._archive.write, number, moved)
            self._entries.remove(doc_ids=list(moved))
            self._meta.upsert(Document({"archives": number}, doc_id=1))
            self.books.seal(number, moved)

    def _stays_hot(self, entry: Entry) -> bool:
        return (
            entry.kind == Kind.HOLD
            and entry.ref is not None
            and self.books.holds[entry.ref].state == HoldState.OPEN
        )

    def _recorded_archives(self) -> int:
        meta = self._meta.get(doc_id=1)
        return int(meta["archives"]) if isinstance(meta, dict) else 0

    def _load_books(self) -> Books:
        """Replay the archives, then the hot entries; refuse to open on any contradiction.

        Blocking, and run under the commit lock by `_reload`: the books must never be seen half
        rebuilt, and a rebuild happens only on open and after a failed commit.
        """
        books = Books()
        number = 0
        try:
            for number in range(1, self._recorded_archives() + 1):
                entries = self._archive.read(number)
                for seq in sorted(entries):
                    books.apply(seq, entries[seq])
                books.seal(number, entries)
            number = 0
            for seq, entry in sorted(_numbered(self._entries.all()), key=lambda item: item[0]):
                books.apply(seq, entry)
            books.verify()
        except (CorruptEntry, FileNotFoundError, KeyError, TypeError) as exc:
            place = f"archive {self._archive.path(number).name}" if number else self.path.name
            raise LedgerCorrupt(
                f"The ledger fails its integrity check ({place}: {exc}). Stop the app and run "
                f"`python -m demo_app.repair --data-dir {self.path.parent}`; if it cannot repair the "
                "files, restore the data directory from a backup before starting the app."
            ) from exc
        return books

    def _reload(self) -> None:
        """After discarded changes: derive everything again from what is on disk."""
        self.books = self._load_books()
        self.grant_counts.reload()

    def _archived_entries(self, numbers: list[int], owner: str) -> list[tuple[int, Entry]]:
        found = []
        for number in numbers:
            found += [(seq, e) for seq, e in self._archive.read(number).items() if e.owner == owner]
        return found


def _open_db(path: Path, storage: StorageFactory) -> TinyDB:
    """The ledger's TinyDB on `storage`, writes kept in memory until a group commit."""
    try:
        return TinyDB(path, storage=storage, autocommit=False)
    except StorageLocked as exc:
        raise LedgerLocked(
            f"The ledger {path} is already open (by another process, or another Ledger in this "
            "one). Run one app per data directory: stop the other one, or point LIPSYNC_DATA_DIR at "
            "another folder."
        ) from exc


def _numbered(docs: list[Document]) -> list[tuple[int, Entry]]:
    """Typed entries of stored documents, with their sequence numbers."""
    return [(doc.doc_id, Entry.from_doc(doc.doc_id, doc)) for doc in docs]
