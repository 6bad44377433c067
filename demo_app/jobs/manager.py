"""The job manager: the server, not the browser, owns every job from the click to settled credits.

One follower task per job however many viewers there are; viewers read snapshots and never
cause upstream requests. On start-up every unsettled job gets its follower back, and any
hold no job can continue is released.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import secrets
from collections import deque
from collections.abc import AsyncIterator, Callable, Coroutine
from datetime import timedelta
from pathlib import Path
from typing import Any

from demo_app import media
from demo_app.catalog import ModelSpec, OptionError, get_model, validate_options
from demo_app.credits import Ledger
from demo_app.jobs import _messages as say
from demo_app.jobs._context import JobContext
from demo_app.jobs._messages import Ending
from demo_app.jobs.live import LiveJob, utc_now
from demo_app.jobs.model import JobNotFound, JobRefused, JobSnapshot, JobStatus, Quote
from demo_app.jobs.runner import JobRunner
from demo_app.jobs.store import JobRecord, JobStore
from demo_app.money import format_credits
from demo_app.replicate import ReplicateClient
from demo_app.settings import Settings

log = logging.getLogger(__name__)

RETENTION_SWEEP_S = 3600.0
REFUSED_KEPT_PER_OWNER = 5
"""Refused jobs live in memory only, so a caller can read why; at most this many per owner."""


class JobManager:
    """Start, watch, cancel and list jobs; recover them after a restart."""

    def __init__(
        self,
        *,
        settings: Settings,
        client: ReplicateClient,
        ledger: Ledger,
        observer: Callable[[JobSnapshot], None] | None = None,
        deadline_grace_s: float = 10.0,
        cancel_wait_s: float = 30.0,
        media_workers: media.MediaWorkers | None = None,
    ) -> None:
        self._settings = settings
        self._client = client
        self._ledger = ledger
        self._observer = observer
        self._deadline_grace_s = deadline_grace_s
        # A cancel answers within this even if settling is slow (a full disk); the job settles later.
        self._cancel_wait_s = cancel_wait_s
        self._jobs: dict[str, LiveJob] = {}
        self._running: set[str] = set()
        self._open_per_owner: dict[str, set[str]] = {}
        self._refused: dict[str, deque[str]] = {}
        self._store: JobStore | None = None
        self._runner: JobRunner | None = None
        self._sweeper: asyncio.Task[None] | None = None
        # CPU-heavy steps (media checks, video probes) share the cores with the page and the engine.
        self._cpu_slots = asyncio.Semaphore(2)
        # Shared workers (tests) are the caller's to close; our own are closed with the manager.
        self._owns_media = media_workers is None
        self.media = media_workers or media.MediaWorkers(
            settings.media_workers, deadline_s=settings.media_deadline_s, memory_mb=settings.media_memory_mb
        )

    # ---- life cycle --------------------------------------------------------------------

    async def open(self) -> None:
        """Load the job records, resume every unsettled job, release orphaned holds."""
        data_dir = self._settings.data_dir
        self._store = JobStore(data_dir / "jobs.json")
        (data_dir / "videos").mkdir(parents=True, exist_ok=True)
        self._runner = JobRunner(
            JobContext(
                settings=self._settings,
                store=self._store,
                client=self._client,
                ledger=self._ledger,
                media=self.media,
                cpu_slots=self._cpu_slots,
                followers=self._running_count,
                deadline_grace_s=self._deadline_grace_s,
                observer=self._observe,
            )
        )
        for record in self._store.all():
            self._jobs[record.job_id] = LiveJob(record)
        await self._recover()
        self._sweeper = asyncio.create_task(self._sweep_forever(), name="jobs-retention")

    async def aclose(self) -> None:
        """Stop following (without settling anything): a restart will carry the jobs on."""
        tasks = [job.task for job in self._jobs.values() if job.task is not None and not job.task.done()]
        if self._sweeper is not None:
            tasks.append(self._sweeper)
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        if self._runner is not None:
            await self._runner.aclose()
        if self._owns_media:
            await self.media.aclose()
        if self._store is not None:
            self._store.close()

    async def _recover(self) -> None:
        runner = self._require_runner()
        for job in self._jobs.values():
            if not job.record.settled:
                log.info("resuming job %s (%s)", job.record.job_id, job.record.status.value)
                self._follow(job, runner.resume(job))
        live = {job_id for job_id, job in self._jobs.items() if not job.record.settled}
        for hold in await self._ledger.open_holds():
            if hold.ref not in live:
                log.warning("releasing orphaned hold %s of %s", hold.ref, hold.owner)
                await self._ledger.release(hold.ref, reason="No job could continue this hold after a restart")

    # ---- the public surface --------------------------------------------------------------

    async def start(
        self,
        owner: str,
        image_path: str,
        audio_path: str,
        model_id: str,
        options: dict[str, Any] | None = None,
    ) -> JobSnapshot:
        """Admit the job and return its first snapshot at once; the rest runs in the background.

        Everything that can be refused cheaply is refused here, before any media work and
        without writing anything: the model, its options, the studio's and the owner's running
        jobs, and a balance that cannot pay even the model's shortest run.
        """
        try:
            spec = get_model(model_id)
            checked = validate_options(spec, options or {})
        except (ValueError, OptionError) as exc:
            raise JobRefused(str(exc)) from None
        balance = await self._ledger.balance(owner)
        # No await from here on: the limits below are checked and taken in one step.
        self._admit(owner, spec, balance.available)
        record = JobRecord(
            job_id=secrets.token_urlsafe(16),
            owner=owner,
            model=model_id,
            options=checked,
            created_at=utc_now(),
            source_image=image_path,
            source_audio=audio_path,
            message=say.CHECKING,
        )
        job = LiveJob(record)
        self._jobs[record.job_id] = job
        self._follow(job, self._require_runner().run(job))
        return job.snapshot()

    def _admit(self, owner: str, spec: ModelSpec, available: int) -> None:
        """JobRefused, with what to do, when this owner may not start a job now."""
        running = self._running_count()
        if running >= self._settings.max_jobs_total:
            raise JobRefused(f"The studio is busy ({running} jobs running); try again in a minute.")
        mine = len(self._open_per_owner.get(owner, ()))
        limit = self._settings.max_jobs_per_owner
        if mine >= limit:
            raise JobRefused(
                f"You already have {mine} job{'s' if mine != 1 else ''} running (the limit is {limit}); "
                "wait for one to finish or cancel it."
            )
        floor = spec.pricing.smallest_charge(media.DEFAULT_MIN_SECONDS)
        if available < floor:
            raise JobRefused(
                f"You have {available:,} credits ({format_credits(available)}) available and the shortest "
                f"{spec.title} run costs {floor:,} ({format_credits(floor)}); wait for your running jobs "
                "to give back what they did not use, or ask the Space's owner for credits."
            )

    def snapshot(self, owner: str, job_id: str) -> JobSnapshot:
        """The job's latest snapshot; no upstream request."""
        return self._owned(owner, job_id).snapshot()

    async def subscribe(
        self, owner: str, job_id: str, *, heartbeat_s: float | None = None
    ) -> AsyncIterator[JobSnapshot]:
        """The current snapshot, then each change, ending with the terminal one."""
        job = self._owned(owner, job_id)
        async for snap in job.watch(heartbeat_s):
            yield snap

    async def wait(self, owner: str, job_id: str) -> JobSnapshot:
        """Wait until the job is settled; its final snapshot."""
        job = self._owned(owner, job_id)
        await job.settled.wait()
        return job.snapshot()

    async def cancel(self, owner: str, job_id: str) -> JobSnapshot:
        """Stop the job upstream and release its hold; a finished job is left as it is."""
        job = self._owned(owner, job_id)
        if not job.record.settled:
            job.cancel_requested.set()
            if job.task is None or job.task.done():
                await self._require_runner().end(job, Ending.CANCELED)
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(asyncio.shield(job.settled.wait()), timeout=self._cancel_wait_s)
        return job.snapshot()

    def history(self, owner: str, limit: int = 50) -> list[JobSnapshot]:
        """The owner's jobs, newest first (refused attempts are not history)."""
        jobs = [
            job
            for job in self._jobs.values()
            if job.record.owner == owner and job.record.status is not JobStatus.REJECTED
        ]
        jobs.sort(key=lambda job: job.record.created_at, reverse=True)
        return [job.snapshot() for job in jobs[:limit]]

    def active_job(self, owner: str) -> JobSnapshot | None:
        """The owner's newest job still running, so a reloaded page can resume it."""
        running = [j for j in self._jobs.values() if j.record.owner == owner and not j.record.settled]
        if not running:
            return None
        return max(running, key=lambda j: j.record.created_at).snapshot()

    async def quote(self, owner: str, model_id: str, image_path: str | None, audio_path: str | None) -> Quote:
        """What Generate would hold now, or why it cannot run yet."""
        try:
            spec = get_model(model_id)
        except ValueError as exc:
            return Quote(ready=False, reason=str(exc), estimate=None, audio_s=None, text=str(exc))
        if not audio_path:
            reason = "Add an audio clip." if image_path else "Add a face image and an audio clip."
            return Quote(ready=False, reason=reason, estimate=None, audio_s=None, text=reason)
        try:
            async with self._cpu_slots:
                audio_s = await self.media.audio_duration(Path(audio_path))
        except media.MediaError as exc:
            return Quote(ready=False, reason=str(exc), estimate=None, audio_s=None, text=str(exc))
        estimate = spec.pricing.estimate(audio_s)
        text = (
            f"≈ {format_credits(estimate)} for {audio_s:.1f} s of audio — held now, charged only on success"
        )
        try:
            media.check_audio_length(audio_s, max_seconds=spec.max_audio_s)
        except media.MediaError as exc:
            return Quote(ready=False, reason=str(exc), estimate=estimate, audio_s=audio_s, text=str(exc))
        balance = await self._ledger.balance(owner)
        if balance.available < estimate:
            reason = (
                f"You have {format_credits(balance.available)} available and this needs"
                f" {format_credits(estimate)}; use a shorter clip or wait for running jobs to finish."
            )
            return Quote(ready=False, reason=reason, estimate=estimate, audio_s=audio_s, text=reason)
        if not image_path:
            return Quote(
                ready=False, reason="Add a face image.", estimate=estimate, audio_s=audio_s, text=text
            )
        return Quote(ready=True, reason="", estimate=estimate, audio_s=audio_s, text=text)

    # ---- retention -----------------------------------------------------------------------

    async def prune(self) -> None:
        """Forget jobs past their keep time and bound the videos' disk use, oldest first."""
        store = self._require_store()
        cutoff = utc_now() - timedelta(days=self._settings.keep_jobs_days)
        finished = [j for j in self._jobs.values() if j.record.settled and j.record.finished_at is not None]
        expired = [j for j in finished if j.record.finished_at is not None and j.record.finished_at < cutoff]
        for job in expired:
            _remove_video(job.record)
            self._jobs.pop(job.record.job_id, None)
        if expired:
            await store.delete([j.record.job_id for j in expired])
        budget = self._settings.max_video_disk_mb * 1024 * 1024
        kept = sorted(
            (j for j in self._jobs.values() if j.record.settled and j.record.video_path),
            key=lambda j: j.record.finished_at or j.record.created_at,
        )
        used = sum(_size(j.record.video_path) for j in kept)
        for job in kept:
            if used <= budget:
                break
            used -= _size(job.record.video_path)
            _remove_video(job.record)
            job.record.message += say.VIDEO_REMOVED
            await store.save(job.record)

    async def _sweep_forever(self) -> None:
        while True:
            try:
                await self.prune()
            except Exception:
                log.exception("retention sweep failed")
            await asyncio.sleep(RETENTION_SWEEP_S)

    # ---- internals -----------------------------------------------------------------------

    def _running_count(self) -> int:
        """Jobs whose follower is still at work."""
        return len(self._running)

    def _follow(self, job: LiveJob, step: Coroutine[Any, Any, None]) -> None:
        """Give the job its one follower task, counted (studio-wide and per owner) while it runs."""
        job_id, owner = job.record.job_id, job.record.owner
        self._running.add(job_id)
        self._open_per_owner.setdefault(owner, set()).add(job_id)
        job.task = asyncio.create_task(step, name=f"job-{job_id}")
        job.task.add_done_callback(lambda _task: self._ended(owner, job_id))

    def _observe(self, snap: JobSnapshot) -> None:
        """Each transition: a settled job frees its owner's slot at once; keep only the owner's
        last few refused jobs; then tell the outside observer."""
        if snap.terminal:
            self._free_slot(snap.owner, snap.job_id)
        if snap.status is JobStatus.REJECTED:
            refused = self._refused.setdefault(snap.owner, deque())
            refused.append(snap.job_id)
            while len(refused) > REFUSED_KEPT_PER_OWNER:
                self._jobs.pop(refused.popleft(), None)
        if self._observer is not None:
            self._observer(snap)

    def _ended(self, owner: str, job_id: str) -> None:
        self._running.discard(job_id)
        self._free_slot(owner, job_id)

    def _free_slot(self, owner: str, job_id: str) -> None:
        open_jobs = self._open_per_owner.get(owner)
        if open_jobs is not None:
            open_jobs.discard(job_id)
            if not open_jobs:
                del self._open_per_owner[owner]

    def _owned(self, owner: str, job_id: str) -> LiveJob:
        job = self._jobs.get(job_id)
        if job is None or job.record.owner != owner:
            raise JobNotFound("No such job for you. Check the job id.")
        return job

    def _require_store(self) -> JobStore:
        if self._store is None:
            raise RuntimeError("JobManager.open() was not awaited")
        return self._store

    def _require_runner(self) -> JobRunner:
        if self._runner is None:
            raise RuntimeError("JobManager.open() was not awaited")
        return self._runner


def _size(path: str | None) -> int:
    if not path:
        return 0
    with contextlib.suppress(OSError):
        return Path(path).stat().st_size
    return 0


def _remove_video(record: JobRecord) -> None:
    if record.video_path:
        Path(record.video_path).unlink(missing_ok=True)
        record.video_path = None
