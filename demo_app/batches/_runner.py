"""The one task of a batch: start its items in order, each as the owner has a free job slot,
then wait for their jobs to settle. Each job holds, fails and refunds on its own; the batch only
decides when an item enters (and so when its hold is taken) and drops what a cancel left unstarted.

The same task carries a batch on after a restart: its started items are jobs the job manager has
already resumed, and its waiting items start from the batch's own copies of their files.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable
from pathlib import Path
from typing import Any

from demo_app.batches._store import BatchRecords
from demo_app.batches._types import BatchItem, BatchRecord, ItemState
from demo_app.credits import utc_now
from demo_app.jobs import JobManager, JobNotFound, JobRefused, LineFull, OwnerBusy, StudioBusy
from demo_app.storage import remove_tree

log = logging.getLogger(__name__)

BUSY_RETRY_S = 5.0
"""When the studio (not the owner) is full, the batch tries again this often; a slot the owner
frees wakes it at once."""


class BatchRun:
    """Runs one batch; `cancel()` drops what has not started and wakes the task."""

    def __init__(
        self,
        record: BatchRecord,
        jobs: JobManager,
        store: BatchRecords,
        folder: Path,
        changed: Callable[[BatchRecord], None],
    ) -> None:
        self.record = record
        self._jobs = jobs
        self._store = store
        self._folder = folder
        self._changed = changed
        self._wake = asyncio.Event()

    async def run(self) -> None:
        """Every item started (or dropped, or refused), every started job settled, then finished."""
        for item in self.record.items:
            await self._enter(item)
        for item in self.record.items:
            if item.state is ItemState.STARTED and item.job_id is not None:
                with contextlib.suppress(JobNotFound):
                    await self._jobs.wait(self.record.owner, item.job_id)
        self.record.finished_at = utc_now()
        await self._save()
        await remove_tree(self._folder)

    async def cancel(self) -> None:
        """Drop every item not started yet (nothing was held for them) and stop the running jobs."""
        self.record.canceled = True
        for item in self.record.items:
            if item.state is ItemState.WAITING:
                item.state = ItemState.DROPPED
        await self._save()
        self._wake.set()
        started = [i.job_id for i in self.record.items if i.state is ItemState.STARTED and i.job_id]
        await asyncio.gather(*(self._cancel_job(job_id) for job_id in started))

    async def _enter(self, item: BatchItem) -> None:
        """Start the item's job once the owner has a free slot; a refusal ends only this item."""
        owner = self.record.owner
        while item.state is ItemState.WAITING:
            try:
                snap = await self._jobs.start(
                    owner, item.image, item.audio, self.record.model, self.record.options
                )
            except (OwnerBusy, StudioBusy, LineFull):
                await self._next_free_slot()
                if await self._store.cancel_asked(self.record.batch_id) and not self.record.canceled:
                    await self.cancel()  # another replica asked
                continue
            except JobRefused as exc:
                if item.state is ItemState.WAITING:
                    await self._end(item, ItemState.REFUSED, str(exc))
                return
            item.state, item.job_id = ItemState.STARTED, snap.job_id
            await self._save()
            if self.record.canceled:
                await self._cancel_job(snap.job_id)

    async def _next_free_slot(self) -> None:
        """Until one of the owner's running jobs settles, the batch is canceled, or `BUSY_RETRY_S`."""
        owner = self.record.owner
        running = [snap.job_id for snap in self._jobs.history(owner) if not snap.terminal]
        waits: list[asyncio.Future[Any]] = [
            asyncio.ensure_future(self._jobs.wait(owner, job_id)) for job_id in running
        ]
        waits.append(asyncio.ensure_future(self._wake.wait()))
        _done, pending = await asyncio.wait(waits, timeout=BUSY_RETRY_S, return_when=asyncio.FIRST_COMPLETED)
        for task in pending:
            task.cancel()
        await asyncio.gather(*waits, return_exceptions=True)

    async def _cancel_job(self, job_id: str) -> None:
        with contextlib.suppress(JobNotFound):
            await self._jobs.cancel(self.record.owner, job_id)

    async def _end(self, item: BatchItem, state: ItemState, error: str) -> None:
        item.state, item.error = state, error
        await self._save()

    async def _save(self) -> None:
        asked = await self._store.save(self.record)
        self._changed(self.record)
        if asked and not self.record.canceled:
            await self.cancel()  # another replica asked
