"""A long line that moves wakes its waiting jobs' viewers in batches at a bounded pace, never all
at once (a thousand viewers woken together hold the event loop every visitor shares)."""

from __future__ import annotations

import asyncio
import contextlib

from demo_app.credits import utc_now
from demo_app.jobs._line import WAKE_BATCH, WAKES_PER_S, CreateLine
from demo_app.jobs._live import LiveJob
from demo_app.jobs._store import JobRecord
from demo_app.jobs._types import JobStatus
from demo_app.replicate import TokenBucket
from tests.virtual_time import ManualTime

WAITING = 3 * WAKE_BATCH + 4
APART_S = WAKE_BATCH / WAKES_PER_S


def _job(number: int) -> LiveJob:
    return LiveJob(
        JobRecord(
            job_id=f"job-{number}",
            owner=f"browser:{number}",
            model="wan-video/wan-2.2-s2v",
            status=JobStatus.QUEUED,
            created_at=utc_now(),
            source_image="face.png",
            source_audio="voice.wav",
        )
    )


def _batches(times: list[float]) -> list[int]:
    """Sizes of the groups of wake-ups closer together than half the pace's spacing."""
    sizes: list[int] = []
    last = None
    for moment in sorted(times):
        if last is None or moment - last > APART_S / 2:
            sizes.append(0)
        sizes[-1] += 1
        last = moment
    return sizes


async def test_a_moving_line_wakes_its_viewers_in_paced_batches() -> None:
    clock = ManualTime()  # never moved: no create token comes, nobody leaves on their own
    creates = TokenBucket(20, clock=clock, sleep=clock.sleep)
    while creates.available() >= 1:
        await creates.acquire()
    line = CreateLine(creates, places=1, occupied=lambda: 1, typical_run_s=20.0)
    jobs = [_job(number) for number in range(WAITING + 1)]
    turns = [asyncio.create_task(line.turn(job, float(number))) for number, job in enumerate(jobs)]
    for _ in range(5):
        await asyncio.sleep(0)
    assert line.not_running() == WAITING + 1

    loop = asyncio.get_running_loop()
    woken: dict[str, float] = {}
    everyone = asyncio.Event()

    def stamp(job: LiveJob) -> None:
        woken.setdefault(job.record.job_id, loop.time())
        if len(woken) == WAITING:
            everyone.set()

    for job in jobs[1:]:
        job.echo = lambda job=job: stamp(job)
    turns[0].cancel()  # the first gives up: everyone behind moves up
    try:
        await asyncio.wait_for(everyone.wait(), timeout=30)
        assert all(job.place is not None for job in jobs[1:])
        sizes = _batches(list(woken.values()))
        assert sum(sizes) == WAITING and max(sizes) <= WAKE_BATCH
        assert len(sizes) >= -(-WAITING // WAKE_BATCH)
        assert max(woken.values()) - min(woken.values()) >= (len(sizes) - 1) * APART_S * 0.9
    finally:
        for turn in turns:
            turn.cancel()
        for turn in turns:
            with contextlib.suppress(asyncio.CancelledError):
                await turn
        await line.aclose()
