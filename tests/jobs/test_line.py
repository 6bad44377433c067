"""The create line on the whole job stack: first come first served across owners, its place and
estimated wait in each snapshot as it moves, a cancel that leaves at once, a bound that refuses
with the wait, and waiting jobs that hold no running place.

The create budget runs on a clock the test moves (one token every `TOKEN_S` virtual seconds),
so a job leaves the line exactly when the test lets it; everything else is real.
"""

from __future__ import annotations

import asyncio
import math
import time
from collections.abc import Callable
from pathlib import Path

import pytest

from demo_app.engine import CREATES
from demo_app.jobs import JobManager, JobRefused, JobSnapshot, JobStatus, LineFull, OwnerBusy, StudioBusy
from demo_app.media import MediaWorkers
from demo_app.replicate import Pacing, TokenBucket
from tests.jobs.conftest import Stack, StackFactory
from tests.virtual_time import ManualTime

MODEL = "wan-video/wan-2.2-s2v"
CREATES_PER_MIN = 20
BURST = CREATES_PER_MIN // 10
TOKEN_S = 60 / (CREATES_PER_MIN - BURST)


async def paced_stack(make_stack: StackFactory, clock: ManualTime, **overrides: object) -> Stack:
    """A stack whose create budget is spent: no job leaves the line until the clock moves."""
    creates = TokenBucket(CREATES_PER_MIN, clock=clock, sleep=clock.sleep)
    stack = await make_stack("stall", pacing=Pacing(reads=TokenBucket(2400), creates=creates), **overrides)
    for _ in range(BURST):
        await creates.acquire()
    return stack


async def until(
    jobs: JobManager, owner: str, job_id: str, wanted: Callable[[JobSnapshot], bool], within_s: float = 30.0
) -> JobSnapshot:
    """The job's first snapshot that is `wanted` (viewers are woken as the line moves)."""
    async with asyncio.timeout(within_s):
        async for snap in jobs.subscribe(owner, job_id):
            if wanted(snap):
                return snap
    raise AssertionError(f"job {job_id} ended without the wanted snapshot")


def in_line(snap: JobSnapshot) -> bool:
    return snap.queue_position is not None


def creates(stack: Stack) -> int:
    return sum(count for route, count in stack.engine.requests.items() if route in CREATES)


async def join(stack: Stack, owner: str, face: Path, voice: Path) -> JobSnapshot:
    """Start a job and wait until it stands in the line (so joins happen in the order called)."""
    await stack.ledger.open_account(owner)
    started = await stack.jobs.start(owner, str(face), str(voice), MODEL, {})
    return await until(stack.jobs, owner, started.job_id, in_line)


def expected_eta(position: int) -> int:
    return math.ceil(position * TOKEN_S)


async def test_first_come_first_served_across_owners_with_place_and_eta_as_it_moves(
    make_stack: StackFactory, face: Path, voice: Path
) -> None:
    clock = ManualTime()
    stack = await paced_stack(make_stack, clock, max_jobs_total=2, max_jobs_per_owner=2)
    owners = ["browser:ann", "browser:bob", "browser:ann", "browser:cyd"]
    waiting = [await join(stack, owner, face, voice) for owner in owners]

    # Four wait although only two may run: jobs in the line hold no running place.
    assert [s.queue_position for s in waiting] == [1, 2, 3, 4]
    # The first two wait for create tokens only; the last two also for runs to end.
    etas = [s.eta_s or 0.0 for s in waiting]
    assert etas[:2] == [expected_eta(1), expected_eta(2)]
    assert expected_eta(4) < etas[2] < etas[3] < stack.jobs.line().eta_s
    assert all(s.status is JobStatus.QUEUED and "in line" in s.message for s in waiting)
    assert stack.jobs.line().waiting == 4
    # The per-owner limit still counts jobs in the line.
    with pytest.raises(OwnerBusy):
        await stack.jobs.start("browser:ann", str(face), str(voice), MODEL, {})
    assert creates(stack) == 0

    # One token: the first leaves, and everyone behind moves up.
    clock.advance(TOKEN_S)
    first, second, third, fourth = ((owner, snap.job_id) for owner, snap in zip(owners, waiting, strict=True))
    await until(stack.jobs, *first, lambda s: s.prediction_id is not None)
    moved = await until(stack.jobs, *second, lambda s: s.queue_position == 1)
    assert moved.eta_s == expected_eta(1)
    assert stack.jobs.snapshot(*fourth).queue_position == 3

    # Another: the second takes the last running place.
    clock.advance(TOKEN_S)
    await until(stack.jobs, *second, lambda s: s.prediction_id is not None)
    head = await until(stack.jobs, *third, lambda s: s.queue_position == 1)
    assert creates(stack) == 2

    # Tokens to spare now, but both places are taken: the third waits for a run to end, and its
    # estimate says so (a share of a typical run, not a token's few seconds).
    clock.advance(10 * TOKEN_S)
    head = stack.jobs.snapshot(*third)
    assert head.queue_position == 1 and head.eta_s is not None and head.eta_s > TOKEN_S
    with pytest.raises(StudioBusy):
        await stack.jobs.start("browser:dee", str(face), str(voice), MODEL, {})

    # A run ends: its place goes to the head of the line, not to a newcomer.
    await stack.jobs.cancel(*first)
    await until(stack.jobs, *third, lambda s: s.prediction_id is not None)
    started = [s.job_id for s in stack.transitions if s.status is JobStatus.STARTING]
    assert started == [first[1], second[1], third[1]]
    assert stack.jobs.snapshot(*fourth).queue_position == 1
    for owner, job_id in (second, third, fourth):
        await stack.jobs.cancel(owner, job_id)


