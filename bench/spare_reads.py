"""What the read budget leaves for status reads when a crowd arrives, with the deletes of ended
jobs' uploads in the spare lane or, as before, queued with every other read.

    python -m bench.spare_reads                        # 1,000 visitors at 50 a second, both modes
    python -m bench.spare_reads --visitors 100 --arrivals-per-s 10
    python -m bench.spare_reads --uploads-at-turn      # what-if: upload at the create turn

No app and no network: the real `TokenBucket`s (2,400 reads and 500 creates a minute, the
defaults) on a virtual clock, and a model of what the jobs ask of them without webhooks, taken
from the jobs package: each job uploads its face and voice (2 reads) before it joins the create
line, its prediction starts `--start-s` after the create and runs `--run-s`; its follower reads
it every `poll_interval()` while it runs (the sweeper covers it before), the status sweeper
lists 100 predictions a read from `bulk_reads_from_jobs` followed jobs on and wakes a follower
whose prediction moved on, and an ended job deletes its 2 files. A read is answered at once (no
network time), so the lags are the budget's alone: from a prediction's change (started,
succeeded) to the follower's read that sees it.
"""

from __future__ import annotations

import argparse
import asyncio
import math
import selectors
import statistics
from collections import Counter, deque
from collections.abc import Callable
from dataclasses import dataclass, field

from demo_app.jobs._context import POLL_SHARE, SWEPT_BACKSTOP
from demo_app.jobs._deletes import WORKERS
from demo_app.jobs._sweeper import PAGE_SIZE
from demo_app.replicate import DEFAULT_CREATES_PER_MIN, DEFAULT_READS_PER_MIN, Priority, TokenBucket
from demo_app.settings import Settings

SETTINGS = Settings(_env_file=None)
FILES_PER_JOB = 2


class _Jumping(selectors.DefaultSelector):
    """Never blocks: a wait for the next timer moves the loop's virtual clock to it instead."""

    def __init__(self, clock: list[float]) -> None:
        super().__init__()
        self._clock = clock

    def select(self, timeout: float | None = None) -> list[tuple[selectors.SelectorKey, int]]:
        if timeout:
            self._clock[0] += timeout
        return super().select(0)


class VirtualLoop(asyncio.SelectorEventLoop):
    """An event loop on virtual time: minutes of pacing in a second of CPU."""

    def __init__(self) -> None:
        self._now = [0.0]
        super().__init__(selector=_Jumping(self._now))

    def time(self) -> float:
        return self._now[0]


@dataclass
class Job:
    created: float
    seen: str = "starting"
    swept_at: float | None = None
    read_wanted: bool = False
    news: asyncio.Event = field(default_factory=asyncio.Event)

    def status(self, now: float, start_s: float, run_s: float) -> str:
        if now < self.created + start_s:
            return "starting"
        return "processing" if now < self.created + start_s + run_s else "succeeded"


RANK = {"starting": 0, "processing": 1, "succeeded": 2}


