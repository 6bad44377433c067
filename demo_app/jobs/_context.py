"""What every stage of a job shares: the services it calls, the settings it obeys, and the two
ways it reports (persisting a transition; telling viewers and the observer)."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from demo_app.catalog import ModelSpec
from demo_app.credits import Ledger, utc_now
from demo_app.jobs._deletes import UploadDeletions
from demo_app.jobs._line import CreateLine
from demo_app.jobs._live import LiveJob
from demo_app.jobs._store import JobStore
from demo_app.jobs._types import JobSnapshot, JobStatus
from demo_app.media import MediaWorkers
from demo_app.replicate import MIN_CANCEL_AFTER_S, ReplicateClient, Status
from demo_app.settings import Settings
from demo_app.webhooks import WebhookLinks

SWEPT_BACKSTOP = 4
"""A prediction the status sweeper lists is still read on its own this many safety intervals apart."""

POLL_SHARE = 0.8
"""Of the read budget's steady rate, what the followers' polls may use together."""


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
    line: CreateLine
    """Where jobs wait for their create (see `_line`)."""
    deletions: UploadDeletions
    """Where ended jobs' uploaded inputs wait for the spare read budget (see `_deletes`)."""
    observer: Callable[[JobSnapshot], None] | None = None
    hunters: set[asyncio.Task[None]] = field(default_factory=set)
    """Tasks looking for unwanted predictions of ambiguous creates (see `_submit`)."""
    links: WebhookLinks | None = None
    """Webhook addresses when this app is reachable from Replicate; None: polling alone."""
    sweep_every: Callable[[], float | None] = lambda: None
    """Seconds between two sweeps of the status sweeper, or None while it is not sweeping."""
    pushing_progress: Callable[[], int] = lambda: 0
    """How many followed predictions push their logs by webhook now (created, not yet ended)."""

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

    def cancel_after_for(self, spec: ModelSpec, held: int, options: Mapping[str, Any]) -> float:
        """The create's `Cancel-After`: the time-out, or less for a time-billed model, whose hold
        buys only so many seconds at its hardware rate (so the bill cannot pass the hold)."""
        return max(MIN_CANCEL_AFTER_S, spec.cancel_after_s(held, options, self.cancel_after_s))

    def poll_interval(self) -> float:
        """Seconds between two polls of one job: the setting, stretched when many jobs run at once
        so that all followers together use at most `POLL_SHARE` of the read budget (the rest is
        for uploads, cancels and list pages; the client's pacer holds the line either way)."""
        polls_per_s = self.client.pacing.reads.rate_per_s * POLL_SHARE
        return max(self.settings.poll_interval_s, self.followers() / polls_per_s)

    def follow_interval(self, job: LiveJob) -> float:
        """Seconds until a follower reads its prediction unasked.

        A running prediction whose logs are not pushed is read for its progress at the read
        budget's pace. Otherwise reads are only a safety net (an `aborted`, a lost webhook):
        every `webhook_safety_poll_s` once webhooks arrive, and rarer still while the status
        sweeper lists the prediction, since the sweeper wakes the follower when it moves on.
        """
        poll = self.poll_interval()
        latest = job.latest
        running = latest is not None and latest.status is Status.PROCESSING
        if running and not (job.pushes and job.progress_pushed):
            return poll
        safety = max(poll, self.settings.webhook_safety_poll_s)
        every = self.sweep_every()
        if every is not None and job.swept_at is not None and time.monotonic() - job.swept_at < 3 * every:
            return SWEPT_BACKSTOP * safety
        return safety if job.pushes else poll

    def webhook(self, job: LiveJob) -> tuple[str | None, list[str] | None]:
        """The create's `webhook` and `webhook_events_filter`: start and end always; logs and output
        too while fewer than `webhook_progress_max_jobs` predictions push theirs, so one event
        loop takes them all (the job remembers which). Counted are predictions that push now,
        not jobs preparing or waiting in the line: those receive no webhook yet."""
        if self.links is None:
            return None, None
        events = ["start", "completed"]
        job.progress_pushed = self.pushing_progress() < self.settings.webhook_progress_max_jobs
        if job.progress_pushed:
            events += ["output", "logs"]
        return self.links.url_for(job.record.job_id), events

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
