"""Settling: end the job and its hold exactly once, whichever path gets there first.

The ledger settles by job id exactly once too, so a second path, a retry or a restart can never
settle twice. A commit the disk refuses is tried again until it lands; viewers are told while it
waits. A refused job (nothing held) is never written to disk: it lives in memory for its viewers.
"""

from __future__ import annotations

import asyncio
import logging

from demo_app.credits import Settlement, UnknownHold, utc_now
from demo_app.jobs import _messages as say
from demo_app.jobs._context import JobContext
from demo_app.jobs._ending import JobEnded
from demo_app.jobs._live import LiveJob
from demo_app.jobs._types import JobStatus, ProgressSource
from demo_app.storage import CommitFailed

log = logging.getLogger(__name__)

RETRY_FIRST_S = 0.2
RETRY_MAX_S = 30.0
"""A failed settlement commit is retried with backoff up to this pause, for as long as the
follower lives; a restart's recovery settles whatever is still open."""


async def settle(ctx: JobContext, job: LiveJob, end: JobEnded) -> None:
    """Settle the hold as `end` says and record the job's end; later calls change nothing."""
    r = job.record
    async with job.settle_lock:
        if r.settled:
            return
        status, why = end.status, end.reason
        s = await _settle_with_retries(ctx, job, end)
        if s is None:
            r.charged, r.returned = 0, 0
        else:
            if s.outcome == "captured" and end.capture is None:
                status, why = JobStatus.SUCCEEDED, "Done"  # settled as a success in an earlier life
            r.held = s.held
            r.charged, r.returned = s.charged, s.returned
        r.status = status
        r.error = None if status is JobStatus.SUCCEEDED else why
        r.message = say.final_message(status, why, r.charged or 0, r.returned or 0)
        if status is JobStatus.SUCCEEDED and job.cancel_requested.is_set():
            r.message = f"{r.message} {say.FINISHED_BEFORE_CANCEL}"
        r.finished_at = utc_now()
        r.prediction_input = None
        r.settled = True
        if status is JobStatus.SUCCEEDED:
            job.progress, job.progress_source = 1.0, job.progress_source or ProgressSource.ESTIMATE
        if status is not JobStatus.REJECTED:
            await ctx.store.save(r)
        job.settled.set()
        job.publish()
        ctx.notify(job)


async def _settle_with_retries(ctx: JobContext, job: LiveJob, end: JobEnded) -> Settlement | None:
    """Capture or release (None when no hold exists: refused before the hold)."""
    r = job.record
    pause = RETRY_FIRST_S
    while True:
        try:
            if end.capture is not None:
                spent = max(end.spent, end.capture)
                return await ctx.ledger.capture(
                    r.job_id, end.capture, reason=f"{r.model}: video delivered", spent=spent
                )
            # Also when nothing is recorded as held: a crash may have come between hold and record.
            return await ctx.ledger.release(r.job_id, reason=end.reason, spent=end.spent)
        except UnknownHold:
            return None
        except CommitFailed as exc:
            log.error("job %s: settling failed, trying again in %.1f s: %s", r.job_id, pause, exc)
            r.message = say.SETTLING_SLOWLY
            job.publish()
            await asyncio.sleep(pause)
            pause = min(pause * 2, RETRY_MAX_S)