@dataclass
class Crowd:
    visitors: int
    arrivals_per_s: float
    start_s: float
    run_s: float
    spare: bool
    uploads_at_turn: bool = False
    """Upload when the job's create turn comes instead of before it joins the line."""
    reads: TokenBucket = field(init=False)
    creates: TokenBucket = field(init=False)
    now: Callable[[], float] = field(init=False)
    jobs: list[Job] = field(default_factory=list)
    ended: int = 0
    lags: dict[str, list[float]] = field(default_factory=lambda: {"processing": [], "succeeded": []})
    granted: Counter[tuple[str, int]] = field(default_factory=Counter)
    """Reads granted per kind and second."""
    deletes_waiting: int = 0
    most_deletes_waiting: int = 0
    last_delete_s: float = 0.0
    sweep_every: float | None = None
    deletions: deque[int] = field(default_factory=deque)
    deleting: int = 0
    all_deleted: asyncio.Event = field(default_factory=asyncio.Event)
    followed_at: Counter[int] = field(default_factory=Counter)
    """Jobs followed, sampled each second."""

    def __post_init__(self) -> None:
        loop = asyncio.get_running_loop()
        self.now = loop.time
        self.reads = TokenBucket(DEFAULT_READS_PER_MIN, clock=loop.time)
        self.creates = TokenBucket(DEFAULT_CREATES_PER_MIN, clock=loop.time)

    async def read(self, kind: str, priority: Priority = Priority.NORMAL) -> None:
        await self.reads.acquire(priority)
        self.granted[kind, int(self.now())] += 1

    def followed(self) -> int:
        return len(self.jobs) - self.ended

    def poll_interval(self) -> float:
        return max(SETTINGS.poll_interval_s, self.followed() / (self.reads.rate_per_s * POLL_SHARE))

    def follow_interval(self, job: Job) -> float:
        poll = self.poll_interval()
        if job.seen == "processing":
            return poll
        every = self.sweep_every
        if every is not None and job.swept_at is not None and self.now() - job.swept_at < 3 * every:
            return SWEPT_BACKSTOP * max(poll, SETTINGS.webhook_safety_poll_s)
        return poll

    async def visitor(self, n: int) -> None:
        await asyncio.sleep(n / self.arrivals_per_s)
        if not self.uploads_at_turn:
            for _ in range(FILES_PER_JOB):
                await self.read("upload")
        await self.creates.acquire()
        if self.uploads_at_turn:
            for _ in range(FILES_PER_JOB):
                await self.read("upload")
        job = Job(self.now())
        self.jobs.append(job)
        await self.follow(job)
        self.ended += 1
        await self.delete_uploads()

    async def follow(self, job: Job) -> None:
        while job.seen != "succeeded":
            try:
                await asyncio.wait_for(job.news.wait(), self.follow_interval(job))
                woken = True
            except TimeoutError:
                woken = False
            job.news.clear()
            wanted, job.read_wanted = job.read_wanted, False
            if woken and not wanted:
                continue
            await self.read("status")
            now = self.now()
            status = job.status(now, self.start_s, self.run_s)
            if RANK[status] > RANK[job.seen]:
                changed = job.created + self.start_s + (self.run_s if status == "succeeded" else 0.0)
                if status == "succeeded" and job.seen == "starting":
                    self.lags["processing"].append(now - (job.created + self.start_s))
                self.lags[status].append(now - changed)
                job.seen = status

    async def delete_uploads(self) -> None:
        self.deletes_waiting += FILES_PER_JOB
        self.most_deletes_waiting = max(self.most_deletes_waiting, self.deletes_waiting)
        if not self.spare:
            for _ in range(FILES_PER_JOB):
                await self.deleted(Priority.NORMAL)
            return
        self.deletions.append(FILES_PER_JOB)
        while self.deleting < min(WORKERS, len(self.deletions)):
            self.deleting += 1
            asyncio.get_running_loop().create_task(self.delete_worker())

    async def delete_worker(self) -> None:
        while self.deletions:
            for _ in range(self.deletions.popleft()):
                await self.deleted(Priority.SPARE)
        self.deleting -= 1

    async def deleted(self, priority: Priority) -> None:
        await self.read("delete", priority)
        self.deletes_waiting -= 1
        self.last_delete_s = self.now()
        if self.deletes_waiting == 0 and self.ended == self.visitors:
            self.all_deleted.set()

    async def sweeper(self) -> None:
        while self.ended < self.visitors:
            watched = [job for job in self.jobs if job.seen != "succeeded"]
            if len(watched) < SETTINGS.bulk_reads_from_jobs:
                self.sweep_every = None
                await asyncio.sleep(SETTINGS.poll_interval_s)
                continue
            oldest = min(job.created for job in watched)
            listed = [job for job in reversed(self.jobs) if job.created >= oldest]
            for start in range(0, len(listed), PAGE_SIZE):
                await self.read("list page")
                now = self.now()
                for job in listed[start : start + PAGE_SIZE]:
                    job.swept_at = now
                    if RANK[job.status(now, self.start_s, self.run_s)] > RANK[job.seen]:
                        job.read_wanted = True
                        job.news.set()
            pages = math.ceil(len(listed) / PAGE_SIZE)
            self.sweep_every = max(SETTINGS.sweep_interval_s, pages / (self.reads.rate_per_s / 2))
            await asyncio.sleep(self.sweep_every)

    async def sample(self) -> None:
        while True:
            self.followed_at[int(self.now())] = self.followed()
            await asyncio.sleep(1.0)

    async def run(self) -> None:
        loop = asyncio.get_running_loop()
        sampler, sweeper = loop.create_task(self.sample()), loop.create_task(self.sweeper())
        await asyncio.gather(*(self.visitor(n) for n in range(self.visitors)))
        await sweeper
        await self.all_deleted.wait()
        sampler.cancel()


def pct(values: list[float], q: int) -> float:
    if not values:
        return float("nan")
    return statistics.quantiles(values, n=100, method="inclusive")[q - 1] if len(values) > 1 else values[0]


def report(crowd: Crowd) -> None:
    mode = "spare lane" if crowd.spare else "deletes with the polls"
    if crowd.uploads_at_turn:
        mode += ", uploads at the create turn"
    seconds = max(second for _kind, second in crowd.granted) + 1
    busy = [s for s in range(seconds) if crowd.followed_at[s] >= SETTINGS.bulk_reads_from_jobs]

    def per_s(*kinds: str) -> float:
        return sum(crowd.granted[kind, s] for kind in kinds for s in busy) / max(1, len(busy))

    last_create = max(job.created for job in crowd.jobs)
    print(f"\n== {mode}: {crowd.visitors} visitors, {crowd.arrivals_per_s:g}/s ==")
    print(f"  last create at {last_create:.0f} s, last delete at {crowd.last_delete_s:.0f} s")
    print(
        f"  reads/s while {SETTINGS.bulk_reads_from_jobs}+ jobs ran ({len(busy)} s): "
        f"uploads {per_s('upload'):.1f}, status reads + list pages {per_s('status', 'list page'):.1f}, "
        f"deletes {per_s('delete'):.1f}"
    )
    for status, lags in crowd.lags.items():
        print(
            f"  lag to see {status}: p50 {pct(lags, 50):.1f} s, p99 {pct(lags, 99):.1f} s, "
            f"max {max(lags):.1f} s"
        )
    print(f"  deletes waiting at most: {crowd.most_deletes_waiting}")


async def simulate(args: argparse.Namespace, spare: bool) -> Crowd:
    crowd = Crowd(args.visitors, args.arrivals_per_s, args.start_s, args.run_s, spare, args.uploads_at_turn)
    await crowd.run()
    return crowd


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--visitors", type=int, default=1000)
    parser.add_argument("--arrivals-per-s", type=float, default=50.0)
    parser.add_argument("--start-s", type=float, default=3.0)
    parser.add_argument("--run-s", type=float, default=20.0)
    parser.add_argument(
        "--uploads-at-turn",
        action="store_true",
        help="what-if: upload when the create turn comes (the jobs upload before joining the line)",
    )
    args = parser.parse_args()
    for spare in (False, True):
        loop = VirtualLoop()
        try:
            report(loop.run_until_complete(simulate(args, spare)))
        finally:
            loop.close()


if __name__ == "__main__":
    main()
