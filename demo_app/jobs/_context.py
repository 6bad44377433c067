"""What every stage of a job shares: the services it calls, the settings it obeys, and the two
ways it reports (persisting a transition; telling viewers and the observer)."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from demo_app.credits import Ledger, utc_now
from demo_app.jobs._live import LiveJob
from demo_app.jobs._store import JobStore
from demo_app.jobs._types import JobSnapshot, JobStatus
from demo_app.media import MediaWorkers
from demo_app.replicate import MIN_CANCEL_AFTER_S, ReplicateClient
from demo_app.settings import Settings


@dataclass
class JobContext:
    """The machinery of every follower; one per job manager."""

    settings: Settings
    store: JobStore
    client: ReplicateClient
    ledger: Ledger
    media: MediaWorkers
    cpu_slots: asyncio.Semaphore
    """CPU-heavy steps (media checks, video probes) share the cores with the page and the engine."""
    followers: Callable[[], int]
    """How many jobs are being followed now (the read budget is shared among them)."""
    observer: Callable[[JobSnapshot], None] | None = None
    hunters: set[asyncio.Task[None]] = field(default_factory=set)
    """Tasks looking for unwanted predictions of ambiguous creates (see `_submit`)."""
    cleanups: set[asyncio.Task[None]] = field(default_factory=set)
    """Tasks deleting the uploaded inputs of ended jobs (see `_uploads`)."""

    @property
    def inputs_dir(self) -> Path:
        return self.settings.data_dir / "inputs"

    @property
    def videos_dir(self) -> Path:
        return self.settings.data_dir / "videos"

    @property
    def cancel_after_s(self) -> float:
        """The deadline sent with each create, so Replicate itself stops a run we lost."""
        return max(MIN_CANCEL_AFTER_S, self.settings.job_timeout_s)

    def poll_interval(self) -> float:
        """Seconds between two polls of one job: the setting, stretched when many jobs run at once
        so that all followers together stay under Replicate's rate limit for reads."""
        return max(self.settings.poll_interval_s, self.followers() / self.settings.max_polls_per_s)

    def past_deadline(self, job: LiveJob) -> bool:
        """True once the job's time-out (counted from the create, else from the job) has passed."""
        r = job.record
        started = (r.create_sent_at or r.created_at).timestamp()
        return utc_now().timestamp() > started + self.settings.job_timeout_s + self.settings.deadline_grace_s

    async def transition(self, job: LiveJob, status: JobStatus, message: str) -> None:
        """Persist a state change, then tell viewers and the observer."""
        job.record.status = status
        job.record.message = message
        await self.store.save(job.record)
        job.publish()
        self.notify(job)

    def notify(self, job: LiveJob) -> None:
        if self.observer is not None:
            self.observer(job.snapshot())
