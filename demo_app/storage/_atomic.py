"""A TinyDB storage whose file always holds one complete commit, owned by one process.

TinyDB's stock `JSONStorage` rewrites its file in place and cuts the old tail afterwards, so a
crash mid-write can leave a file that no longer parses. `AtomicJSONStorage` writes a temp file
next to the target, fsyncs it, `os.replace`s it over the target and fsyncs the directory: the
file on disk is always the previous commit or the new one, and a commit that returned survives
a crash or power loss.

Cost: every commit serialises the whole file (about 1.5 µs per small document) and pays two
fsyncs and a rename (0.5 ms here, with a slow tail); `JournaledJSONStorage` appends only the
changes instead, for files that change often.

Two ways to use either:

- synchronously, as TinyDB's storage: `TinyDB(path, storage=AtomicJSONStorage)`; each write
  commits, `with db.storage.transaction():` turns several writes into one commit;
- from async code through `GroupCommit`, which keeps writes in memory (`autocommit=False`)
  and commits them in groups on one writer thread.

A second `AtomicJSONStorage` on the same file (in this process or another) raises
`StorageLocked` instead of silently interleaving writes.
"""

from __future__ import annotations

import os
from pathlib import Path

from filelock import FileLock, Timeout

from demo_app.storage._base import Commit, CommittingStorage, StorageLocked
from demo_app.storage._files import (
    encode_json,
    ensure_dir,
    load_json,
    lock_path,
    remove_stale_temps,
    write_atomic,
)


class AtomicJSONStorage(CommittingStorage):
    """TinyDB storage: temp file, flush, fsync, `os.replace`, directory fsync; one owner at a time.

    The file is parsed once, when the storage opens; reads are served from memory.
    """

    def __init__(self, path: str | os.PathLike[str], *, autocommit: bool = True) -> None:
        super().__init__(Path(path).absolute(), autocommit=autocommit)
        ensure_dir(self.path.parent)
        self._lock = FileLock(lock_path(self.path), timeout=0, thread_local=False)
        try:
            self._lock.acquire()
        except Timeout:
            raise StorageLocked(
                f"{self.path} is already open in another process (lock file {lock_path(self.path).name}); "
                "stop that process or use another data directory."
            ) from None
        try:
            remove_stale_temps(self.path.parent, self.path.name)
            self.reload()
        except BaseException:
            self._lock.release()
            raise

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
