"""The create line: jobs whose inputs are uploaded wait here for their create, first come first
served across owners.

A job leaves the line when it is the next one, a running place is free (jobs in the line do
not count against `max_jobs_total`) and the create budget grants a token. The next job's place
is reserved the moment one frees (synchronously, before any new Generate can take it), so
newcomers never overtake the line. A job that gives up (cancel) leaves at once and the ones
behind move up. Places are ordered by when a job first joined (persisted), so a job resumed
after a restart takes its old place back ahead of everyone who came later.

Each job's place and estimated wait are computed when its snapshot is taken; as the line
moves, the waiting jobs' viewers are woken at a bounded pace (`WAKES_PER_S` together).
"""

from __future__ import annotations

import asyncio
import bisect
import itertools
import math
import time
from collections.abc import Callable
from dataclasses import dataclass, field

from demo_app.jobs._live import LiveJob
from demo_app.jobs._types import LineView
from demo_app.replicate import Pacer

WAKES_PER_S = 200.0
"""Viewer wake-ups per second, all waiting jobs together, as the line moves; a short line is
refreshed every `REFRESH_S`, a long one less often."""
REFRESH_S = 1.0
RUN_TIME_WEIGHT = 0.2
"""Weight of each newly measured run time in the running average the estimate uses."""


@dataclass(order=True)
class _Entry:
    key: tuple[float, int]
    job: LiveJob = field(compare=False)
    reserved: asyncio.Future[None] = field(compare=False)
    present: bool = field(default=True, compare=False)
    """False while a resumed job's place is kept for it (it is uploading its inputs again)."""


class CreateLine:
    """The one create line of a job manager (in-process, like the buckets it draws from)."""

    def __init__(
        self,
        creates: Pacer,
        *,
        bound: int,
        places: int,
        occupied: Callable[[], int],
        typical_run_s: float,
    ) -> None:
        self._creates = creates
        self._bound = bound
        self._places = places
        self._occupied = occupied
        self._run_s = typical_run_s
        self._entries: list[_Entry] = []
        self._by_job: dict[str, _Entry] = {}
        self._reserved: _Entry | None = None
        self._left_at: dict[str, float] = {}
        self._numbers = itertools.count()
        self._refresh: asyncio.TimerHandle | None = None

    # ---- what the manager asks ------------------------------------------------------------

    @property
    def full(self) -> bool:
        """True when a new job may not join (the visitor reads how long the wait would be)."""
        return len(self._entries) >= self._bound

    def not_running(self) -> int:
        """Jobs in the line that do not hold a running place (the reserved next one does)."""
        return len(self._entries) - (self._reserved is not None)

    def outlook(self) -> LineView:
        """How long the line is now, and about how long a job joining it would wait."""
        waiting = len(self._entries)
        return LineView(waiting=waiting, eta_s=self._eta(waiting + 1))

    def place_freed(self) -> None:
        """A running job ended: hand its place to the next in line before anyone else sees it."""
        self._advance()

    def keep_place(self, job: LiveJob, joined_at: float) -> None:
        """Hold the place of a job resumed after a restart until it comes back to the line, so
        the order is the original one whatever order the resumed jobs finish uploading in."""
        self._insert(job, joined_at, present=False)

    def forget(self, job_id: str) -> None:
        """The job ended without coming back to its kept place: free it."""
        entry = self._by_job.get(job_id)
        if entry is not None and not entry.present:
            self._leave(entry)

    def ran(self, job_id: str) -> None:
        """A job that came through the line ended: fold its run time into the estimate."""
        left = self._left_at.pop(job_id, None)
        if left is not None:
            self._run_s += RUN_TIME_WEIGHT * (max(0.0, time.monotonic() - left) - self._run_s)

    # ---- what a job does --------------------------------------------------------------------

    async def turn(self, job: LiveJob, joined_at: float) -> None:
        """Wait for this job's create: its place, then a running place, then a create token.

        When it returns the token is taken (pass `prepaid=True` to the create); canceled, it
        leaves the line and takes nothing.
        """
        entry = self._by_job.get(job.record.job_id) or self._insert(job, joined_at, present=True)
        entry.present = True
        job.publish()
        self._advance()
        try:
            await entry.reserved
            await self._creates.acquire()
            self._left_at[job.record.job_id] = time.monotonic()
        finally:
            self._leave(entry)

    # ---- internals --------------------------------------------------------------------------

    def _insert(self, job: LiveJob, joined_at: float, *, present: bool) -> _Entry:
        future = asyncio.get_running_loop().create_future()
        entry = _Entry((joined_at, next(self._numbers)), job, future, present)
        bisect.insort(self._entries, entry)
        self._by_job[job.record.job_id] = entry
        job.place = lambda: self._place_of(entry)
        return entry

    def _advance(self) -> None:
        """Reserve a running place for the first job, if it is here, one is free and none is
        reserved: strictly one at a time, in order."""
        if self._reserved is not None or not self._entries:
            return
        head = self._entries[0]
        if not head.present or head.reserved.done() or self._occupied() >= self._places:
            return
        self._reserved = head
        head.reserved.set_result(None)

    def _leave(self, entry: _Entry) -> None:
        index = bisect.bisect_left(self._entries, entry)
        if index < len(self._entries) and self._entries[index] is entry:
            del self._entries[index]
        self._by_job.pop(entry.job.record.job_id, None)
        entry.job.place = None
        if not entry.reserved.done():
            entry.reserved.cancel()
        if self._reserved is entry:
            self._reserved = None
        self._advance()
        self._moved()

    def _place_of(self, entry: _Entry) -> tuple[int, float]:
        position = bisect.bisect_left(self._entries, entry) + 1
        return position, self._eta(position)

    def _eta(self, position: int) -> float:
        """Seconds until the job at `position` leaves: the slower of the create tokens it must
        wait for, and the running places that must free for the ones ahead of it."""
        tokens = max(0.0, position - self._creates.available()) / self._creates.rate_per_s
        needing = position - (self._reserved is not None)  # the next one holds its place already
        free = self._places - self._occupied()
        places = max(0, needing - free) * self._run_s / self._places
        return math.ceil(max(tokens, places))

    def _moved(self) -> None:
        """Wake the waiting jobs' viewers soon (once per refresh, however many moved)."""
        if self._refresh is not None or not self._entries:
            return
        delay = max(REFRESH_S, len(self._entries) / WAKES_PER_S)
        self._refresh = asyncio.get_running_loop().call_later(delay, self._wake_all)

    def _wake_all(self) -> None:
        self._refresh = None
        for entry in self._entries:
            entry.job.publish()

    def close(self) -> None:
        """Stop the pending wake-up (the manager is closing)."""
        if self._refresh is not None:
            self._refresh.cancel()
            self._refresh = None
