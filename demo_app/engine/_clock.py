"""The engine's time source: a clock that may run faster than the wall clock.

Every scripted delay (cold start, deadlines, progress pacing, output expiry) goes through a
`Clock`, so a test can play a ten-minute time-out in a fraction of a second with
`ScaledClock(time_scale=600)`. `now()` is *virtual* time: it starts at the real time when the
clock is made and advances `time_scale` times faster, so every timestamp the engine reports
(`created_at`, `deadline`, `metrics`, `expires_at`) agrees with every delay it scripts.
Work that really takes wall time (a render) is measured on the same clock, so its reported
`predict_time` is scaled too.
"""

from __future__ import annotations

import asyncio
import time
from datetime import UTC, datetime, timedelta
from typing import Protocol


class Clock(Protocol):
    """What the engine needs from time: the current instant and a way to wait."""

    def now(self) -> datetime:
        """The current (virtual) time, timezone-aware UTC."""
        ...

    async def sleep(self, seconds: float) -> None:
        """Wait `seconds` of this clock's time."""
        ...


class ScaledClock:
    """Wall-clock time sped up by `time_scale` (1.0 = real time)."""

    def __init__(self, time_scale: float = 1.0) -> None:
        if time_scale <= 0:
            raise ValueError(f"time_scale must be positive, got {time_scale}")
        self.time_scale = time_scale
        self._origin = datetime.now(UTC)
        self._origin_mono = time.monotonic()

    def now(self) -> datetime:
        elapsed = (time.monotonic() - self._origin_mono) * self.time_scale
        return self._origin + timedelta(seconds=elapsed)

    async def sleep(self, seconds: float) -> None:
        await asyncio.sleep(max(0.0, seconds) / self.time_scale)

    def __repr__(self) -> str:
        return f"ScaledClock(time_scale={self.time_scale})"


async def sleep_until(clock: Clock, when: datetime) -> None:
    """Wait until `clock.now() >= when` (a scaled sleep may wake a hair early, so loop)."""
    while (remaining := (when - clock.now()).total_seconds()) > 0:
        await clock.sleep(remaining)


async def wait_event(event: asyncio.Event, clock: Clock, seconds: float) -> bool:
    """Wait for `event` at most `seconds` of clock time; True if it was set."""
    if event.is_set():
        return True
    waiter = asyncio.ensure_future(event.wait())
    timer = asyncio.ensure_future(clock.sleep(seconds))
    try:
        await asyncio.wait({waiter, timer}, return_when=asyncio.FIRST_COMPLETED)
    finally:
        waiter.cancel()
        timer.cancel()
    return event.is_set()
