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

On PostgreSQL (`places`) every replica has a line of its own, joined into one by the database:
a job's place counts the waiting jobs of every replica that joined before it, the running
places are the deployment's, and a replica's first job takes a free one only when no job of
another replica is in the line since earlier, and it stays in the line until it has its create
token (`SharedPlaces.look`, `left_line`). So running places and create tokens go first come
first served across replicas, in the order of the times the jobs joined as their replicas'
clocks tell them (two replicas' jobs joined at the very same instant may go in either order).
A replica learns that an earlier job elsewhere left the line or that a running place freed by
looking again every `LOOK_S` while its first job waits (at once for its own line), so a turn
that passes from one replica to another costs up to `LOOK_S`; the shared create budget keeps
refilling meanwhile, so no create is lost. Places and estimates shown are at most `REFRESH_S`
old.
"""

from __future__ import annotations

import asyncio
import bisect
import contextlib
import itertools
import logging
import math
import time
from collections.abc import Callable
from dataclasses import dataclass, field

from demo_app.jobs._live import LiveJob
from demo_app.jobs._places import LineState, PlaceCounts, SharedPlaces, admitted
from demo_app.jobs._store import JobRecord
from demo_app.jobs._types import LineView
from demo_app.replicate import Pacer

log = logging.getLogger(__name__)

WAKES_PER_S = 200.0
"""Viewer wake-ups per second, all waiting jobs together, as the line moves; a short line is
refreshed every `REFRESH_S`, a long one less often."""
WAKE_BATCH = 10
"""Viewers woken together; the batches follow each other at `WAKES_PER_S`. Woken all at once,
the viewers of a line of 500 held the event loop for 100 to 270 ms each time (`bench/crowd.py`)."""
REFRESH_S = 1.0
RUN_TIME_WEIGHT = 0.2
"""Weight of each newly measured run time in the running average the estimate uses."""
LOOK_S = 0.2
"""With several replicas: how often a replica whose first job waits asks the database again."""


@dataclass(order=True)
class _Entry:
    key: tuple[float, int]
    job: LiveJob = field(compare=False)
    reserved: asyncio.Future[None] = field(compare=False)
    present: bool = field(default=True, compare=False)
    """False while a resumed job's place is kept for it (it is uploading its inputs again)."""


class CreateLine:
    """The one create line of a job manager (in-process; on PostgreSQL one of the deployment's)."""

    def __init__(
        self,
        creates: Pacer,
        *,
        places: int,
        occupied: Callable[[], int],
        typical_run_s: float,
        places_shared: SharedPlaces | None = None,
    ) -> None:
        self._creates = creates
        self._places = places
        self._occupied = occupied
        self._run_s = typical_run_s
        self._entries: list[_Entry] = []
        self._by_job: dict[str, _Entry] = {}
        self._reserved: _Entry | None = None
        self._left_at: dict[str, float] = {}
        self._numbers = itertools.count()
        self._refresh: asyncio.Task[None] | None = None
        self._stale = False
        """The line moved since the current round of wake-ups began taking its snapshot."""
        self._shared = places_shared
        self._seen = LineState(PlaceCounts(occupied=0, waiting=0))
        """The deployment's line at the last look (other replicas' waiting jobs; places in use)."""
        self._look_again = asyncio.Event()
        self._looking: asyncio.Task[None] | None = None

    # ---- what the manager asks ------------------------------------------------------------

    def not_running(self) -> int:
        """Jobs in the line that do not hold a running place (the reserved next one does)."""
        return len(self._entries) - (self._reserved is not None)

    def outlook(self) -> LineView:
        """How long the line is now, and about how long a job joining it would wait."""
        self._start_looking()
        waiting = len(self._entries) + len(self._seen.others_joined)
        return LineView(waiting=waiting, eta_s=self._eta(waiting + 1))

    def place_elsewhere(self, job: LiveJob) -> None:
        """Show the place of a job another replica follows while its record says it waits."""
        self._start_looking()
        job.place = lambda: self._place_elsewhere(job.record)

    def _place_elsewhere(self, record: JobRecord) -> tuple[int, float] | None:
        if record.settled or record.line_joined_at is None or record.create_sent_at is not None:
            return None
        joined = record.line_joined_at.timestamp()
        here = sum(entry.key[0] < joined for entry in self._entries)
        position = bisect.bisect_left(self._seen.others_joined, joined) + here + 1
        return position, self._eta(position)

    def eta_at(self, position: int) -> float:
        """About how long a job at `position` in the line would wait."""
        return self._eta(position)

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
        try:
            if self._shared is not None:
                r = job.record
                await self._shared.join_line(admitted(r.job_id, r.owner, r.group_id), joined_at)
            self._advance()
            await entry.reserved
            await self._creates.acquire()
            self._left_at[job.record.job_id] = time.monotonic()
            if self._shared is not None:
                await self._shared.left_line(job.record.job_id)
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
        reserved: strictly one at a time, in order (on PostgreSQL the database decides: look)."""
        head = self._head()
        if head is None:
            return
        if self._shared is not None:
            self._start_looking()
            self._look_again.set()
            return
        if self._occupied() >= self._places:
            return
        self._grant(head)

    def _head(self) -> _Entry | None:
        """The first job, if it is here and waits for its running place (none reserved yet)."""
        if self._reserved is not None or not self._entries:
            return None
        head = self._entries[0]
        return head if head.present and not head.reserved.done() else None

    def _grant(self, head: _Entry) -> None:
        self._reserved = head
        head.reserved.set_result(None)

    def _start_looking(self) -> None:
        if self._shared is not None and (self._looking is None or self._looking.done()):
            self._looking = asyncio.get_running_loop().create_task(self._look_forever(), name="create-line")

    async def _look_forever(self) -> None:
        """Ask the database for this replica's first job's running place (every `LOOK_S` while it
        waits, at once when this line moves) and keep the deployment's line for the estimates."""
        assert self._shared is not None
        while True:
            self._look_again.clear()
            head = self._head()
            try:
                seen = await self._shared.look(
                    head.job.record.job_id if head is not None else None,
                    head.key[0] if head is not None else 0.0,
                    self._places,
                )
            except Exception:
                log.warning("the create line could not read the database; trying again", exc_info=True)
                seen = None
            if seen is not None:
                moved = seen.others_joined != self._seen.others_joined
                self._seen = seen
                if seen.reserved and head is not None and head is self._head():
                    self._grant(head)
                if moved:
                    self._moved()
            waits = head is not None and (seen is None or not seen.reserved)
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._look_again.wait(), LOOK_S if waits else REFRESH_S)

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
        earlier_elsewhere = bisect.bisect_left(self._seen.others_joined, entry.key[0])
        position = bisect.bisect_left(self._entries, entry) + 1 + earlier_elsewhere
        return position, self._eta(position)

    def _eta(self, position: int) -> float:
        """Seconds until the job at `position` leaves: the slower of the create tokens it must
        wait for, and the running places that must free for the ones ahead of it."""
        tokens = max(0.0, position - self._creates.available()) / self._creates.rate_per_s
        needing = position - (self._reserved is not None)  # the next one holds its place already
        occupied = self._occupied() if self._shared is None else self._seen.counts.occupied
        free = self._places - occupied
        places = max(0, needing - free) * self._run_s / self._places
        return math.ceil(max(tokens, places))

    def _moved(self) -> None:
        """Wake the waiting jobs' viewers soon (once per round, however many moved)."""
        self._stale = True
        if self._refresh is None and self._entries:
            self._refresh = asyncio.get_running_loop().create_task(self._wake_rounds(), name="line-wakes")

    async def _wake_rounds(self) -> None:
        """Rounds of wake-ups, at most one per `REFRESH_S`, while the line keeps moving: each wakes
        every waiting job's viewers, `WAKE_BATCH` at a time at `WAKES_PER_S`."""
        loop = asyncio.get_running_loop()
        began = loop.time()
        try:
            while self._stale and self._entries:
                await asyncio.sleep(max(0.0, began + REFRESH_S - loop.time()))
                began = loop.time()
                self._stale = False
                waiting = list(self._entries)
                for start in range(0, len(waiting), WAKE_BATCH):
                    if start:
                        await asyncio.sleep(WAKE_BATCH / WAKES_PER_S)
                    for entry in waiting[start : start + WAKE_BATCH]:
                        entry.job.publish()
        finally:
            self._refresh = None

    async def aclose(self) -> None:
        """Stop the pending wake-up and the looking (the manager is closing)."""
        if self._refresh is not None:
            self._refresh.cancel()
            await asyncio.gather(self._refresh, return_exceptions=True)
        if self._looking is not None:
            self._looking.cancel()
            await asyncio.gather(self._looking, return_exceptions=True)
