"""What every storage of the package shares: the data layout, the errors, and commits.

A storage keeps TinyDB's data in memory and makes it durable in commits. `write` (TinyDB's
call) commits at once unless a `transaction()` is open or `autocommit` is off; then someone
(usually `GroupCommit`) calls `prepare` where writes cannot interleave and `persist` anywhere,
a worker thread included. A failed commit returns memory to the last durable state (`reload`).
Subclasses decide where a commit goes: a file (`AtomicJSONStorage`), a file plus a journal
(`JournaledJSONStorage`), or nowhere but memory (`MemoryStorage`, for tests).
"""

from __future__ import annotations

import contextlib
from abc import abstractmethod
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from tinydb.storages import Storage

Data = dict[str, dict[str, Any]]
"""TinyDB's whole-database layout: table name -> document id (as text) -> document."""


class StorageError(RuntimeError):
    """A storage file cannot be opened, read or written."""


class StorageLocked(StorageError):
    """Another storage (in this or another process) already has this file open."""


class CommitFailed(StorageError):
    """Writing a commit failed; the changes it carried were discarded, the file is unchanged."""


@dataclass(frozen=True)
class Commit:
    """What one commit writes: a journal line, a whole snapshot of the data, or both."""

    line: bytes | None
    snapshot: bytes | None


class CommittingStorage(Storage):
    """TinyDB storage whose writes become durable in commits (see the module docstring).

    `read()` returns the live in-memory data (TinyDB mutates it and hands it back to `write`),
    so reads cost nothing.
    """

    def __init__(self, path: Path, *, autocommit: bool) -> None:
        self.path = path
        """Where the data lives (for a memory storage: only its name, used in messages)."""
        self.autocommit = autocommit
        """False: writes stay in memory until someone calls `commit` (or `prepare` + `persist`)."""
        self.writes = 0
        """Count of `write` calls: tells a caller whether a piece of code changed anything."""
        self.commits = 0
        """Count of commits written."""
        self._depth = 0
        self._data: Data | None = None

    def read(self) -> Data | None:
        """The current data (None while nothing was ever written)."""
        return self._data

    def write(self, data: Data) -> None:
        """Take TinyDB's new state; commit at once unless inside `transaction()` or autocommit is off."""
        self._data = data
        self.writes += 1
        if self.autocommit and self._depth == 0:
            self.commit()

    def put(self, table: str, doc_id: str, doc: dict[str, Any] | None) -> None:
        """Set one document (None: remove it) in place, without TinyDB rebuilding the table;
        committed like `write` (at once, unless inside `transaction()` or autocommit is off).
        A storage that journals changes records just this document (see `_put`)."""
        if self._data is None:
            self._data = {}
        docs = self._data.setdefault(table, {})
        if doc is None:
            docs.pop(doc_id, None)
        else:
            docs[doc_id] = doc
        self._put(table, doc_id, doc)
        self.writes += 1
        if self.autocommit and self._depth == 0:
            self.commit()

    def _put(self, table: str, doc_id: str, doc: dict[str, Any] | None) -> None:
        """A keyed change was made in memory (for storages that write changes, not snapshots)."""

    def commit(self) -> None:
        """Make the in-memory data durable; on failure memory returns to the last commit."""
        try:
            self.persist(self.prepare())
        except BaseException:
            self.reload()
            raise

    @contextlib.contextmanager
    def transaction(self) -> Iterator[None]:
        """Make every write inside one commit; an exception discards them all (memory = last commit)."""
        self._depth += 1
        try:
            yield
        except BaseException:
            self._depth -= 1
            if self._depth == 0:
                self.reload()
            raise
        self._depth -= 1
        if self._depth == 0 and self.autocommit:
            self.commit()

    @abstractmethod
    def prepare(self) -> Commit:
        """Capture what a commit of the current data writes (call it where writes cannot interleave)."""

    @abstractmethod
    def persist(self, commit: Commit) -> None:
        """Write a prepared commit; touches no in-memory data, so it may run on a worker thread."""

    @abstractmethod
    def reload(self) -> None:
        """Drop uncommitted changes: memory becomes the last commit."""

    @abstractmethod
    def close(self) -> None:
        """Release what the storage holds (uncommitted changes are not written)."""


StorageFactory = Callable[..., CommittingStorage]
"""What TinyDB's `storage=` takes here: called as `factory(path, autocommit=False)`."""
