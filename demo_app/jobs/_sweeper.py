"""The status sweeper: many followed predictions' statuses read in bulk through the list endpoint.

With many jobs running, one GET per job per poll spends the read budget on answers that mostly
say "no change". The list endpoint returns up to 100 predictions per request (statuses, not
always logs), so one sweeper reads them page by page and wakes only the followers whose
prediction moved on; a follower then reads its own prediction in full. A queued prediction has
no progress to show, so while the sweeper covers it its follower reads it only as a safety net;
a running one is still read for its logs at the budget's pace. The sweep spends at most half the
read budget; every request goes through `ReplicateClient`, which paces them.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import math
import time
from collections.abc import Callable, Iterable

from demo_app.jobs._live import LiveJob
from demo_app.jobs._upstream import status_rank
from demo_app.replicate import CREATE_CLOCK_MARGIN, ReplicateClient, ReplicateError
from demo_app.settings import Settings

log = logging.getLogger(__name__)

PAGE_SIZE = 100
"""Predictions per list page on Replicate."""
PUSHED_SWEEPS = 3
"""Sweeps per safety interval while every watched job receives webhooks."""
EXTRA_SCANNED = 300
"""Listed predictions a sweep may read beyond ours (the list is account-wide) before it stops."""


class StatusSweeper:
    """Reads the statuses of the followed predictions in bulk while there are enough of them."""

    def __init__(
        self, client: ReplicateClient, settings: Settings, followed: Callable[[], Iterable[LiveJob]]
    ) -> None:
        self._client = client
        self._settings = settings
        self._followed = followed
        self._every: float | None = None

    def every(self) -> float | None:
        """Seconds between two sweeps, or None while too few jobs run to sweep."""
        return self._every

    async def run(self) -> None:
        """Sweep for ever (cancel to stop); idle while fewer than `bulk_reads_from_jobs` are followed."""
        while True:
            watched = self.watched()
            if len(watched) < self._settings.bulk_reads_from_jobs:
                if self._every is not None:
                    self._every = None
                    _uncover(watched)
                await asyncio.sleep(self._settings.poll_interval_s)
                continue
            try:
                scanned = await self.sweep(watched)
            except ReplicateError as exc:
                log.warning("status sweep failed: %s", exc)
                _uncover(watched)
                scanned = len(watched)
            self._every = self.interval(watched, scanned)
            await asyncio.sleep(self._every)

    def interval(self, watched: list[LiveJob], scanned: int) -> float:
        """Every `sweep_interval_s`, within half the read budget. Only while every watched job
        pushes all its changes (logs too) is the sweep a safety net, a few times per
        `webhook_safety_poll_s`: `start` and `completed` alone do not tell when a prediction
        goes from starting to processing, so those jobs still need the sweep to see it."""
        pages = math.ceil(max(1, scanned) / PAGE_SIZE)
        every = max(self._settings.sweep_interval_s, pages / (self._client.pacing.reads.rate_per_s / 2))
        if all(job.pushes and job.progress_pushed for job in watched):
            every = max(every, self._settings.webhook_safety_poll_s / PUSHED_SWEEPS)
        return every

    def watched(self) -> list[LiveJob]:
        """Followed jobs whose prediction is known and not yet seen ending."""
        return [
            job
            for job in self._followed()
            if job.record.prediction_id is not None
            and job.record.create_sent_at is not None
            and not job.ended_upstream
        ]

    async def sweep(self, jobs: list[LiveJob]) -> int:
        """One pass over the list, newest first, until every job was seen; returns how many were read.

        A job the pass did not find is no longer covered: its follower is woken to read on its own.
        """
        waiting = {job.record.prediction_id: job for job in jobs}
        sent = [job.record.create_sent_at for job in jobs if job.record.create_sent_at is not None]
        since = min(sent) - CREATE_CLOCK_MARGIN
        cap = len(waiting) + EXTRA_SCANNED
        scanned = 0
        now = time.monotonic()
        pages = self._client.list_predictions(created_after=since)
        async with contextlib.aclosing(pages):
            async for listed in pages:
                scanned += 1
                job = waiting.pop(listed.id, None)
                if job is not None:
                    job.swept_at = now
                    latest = job.latest
                    if latest is None or status_rank(listed.status) > status_rank(latest.status):
                        job.read_wanted = True
                        job.news.set()
                if not waiting or scanned >= cap:
                    break
        _uncover(list(waiting.values()))
        return scanned


def _uncover(jobs: list[LiveJob]) -> None:
    """These followers wait on the sweeper no more: wake them to choose their own pace again."""
    for job in jobs:
        if job.swept_at is not None:
            job.swept_at = None
            job.news.set()
