"""One job in memory: its record, its latest progress, and the viewers waiting for changes.

Viewers never ask upstream: they read the latest snapshot and wait on an event that the
job's single follower sets whenever something a viewer would see has changed. Nothing wakes
them on a timer: the elapsed time is the one field that changes by itself, and each viewer
shows it ticking on its own side (the page in the browser, an API caller from `elapsed_s`).
A change of status wakes viewers at once; progress and logs, which a model may report many
times a second, wake them at most every `PROGRESS_FRAME_S` per job.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable

from demo_app.credits import utc_now
from demo_app.jobs._store import JobRecord
from demo_app.jobs._types import JobSnapshot, JobStatus, ProgressSource
from demo_app.replicate import Prediction

PROGRESS_FRAME_S = 0.25
"""Least time between two wake-ups of one job's viewers when only progress or logs changed."""


class LiveJob:
    """A job's in-memory state; the follower mutates it, viewers read snapshots of it."""

    def __init__(self, record: JobRecord) -> None:
        self.record = record
        self.progress: float | None = None
        self.progress_source: ProgressSource | None = None
        self.processing_since: float | None = None
        self.cancel_requested = asyncio.Event()
        self.settled = asyncio.Event()
        self.settle_lock = asyncio.Lock()
        self.task: asyncio.Task[None] | None = None
        self.place: Callable[[], tuple[int, float] | None] | None = None
        """While the job waits in the create line: its (position, estimated wait in seconds)."""
        self.latest: Prediction | None = None
        """The newest state of the prediction the follower has folded in."""
        self.pushed: Prediction | None = None
        """A newer state delivered by webhook, waiting for the follower."""
        self.pushes = 0
        """Webhooks received for this job: once they arrive, polling slows to a safety net."""
        self.progress_pushed = False
        """The prediction was created to push its logs too (not only its start and end)."""
        self.read_wanted = False
        """The status sweeper saw the prediction change: the follower reads it in full."""
        self.swept_at: float | None = None
        """When the status sweeper last found the prediction in the list (monotonic)."""
        self.news = asyncio.Event()
        """Set when a webhook or the sweeper brings news for the follower, and by a cancel."""
        self.echo: Callable[[], None] | None = None
        """Called at each wake-up of the viewers while this replica follows the job on a shared
        database: tells the other replicas' viewers too (see `_feed`)."""
        self._changed = asyncio.Event()
        self._published_status = record.status
        self._published_at = -PROGRESS_FRAME_S
        self._pending: asyncio.TimerHandle | None = None
        if record.settled:
            self.settled.set()
            self.progress = 1.0 if record.status is JobStatus.SUCCEEDED else None

    @property
    def ended_upstream(self) -> bool:
        """The newest state folded in says the prediction has ended."""
        return self.latest is not None and self.latest.is_terminal

    def snapshot(self) -> JobSnapshot:
        """The job as a viewer sees it now (elapsed is computed at call time)."""
        r = self.record
        end = r.finished_at or utc_now()
        spot = self.place() if self.place is not None else None
        position, eta_s = spot if spot is not None else (None, None)
        return JobSnapshot(
            job_id=r.job_id,
            owner=r.owner,
            model=r.model,
            status=r.status,
            progress=self.progress,
            progress_source=self.progress_source,
            elapsed_s=max(0.0, (end - r.created_at).total_seconds()),
            prediction_id=r.prediction_id,
            log_tail=r.log_tail,
            error=r.error,
            held=r.held,
            charged=r.charged,
            returned=r.returned,
            video_path=r.video_path,
            created_at=r.created_at,
            finished_at=r.finished_at,
            message=r.message,
            queue_position=position,
            eta_s=eta_s,
            group_id=r.group_id,
        )

    def request_cancel(self) -> None:
        """Ask the follower to stop the job; it is woken from its wait for news at once."""
        self.cancel_requested.set()
        self.news.set()

    def publish(self) -> None:
        """Something viewers show has changed: wake them now if the status changed (or the last
        wake-up is old enough), else once `PROGRESS_FRAME_S` has passed since the last one."""
        loop = asyncio.get_running_loop()
        wait = self._published_at + PROGRESS_FRAME_S - loop.time()
        if self.record.status is not self._published_status or wait <= 0:
            self._wake()
        elif self._pending is None:
            self._pending = loop.call_later(wait, self._wake)

    def _wake(self) -> None:
        if self._pending is not None:
            self._pending.cancel()
            self._pending = None
        self._published_status = self.record.status
        self._published_at = asyncio.get_running_loop().time()
        changed, self._changed = self._changed, asyncio.Event()
        changed.set()
        if self.echo is not None:
            self.echo()

    async def watch(self) -> AsyncIterator[JobSnapshot]:
        """The current snapshot, then one per change, ending with the terminal one."""
        while True:
            changed = self._changed
            snap = self.snapshot()
            yield snap
            if snap.terminal:
                return
            await changed.wait()