async def test_a_cancel_while_waiting_releases_the_hold_at_once_and_the_next_moves_up(
    make_stack: StackFactory, face: Path, voice: Path
) -> None:
    clock = ManualTime()
    stack = await paced_stack(make_stack, clock)
    x, y, z = [await join(stack, owner, face, voice) for owner in ("browser:x", "browser:y", "browser:z")]
    assert (await stack.ledger.balance("browser:y")).held == y.held > 0

    began = time.monotonic()
    canceled = await stack.jobs.cancel("browser:y", y.job_id)
    assert time.monotonic() - began < 2.0  # no token, no poll interval to wait for
    assert canceled.status is JobStatus.CANCELED and canceled.queue_position is None
    balance = await stack.ledger.balance("browser:y")
    assert (balance.held, balance.balance) == (0, 1000)
    assert y.job_id not in {hold.ref for hold in await stack.ledger.open_holds()}
    assert stack.jobs.snapshot("browser:z", z.job_id).queue_position == 2
    assert stack.jobs.snapshot("browser:x", x.job_id).queue_position == 1
    assert creates(stack) == 0

    clock.advance(TOKEN_S)
    clock.advance(TOKEN_S)
    await until(stack.jobs, "browser:z", z.job_id, lambda s: s.prediction_id is not None)
    assert creates(stack) == 2  # x and z; never y
    for owner, snap in (("browser:x", x), ("browser:z", z)):
        await stack.jobs.cancel(owner, snap.job_id)


async def test_a_full_line_refuses_with_the_wait_and_holds_nothing(
    make_stack: StackFactory, face: Path, voice: Path
) -> None:
    clock = ManualTime()
    stack = await paced_stack(make_stack, clock, max_line=2)
    waiting = [await join(stack, owner, face, voice) for owner in ("browser:p", "browser:q")]
    await stack.ledger.open_account("browser:r")

    with pytest.raises(JobRefused) as refused:
        await stack.jobs.start("browser:r", str(face), str(voice), MODEL, {})
    assert isinstance(refused.value, LineFull)
    assert str(refused.value) == (
        "2 jobs are already waiting to start, so a new one would wait under a minute; try again later."
    )
    assert refused.value.eta_s == expected_eta(3)
    assert stack.jobs.history("browser:r") == []
    assert {hold.ref for hold in await stack.ledger.open_holds()} == {s.job_id for s in waiting}
    assert (await stack.ledger.balance("browser:r")).held == 0
    for owner, snap in zip(("browser:p", "browser:q"), waiting, strict=True):
        await stack.jobs.cancel(owner, snap.job_id)


async def test_after_a_restart_the_jobs_in_line_take_their_places_back(
    make_stack: StackFactory, face: Path, voice: Path, media_workers: MediaWorkers
) -> None:
    clock = ManualTime()
    stack = await paced_stack(make_stack, clock)
    owners = ["browser:r1", "browser:r2", "browser:r3"]
    waiting = [await join(stack, owner, face, voice) for owner in owners]
    ids = [snap.job_id for snap in waiting]
    await stack.jobs.aclose()  # the process stops: nothing is settled, the holds stay
    assert {hold.ref for hold in await stack.ledger.open_holds()} == set(ids)

    jobs = await JobManager.open(
        settings=stack.settings, client=stack.client, ledger=stack.ledger, media_workers=media_workers
    )
    try:
        for owner, job_id in zip(owners, ids, strict=True):
            await until(jobs, owner, job_id, in_line)
        # Resumed newest first and uploaded again in any order, yet each is back at its place.
        assert [jobs.snapshot(o, j).queue_position for o, j in zip(owners, ids, strict=True)] == [1, 2, 3]
        clock.advance(TOKEN_S)
        resumed = await until(jobs, owners[0], ids[0], lambda s: s.prediction_id is not None)
        assert resumed.status is JobStatus.STARTING and creates(stack) == 1
        for owner, job_id in zip(owners, ids, strict=True):
            assert (await jobs.cancel(owner, job_id)).status is JobStatus.CANCELED
        assert await stack.ledger.open_holds() == []
    finally:
        await jobs.aclose()
