"""Deleting ended jobs' uploaded inputs in the read budget's spare lane.

Why deferred: once a job has ended its face and voice on the Files API serve nothing, but each
delete is a call of the read budget that running jobs' polls need. With a crowd, deletes sent
at once would take as much of the budget as the uploads do, and every running job would be
read less often. So deletes wait in the spare lane (`Call.SPARE`, see the client's
`delete_file`): they go only while no poll, upload or cancel waits.

Nothing is lost meanwhile: a job's record keeps its `input_files` until they are deleted, and
the start-up recovery queues those of ended jobs again (a process stopped while they waited).
The waiting is bounded: only ids are held (never the job, never the files), at most
`MAX_WAITING_FILES` of them, each for at most `MAX_WAIT_S`. A file given up at a bound stays in
the record (a restart tries again) and otherwise expires on Replicate on its own.
"""

from __future__ import annotations

import asyncio
import logging
from collections import deque
from collections.abc import Sequence
from dataclasses import dataclass

from demo_app.jobs._store import JobStore
from demo_app.jobs._types import JobStatus
from demo_app.replicate import ReplicateClient, ReplicateError

log = logging.getLogger(__name__)

MAX_WAITING_FILES = 10_000
"""Ids waiting at most (a few hundred kilobytes): five thousand ended jobs' face and voice."""
MAX_WAIT_S = 3600.0
"""How long a delete may wait for a quiet budget. Replicate dates a file's expiry (`expires_at`)
an hour to a day after its upload; past this the file may well be gone on its own."""
WORKERS = 4
"""Deletes sent at once: enough to use an idle budget across a network round trip, few enough
that the spare lane never holds more than a handful of waiters."""


@dataclass(frozen=True)
class _Ended:
    """An ended job's files still to delete, and when they joined (the loop's clock)."""

    job_id: str
    file_ids: tuple[str, ...]
    since: float


class UploadDeletions:
    """The ended jobs' uploaded inputs waiting for the spare budget, deleted a few at a time."""

    def __init__(
        self,
        client: ReplicateClient,
        store: JobStore,
        *,
        max_files: int = MAX_WAITING_FILES,
        max_wait_s: float = MAX_WAIT_S,
        workers: int = WORKERS,
    ) -> None:
        self._client = client
        self._store = store
        self._max_files = max_files
        self._max_wait_s = max_wait_s
        self._workers = workers
        self._queue: deque[_Ended] = deque()
        self._jobs: set[str] = set()
        self._files = 0
        self._running: set[asyncio.Task[None]] = set()
        self._active = 0
        """Workers still taking from the queue (a finished task may linger in `_running`)."""
        self._idle = asyncio.Event()
        self._idle.set()

    def waiting(self) -> int:
        """Files not yet deleted nor given up (queued or being deleted)."""
        return self._files

    def add(self, job_id: str, file_ids: Sequence[str]) -> None:
        """Delete these files of an ended job when the budget has room (a job already waiting is
        not added twice). Past `max_files` the longest waiting job's files are given up."""
        if not file_ids or job_id in self._jobs:
            return
        ended = _Ended(job_id, tuple(file_ids), asyncio.get_running_loop().time())
        while self._queue and self._files + len(ended.file_ids) > self._max_files:
            self._give_up(self._queue.popleft(), "too many deletes were waiting")
        if self._files + len(ended.file_ids) > self._max_files:
            self._give_up(ended, "too many deletes were waiting", queued=False)
            return
        self._queue.append(ended)
        self._jobs.add(job_id)
        self._files += len(ended.file_ids)
        self._idle.clear()
        while self._active < min(self._workers, len(self._queue)):
            self._active += 1
            task = asyncio.create_task(self._work(), name="upload-deletions")
            self._running.add(task)
            task.add_done_callback(self._running.discard)

    async def drained(self) -> None:
        """Wait until every file added so far was deleted or given up."""
        await self._idle.wait()

    async def aclose(self) -> None:
        """Stop deleting (a canceled wait takes no budget); the records still list what is left."""
        tasks = list(self._running)
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)

    async def _work(self) -> None:
        try:
            while self._queue:
                ended = self._queue.popleft()
                try:
                    await self._delete(ended)
                except Exception as exc:  # a worker outlives one job's trouble (its record, say)
                    log.warning("job %s: deleting its inputs: %s", ended.job_id, type(exc).__name__)
                finally:
                    self._done(ended)
        finally:
            self._active -= 1

    async def _delete(self, ended: _Ended) -> None:
        """One try per file (with the client's retries); the record forgets what is gone."""
        left_s = ended.since + self._max_wait_s - asyncio.get_running_loop().time()
        if left_s <= 0:
            self._give_up(ended, f"it waited {self._max_wait_s:g} s", queued=False)
            return
        gone: list[str] = []
        try:
            async with asyncio.timeout(left_s):
                for file_id in ended.file_ids:
                    try:
                        await self._client.delete_file(file_id)
                    except ReplicateError as exc:
                        log.warning(
                            "job %s: deleting input %s: %s (it expires on its own)",
                            ended.job_id,
                            file_id,
                            exc,
                        )
                    gone.append(file_id)
        except TimeoutError:
            rest = _Ended(ended.job_id, ended.file_ids[len(gone) :], ended.since)
            self._give_up(rest, f"it waited {self._max_wait_s:g} s", queued=False)
        await self._forget(ended.job_id, gone)

    async def _forget(self, job_id: str, gone: list[str]) -> None:
        record = self._store.get(job_id)
        if record is None or not gone or record.status is JobStatus.REJECTED:
            return
        left = [file_id for file_id in record.input_files if file_id not in gone]
        if left != record.input_files:
            record.input_files = left
            await self._store.save(record)

    def _give_up(self, ended: _Ended, why: str, *, queued: bool = True) -> None:
        log.warning(
            "job %s: %d uploaded input(s) left undeleted (%s); they expire on Replicate on their own",
            ended.job_id,
            len(ended.file_ids),
            why,
        )
        if queued:
            self._done(ended)

    def _done(self, ended: _Ended) -> None:
        self._jobs.discard(ended.job_id)
        self._files -= len(ended.file_ids)
        if self._files == 0:
            self._idle.set()
