"""Batches: one face (or one per clip) and up to 20 clips, checked whole, run as ordinary jobs.

`start` checks every item before anything is held and answers at once; a `BatchRun` task then
starts the items as the owner's job slots free. Records persist, so a batch can be read after it
ended and is carried on after a restart. Viewers wait on a per-batch change signal that the
batch's own steps and its jobs' transitions set; in one process nothing wakes them on a timer.
With replicas sharing a database (`PgBatchStore`) any replica reads, zips and cancels any batch;
a viewer of a batch another replica runs reads it again every `REREAD_S` as well.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import secrets
from collections.abc import AsyncIterator, Callable, Sequence
from datetime import timedelta
from pathlib import Path
from typing import Any

from demo_app import media
from demo_app.batches._checks import Pair, check_batch
from demo_app.batches._files import ZipEntry, keep_pairs, write_zip
from demo_app.batches._runner import BatchRun
from demo_app.batches._store import BatchRecords, BatchStore
from demo_app.batches._types import (
    ONE_RUNNING,
    BatchItem,
    BatchNotFound,
    BatchRecord,
    BatchRefused,
    ItemState,
)
from demo_app.batches._views import BatchView, batch_view
from demo_app.credits import Ledger, utc_now
from demo_app.jobs import JobManager, JobNotFound, JobSnapshot
from demo_app.jobs._manifest import job_manifest
from demo_app.settings import Settings
from demo_app.storage import remove_tree

log = logging.getLogger(__name__)

RECORDS_FILE = "batches.json"
"""The batch records of a single process (with a database they are in its `batches` table)."""
REREAD_S = 1.0
"""How often a viewer of a batch run by another replica reads it again."""
KEPT_PER_OWNER = 20
"""Finished batches kept per owner (older ones are forgotten; their jobs stay in History)."""
UnavailableReason = Callable[[str], str | None]


class Batches:
    """Start, read, cancel and zip batches; made by `open()`, closed before the job manager."""

    def __init__(
        self,
        settings: Settings,
        jobs: JobManager,
        ledger: Ledger,
        workers: media.MediaWorkers,
        unavailable: UnavailableReason,
        store: BatchRecords | None = None,
    ) -> None:
        self._settings = settings
        self._jobs = jobs
        self._ledger = ledger
        self._workers = workers
        self._unavailable = unavailable
        self._inputs = settings.data_dir / "batches"
        self._zips = settings.data_dir / "videos" / "batches"
        self._store = store or BatchStore(self._inputs / RECORDS_FILE)
        self._runs: dict[str, BatchRun] = {}
        self._tasks: dict[str, asyncio.Task[None]] = {}
        self._signals: dict[str, asyncio.Event] = {}
        self._batch_of_job: dict[str, str] = {}
        self._starting: set[str] = set()

    @classmethod
    async def open(
        cls,
        settings: Settings,
        jobs: JobManager,
        ledger: Ledger,
        workers: media.MediaWorkers,
        unavailable: UnavailableReason,
        store: BatchRecords | None = None,
    ) -> Batches:
        """Open the records (`store`; by default a file in the data directory's batch folder)
        and carry every unfinished batch of this process on (after the jobs were resumed)."""
        batches = cls(settings, jobs, ledger, workers, unavailable, store)
        for record in await batches._store.unfinished_here():
            log.info("resuming batch %s", record.batch_id)
            batches._run(record)
        return batches

    async def aclose(self) -> None:
        """Stop the batch tasks (a restart carries the batches on) and release the store."""
        tasks = list(self._tasks.values())
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        self._store.close()

    # ---- the public surface --------------------------------------------------------------

    async def start(
        self, owner: str, pairs: Sequence[Pair], model_id: str, options: dict[str, Any]
    ) -> BatchView:
        """Check every item (a `BatchRefused` names the first bad one), keep the files, and
        return the batch at once; its items start in the background. Nothing is held here."""
        if owner in self._starting or any(r.finished_at is None for r in await self._store.of_owner(owner)):
            raise BatchRefused(ONE_RUNNING)
        self._starting.add(owner)
        try:
            available = (await self._ledger.balance(owner)).available
            checked = await check_batch(
                self._workers,
                pairs,
                model_id,
                options,
                unavailable=self._unavailable,
                max_bytes=self._settings.max_upload_bytes,
                available=available,
            )
            batch_id = secrets.token_urlsafe(16)
            faces, clips = await asyncio.to_thread(
                keep_pairs, self._inputs / batch_id, [p.image for p in pairs], [p.audio for p in pairs]
            )
            record = BatchRecord(
                batch_id=batch_id,
                owner=owner,
                model=model_id,
                options=checked.options,
                created_at=utc_now(),
                items=[
                    BatchItem(number=n, clip=pair.clip, image=face, audio=clip)
                    for n, (pair, face, clip) in enumerate(zip(pairs, faces, clips, strict=True), start=1)
                ],
            )
            try:
                await self._store.save(record)
            except BatchRefused:
                await remove_tree(self._inputs / batch_id)
                raise
        finally:
            self._starting.discard(owner)
        await self._forget_old(owner)
        self._run(record)
        return await self.view(owner, batch_id)

    async def view(self, owner: str, batch_id: str) -> BatchView:
        """The batch now (its jobs' latest snapshots; nothing asked upstream)."""
        return await self._view(await self._owned(owner, batch_id))

    async def latest(self, owner: str) -> BatchView | None:
        """The owner's newest batch, so a reloaded page can show it again."""
        mine = await self._store.of_owner(owner)
        return await self._view(mine[0]) if mine else None

    async def watch(self, owner: str, batch_id: str) -> AsyncIterator[BatchView]:
        """The batch now, then after each change of it or of its jobs' statuses, until finished."""
        record = await self._owned(owner, batch_id)
        while True:
            signal = self._signals.setdefault(batch_id, asyncio.Event())
            run = self._runs.get(batch_id)
            view = await self._view(run.record if run is not None else record)
            yield view
            if view.finished:
                return
            if run is not None:
                await signal.wait()
            else:
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(signal.wait(), REREAD_S)
            record = await self._owned(owner, batch_id)

    async def cancel(self, owner: str, batch_id: str) -> BatchView:
        """Stop what is running, drop what has not started; a finished batch is left as it is.
        A batch another replica runs is asked to stop, and its running jobs are canceled here."""
        record = await self._owned(owner, batch_id)
        run = self._runs.get(batch_id)
        if record.finished_at is None and run is not None:
            await run.cancel()
        elif record.finished_at is None:
            await self._store.ask_cancel(batch_id)
            record = await self._owned(owner, batch_id)  # read after the ask: no item started unseen
            started = [i.job_id for i in record.items if i.state is ItemState.STARTED and i.job_id]
            await asyncio.gather(*(self._cancel_job(owner, job_id) for job_id in started))
        return await self.view(owner, batch_id)

    async def results(self, owner: str, batch_id: str) -> Path | None:
        """One zip with each succeeded item's video and manifest, or None while none succeeded."""
        record = await self._owned(owner, batch_id)
        view = await self._view(record)
        entries = []
        for item in view.items:
            if item.video_path is None or item.job_id is None:
                continue
            manifest = job_manifest(self._jobs.record(owner, item.job_id))
            entries.append(
                ZipEntry(
                    item.number, Path(item.video_path), {"item": item.number, "clip": item.clip, **manifest}
                )
            )
        return await asyncio.to_thread(write_zip, self._zips / f"{batch_id}.zip", entries)

    def job_changed(self, snap: JobSnapshot) -> None:
        """A job transition (the job manager's observer): wake its batch's viewers, if it has one."""
        batch_id = self._batch_of_job.get(snap.job_id)
        if batch_id is not None:
            self._wake(batch_id)

    # ---- internals -----------------------------------------------------------------------

    async def _view(self, record: BatchRecord) -> BatchView:
        """The record with its started items' jobs; a job another replica started just now is
        read from the database."""
        snaps: dict[str, JobSnapshot] = {}
        for item in record.items:
            if item.state is ItemState.STARTED and item.job_id is not None:
                with contextlib.suppress(JobNotFound):
                    snaps[item.job_id] = await self._jobs.look_up(record.owner, item.job_id)
        return batch_view(record, snaps)

    async def _cancel_job(self, owner: str, job_id: str) -> None:
        with contextlib.suppress(JobNotFound):
            await self._jobs.cancel(owner, job_id)

    def _run(self, record: BatchRecord) -> None:
        self._index(record)
        run = BatchRun(record, self._jobs, self._store, self._inputs / record.batch_id, self._changed)
        self._runs[record.batch_id] = run
        task = asyncio.create_task(run.run(), name=f"batch-{record.batch_id}")
        self._tasks[record.batch_id] = task
        task.add_done_callback(lambda done: self._ended(record.batch_id, done))

    def _ended(self, batch_id: str, task: asyncio.Task[None]) -> None:
        self._runs.pop(batch_id, None)
        self._tasks.pop(batch_id, None)
        if not task.cancelled() and task.exception() is not None:
            log.error("batch %s stopped unexpectedly", batch_id, exc_info=task.exception())

    def _changed(self, record: BatchRecord) -> None:
        self._index(record)
        self._wake(record.batch_id)

    def _wake(self, batch_id: str) -> None:
        signal = self._signals.pop(batch_id, None)
        if signal is not None:
            signal.set()

    def _index(self, record: BatchRecord) -> None:
        for item in record.items:
            if item.job_id is not None:
                self._batch_of_job[item.job_id] = record.batch_id

    async def _forget_old(self, owner: str) -> None:
        """Keep the owner's newest finished batches (and none past the jobs' keep time)."""
        cutoff = utc_now() - timedelta(days=self._settings.keep_jobs_days)
        finished = [r for r in await self._store.of_owner(owner) if r.finished_at is not None]
        old = [r for n, r in enumerate(finished) if n >= KEPT_PER_OWNER or r.created_at < cutoff]
        if not old:
            return
        for record in old:
            (self._zips / f"{record.batch_id}.zip").unlink(missing_ok=True)
            for item in record.items:
                if item.job_id is not None:
                    self._batch_of_job.pop(item.job_id, None)
        await self._store.delete([r.batch_id for r in old])

    async def _owned(self, owner: str, batch_id: str) -> BatchRecord:
        record = await self._store.get(batch_id)
        if record is None or record.owner != owner:
            raise BatchNotFound("No such batch for you. Check the batch id.")
        return record
