"""Waiting inside a job: one poll step with a cancel and a deadline, and abandonable steps.

Every loop of a follower (following a prediction, looking for one after an ambiguous create,
reading it after a restart) waits through `next_poll()`, so a cancel and the time-out act the
same everywhere.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Awaitable, Callable
from typing import TypeVar

from demo_app.jobs._ending import Canceled, PastDeadline
from demo_app.jobs._live import LiveJob

T = TypeVar("T")


async def next_poll(job: LiveJob, interval: Callable[[], float], past_deadline: Callable[[], bool]) -> None:
    """Wait one poll interval; Canceled as soon as the visitor cancels, PastDeadline once due."""
    if await cancel_within(job, interval()):
        raise Canceled
    if past_deadline():
        raise PastDeadline


async def next_news(job: LiveJob, interval: Callable[[], float], past_deadline: Callable[[], bool]) -> bool:
    """Like `next_poll`, but a webhook or the sweeper may end the wait early: True if one did.

    One event to wait on (a cancel sets it too, see `LiveJob.request_cancel`) and a timer, no
    task: with webhooks this runs after every delivery of every job."""
    news = job.news
    if not news.is_set() and not job.cancel_requested.is_set():
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(interval()):
                await news.wait()
    if job.cancel_requested.is_set():
        raise Canceled
    if past_deadline():
        raise PastDeadline
    woken = news.is_set()
    news.clear()
    return woken


async def cancel_within(job: LiveJob, seconds: float) -> bool:
    """Wait up to `seconds`; True if the visitor asked to cancel meanwhile.

    Not `wait_for`: on Python 3.11 it swallows a cancel of this task (a stop) that comes just
    as the visitor's cancel does, and the follower would carry on."""
    with contextlib.suppress(TimeoutError):
        async with asyncio.timeout(seconds):
            await job.cancel_requested.wait()
    return job.cancel_requested.is_set()


async def interruptible(job: LiveJob, step: Awaitable[T]) -> T:
    """Run a step that is safe to abandon (checks, uploads); a cancel interrupts it (Canceled)."""
    task = asyncio.ensure_future(step)
    waiter = asyncio.ensure_future(job.cancel_requested.wait())
    try:
        done, _ = await asyncio.wait({task, waiter}, return_when=asyncio.FIRST_COMPLETED)
    except asyncio.CancelledError:
        task.cancel()  # the follower itself is stopped (shutdown): the step goes with it
        raise
    finally:
        waiter.cancel()
    if task in done:
        return task.result()
    task.cancel()
    raise Canceled
