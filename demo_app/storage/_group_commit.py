"""Changes to one `CommittingStorage` from async code: one writer at a time, commits in groups.

A change runs under an `asyncio.Lock` and only touches memory (TinyDB on a storage with
`autocommit=False`); then it waits until a commit that includes it is on disk. Commits are made
by one flusher task, which serialises the data and writes it on a single worker thread, so
fsync never blocks the event loop, and changes that arrive meanwhile share the next commit
(group commit: a thousand holds arriving together cost a few file writes, not a thousand).

Failure rule, the only one: when a commit fails (disk full, I/O error) or a change raises after
it wrote, memory goes back to the file and every change not yet on disk fails with
`CommitFailed`; `on_reset` lets the owner rebuild whatever it derives from the data.

    group = GroupCommit(db.storage, on_reset=rebuild)
    async with group.change():
        table.insert(doc)          # in memory; raising here before any write changes nothing
    # here the insert is on disk
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator, Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any, TypeVar

from demo_app.storage._base import CommitFailed, CommittingStorage, StorageError

T = TypeVar("T")
log = logging.getLogger(__name__)


class GroupCommit:
    """Serialises changes to `storage` and makes each durable before its `change()` block exits."""

    def __init__(self, storage: CommittingStorage, *, on_reset: Callable[[], None] | None = None) -> None:
        storage.autocommit = False
        self.storage = storage
        self._on_reset = on_reset
        self._lock = asyncio.Lock()
        self._executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix=f"commit-{storage.path.name}")
        self._changed = 0  # generation of the newest change applied in memory
        self._durable = 0  # newest generation known to be on disk
        self._waiters: list[tuple[int, asyncio.Future[None]]] = []
        self._flusher: asyncio.Task[None] | None = None
        self._closed = False

    @contextlib.asynccontextmanager
    async def change(self) -> AsyncIterator[None]:
        """Run the block alone; on exit wait until what it wrote (and what it read) is on disk.

        A block that raises before writing changes nothing; one that raises after writing
        discards every change not yet on disk (see the module's failure rule). After `close()`
        it raises `StorageError` at once.
        """
        if self._closed:
            raise StorageError(f"{self.storage.path.name} is closed; no change can be made.")
        async with self._lock:
            writes = self.storage.writes
            try:
                yield
            except BaseException as exc:
                if self.storage.writes != writes:
                    self._discard(exc)
                raise
            if self.storage.writes != writes:
                self._changed += 1
            generation = self._changed
        await self._until_durable(generation)

    async def run(self, fn: Callable[..., T], *args: Any) -> T:
        """Run blocking file work on the writer thread (so it queues behind commits, never beside them)."""
        return await asyncio.get_running_loop().run_in_executor(self._executor, fn, *args)

    def close(self) -> None:
        """Write what is still only in memory, stop the writer thread and release the file."""
        if self._closed:
            return
        self._closed = True
        self._executor.shutdown(wait=True)
        if self._durable < self._changed:
            self.storage.persist(self.storage.prepare())
            self._mark_durable(self._changed)
        self.storage.close()

    async def _until_durable(self, generation: int) -> None:
        if generation <= self._durable:
            return
        waiter: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self._waiters.append((generation, waiter))
        if self._flusher is None:
            self._flusher = asyncio.create_task(self._flush(), name=f"flush-{self.storage.path.name}")
        await waiter

    async def _flush(self) -> None:
        """Commit until disk has caught up with memory; each round takes every change made so far.

        The lock is held while writing, so no change lands half-way and a discard never races a
        write; changes arriving meanwhile queue on the lock and go into the next round together.
        """
        try:
            while self._durable < self._changed:
                async with self._lock:
                    if self._closed or self._durable >= self._changed:
                        break
                    target = self._changed
                    try:
                        await self.run(self.storage.persist, self.storage.prepare())
                    except Exception as exc:
                        self._discard(exc)
                        continue
                    self._mark_durable(target)
        finally:
            self._flusher = None

    def _mark_durable(self, generation: int) -> None:
        self._durable = max(self._durable, generation)
        pending = []
        for gen, waiter in self._waiters:
            if gen <= self._durable:
                if not waiter.done():
                    waiter.set_result(None)
            else:
                pending.append((gen, waiter))
        self._waiters = pending

    def _discard(self, cause: BaseException) -> None:
        """Memory back to the file; fail every change that was not on disk yet."""
        log.error("discarding changes not yet written to %s: %r", self.storage.path, cause)
        self.storage.reload()
        self._changed = self._durable
        error = CommitFailed(
            f"Saving to {self.storage.path.name} failed ({cause}); the change was not applied. "
            "Try again; if it keeps failing, check that the disk is not full."
        )
        error.__cause__ = cause
        for _gen, waiter in self._waiters:
            if not waiter.done():
                waiter.set_exception(error)
        self._waiters = []
        if self._on_reset is not None:
            self._on_reset()
