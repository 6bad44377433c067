"""Batches: one face (or one per clip) and up to 20 clips, checked whole, run as ordinary jobs.

`start` checks every item before anything is held and answers at once; a `BatchRun` task then
starts the items as the owner's job slots free. Records persist, so a batch can be read after it
ended and is carried on after a restart. Viewers wait on a per-batch change signal that the
batch's own steps and its jobs' transitions set; nothing wakes them on a timer.
"""

from __future__ import annotations

import asyncio
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
from demo_app.batches._store import BatchStore
from demo_app.batches._types import BatchItem, BatchNotFound, BatchRecord, BatchRefused
from demo_app.batches._views import BatchView, batch_view
from demo_app.credits import Ledger, utc_now
from demo_app.jobs import JobManager, JobSnapshot
from demo_app.jobs._manifest import job_manifest
from demo_app.settings import Settings

log = logging.getLogger(__name__)

RECORDS_FILE = "batches.json"
"""The batch records of a single process. A batch is driven by one task in the process that took
it (its items are ordinary jobs), so with several replicas each keeps its own records file
(`replica_records_file`) and carries its own batches on after a restart."""
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
        records: str = RECORDS_FILE,
    ) -> None:
        self._settings = settings
        self._jobs = jobs
        self._ledger = ledger
        self._workers = workers
        self._unavailable = unavailable
        self._inputs = settings.data_dir / "batches"
        self._zips = settings.data_dir / "videos" / "batches"
        self._store = BatchStore(self._inputs / records)
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
        records: str = RECORDS_FILE,
    ) -> Batches:
        """Load the records (the file `records` in the data directory's batch folder) and carry
        every unfinished batch on (after the jobs were resumed)."""
        batches = cls(settings, jobs, ledger, workers, unavailable, records)
        for record in batches._store.all():
            batches._index(record)
            if record.finished_at is None:
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
        if owner in self._starting or any(
            r.owner == owner and r.finished_at is None for r in self._store.all()
        ):
            raise BatchRefused("You already have a batch running; wait for it to finish or cancel it.")
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
            await self._store.save(record)
        finally:
            self._starting.discard(owner)
        await self._forget_old(owner)
        self._run(record)
        return self.view(owner, batch_id)

    def view(self, owner: str, batch_id: str) -> BatchView:
        """The batch now (its jobs' latest snapshots; nothing asked upstream)."""
        return batch_view(self._owned(owner, batch_id), self._jobs)

    def latest(self, owner: str) -> BatchView | None:
        """The owner's newest batch, so a reloaded page can show it again."""
        mine = [r for r in self._store.all() if r.owner == owner]
        return batch_view(mine[0], self._jobs) if mine else None

    async def watch(self, owner: str, batch_id: str) -> AsyncIterator[BatchView]:
        """The batch now, then after each change of it or of its jobs' statuses, until finished."""
        record = self._owned(owner, batch_id)
        while True:
            signal = self._signals.setdefault(batch_id, asyncio.Event())
            view = batch_view(record, self._jobs)
            yield view
            if view.finished:
                return
            await signal.wait()

    async def cancel(self, owner: str, batch_id: str) -> BatchView:
        """Stop what is running, drop what has not started; a finished batch is left as it is."""
        record = self._owned(owner, batch_id)
        run = self._runs.get(batch_id)
        if record.finished_at is None and run is not None:
            await run.cancel()
        return self.view(owner, batch_id)

    async def results(self, owner: str, batch_id: str) -> Path | None:
        """One zip with each succeeded item's video and manifest, or None while none succeeded."""
        record = self._owned(owner, batch_id)
        view = batch_view(record, self._jobs)
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
            self._changed(batch_id)

    # ---- internals -----------------------------------------------------------------------

    def _run(self, record: BatchRecord) -> None:
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

    def _changed(self, batch_id: str) -> None:
        record = self._store.get(batch_id)
        if record is not None:
            self._index(record)
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
        finished = [r for r in self._store.all() if r.owner == owner and r.finished_at is not None]
        old = [r for n, r in enumerate(finished) if n >= KEPT_PER_OWNER or r.created_at < cutoff]
        if not old:
            return
        for record in old:
            (self._zips / f"{record.batch_id}.zip").unlink(missing_ok=True)
            for item in record.items:
                if item.job_id is not None:
                    self._batch_of_job.pop(item.job_id, None)
        await self._store.delete([r.batch_id for r in old])

    def _owned(self, owner: str, batch_id: str) -> BatchRecord:
        record = self._store.get(batch_id)
        if record is None or record.owner != owner:
            raise BatchNotFound("No such batch for you. Check the batch id.")
        return record


def replica_records_file(replica: str) -> str:
    """The records file of one replica sharing the data directory with others (its name made safe)."""
    safe = "".join(c if c.isalnum() or c in "-_." else "_" for c in replica)[:64] or "replica"
    return f"batches-{safe}.json"
