"""A TinyDB storage whose file always holds one complete commit, owned by one process.

TinyDB's stock `JSONStorage` rewrites its file in place and cuts the old tail afterwards, so a
crash mid-write can leave a file that no longer parses. `AtomicJSONStorage` writes a temp file
next to the target, fsyncs it, `os.replace`s it over the target and fsyncs the directory: the
file on disk is always the previous commit or the new one, and a commit that returned survives
a crash or power loss.

Cost: every commit serialises the whole file (about 1.5 µs per small document) and pays two
fsyncs and a rename (0.5 ms here, with a slow tail); `demo_app.journal.JournaledJSONStorage`
appends only the changes instead, for files that change often.

Two ways to use either:

- synchronously, as TinyDB's storage: `TinyDB(path, storage=AtomicJSONStorage)`; each write
  commits, `with db.storage.transaction():` turns several writes into one commit;
- from async code through `demo_app.group_commit.GroupCommit`, which keeps writes in memory
  (`autocommit=False`) and commits them in groups on one writer thread.

A second `AtomicJSONStorage` on the same file (in this process or another) raises
`StorageLocked` instead of silently interleaving writes.
"""

from __future__ import annotations

import contextlib
import json
import os
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from filelock import FileLock, Timeout
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


class AtomicJSONStorage(Storage):
    """TinyDB storage: temp file, flush, fsync, `os.replace`, directory fsync; one owner at a time.

    `read()` returns the live in-memory data (TinyDB mutates it and hands it back to `write`),
    so reads cost nothing; the file is parsed once, when the storage opens.
    """

    def __init__(self, path: str | os.PathLike[str], *, autocommit: bool = True) -> None:
        self.path = Path(path).absolute()
        ensure_dir(self.path.parent)
        self._lock = FileLock(lock_path(self.path), timeout=0, thread_local=False)
        try:
            self._lock.acquire()
        except Timeout:
            raise StorageLocked(
                f"{self.path} is already open in another process (lock file {lock_path(self.path).name}); "
                "stop that process or use another data directory."
            ) from None
        self.autocommit = autocommit
        """False: writes stay in memory until someone calls `commit` (or `prepare` + `persist`)."""
        self.writes = 0
        """Count of `write` calls: tells a caller whether a piece of code changed anything."""
        self.commits = 0
        """Count of commits written."""
        self._depth = 0
        self._data: Data | None = None
        try:
            remove_stale_temps(self.path.parent, self.path.name)
            self.reload()
        except BaseException:
            self._lock.release()
            raise

    def read(self) -> Data | None:
        """The current data (None while the file does not exist yet)."""
        return self._data

    def write(self, data: Data) -> None:
        """Take TinyDB's new state; commit at once unless inside `transaction()` or autocommit is off."""
        self._data = data
        self.writes += 1
        if self.autocommit and self._depth == 0:
            self.commit()

    def commit(self) -> None:
        """Write the in-memory data to disk; on failure memory returns to the file's state."""
        try:
            self.persist(self.prepare())
        except BaseException:
            self.reload()
            raise

    @contextlib.contextmanager
    def transaction(self) -> Iterator[None]:
        """Make every write inside one commit; an exception discards them all (memory = file)."""
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

    def prepare(self) -> Commit:
        """Capture what a commit of the current data writes (call it where writes cannot interleave)."""
        return Commit(None, encode_json(self._data or {}))

    def persist(self, commit: Commit) -> None:
        """Write a prepared commit; touches no in-memory data, so it may run on a worker thread."""
        if commit.snapshot is not None:
            write_atomic(self.path, commit.snapshot)
        self.commits += 1

    def reload(self) -> None:
        """Drop uncommitted changes: memory becomes what the file holds."""
        self._data = load_json(self.path)

    def close(self) -> None:
        """Release the file lock (uncommitted changes are not written)."""
        if self._lock.is_locked:
            self._lock.release()


def repair_step(path: Path) -> str:
    """The recovery step for a damaged data file: stop the app and run the repair command."""
    return (
        f"Stop the app, run `python -m demo_app.repair --data-dir {path.parent}` (it keeps a copy of "
        "the damaged files and rebuilds them from the last good snapshot and journal), then start it again."
    )


def lock_path(path: Path) -> Path:
    """The lock file guarding `path` (kept beside it)."""
    return path.with_name(path.name + ".lock")


def load_json(path: Path) -> Any:
    """Parse `path`; None if it does not exist; a readable `StorageError` if it is damaged."""
    try:
        with path.open("rb") as f:
            return json.loads(f.read())
    except FileNotFoundError:
        return None
    except (ValueError, UnicodeDecodeError) as exc:
        raise StorageError(f"{path} is not valid JSON ({exc}); restore it from a backup.") from exc


def encode_json(data: Any) -> bytes:
    """Compact UTF-8 JSON; NaN and infinities refused (they are not JSON)."""
    return json.dumps(data, ensure_ascii=False, separators=(",", ":"), allow_nan=False).encode()


def write_atomic(path: Path, blob: bytes) -> None:
    """Replace `path` by `blob` so that a crash leaves either the old or the new file, never a mix."""
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(blob)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)
        raise
    fsync_dir(path.parent)


def fsync_dir(directory: Path) -> None:
    """Make a rename or a new file in `directory` durable (its entry lives in the directory)."""
    fd = os.open(directory, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def ensure_dir(directory: Path) -> None:
    """Create `directory` (and parents) durably if it is missing."""
    if not directory.is_dir():
        directory.mkdir(parents=True, exist_ok=True)
        fsync_dir(directory.parent)


def remove_stale_temps(directory: Path, name: str = "*") -> int:
    """Delete temp files a crash left behind for `name` (a glob); call only while holding its lock."""
    removed = 0
    for tmp in directory.glob(f".{name}.*.tmp"):
        with contextlib.suppress(FileNotFoundError):
            tmp.unlink()
            removed += 1
    return removed
