"""Clocks for the pacers' tests: minutes of pacing without spending minutes."""

from __future__ import annotations

import asyncio

SETTLE_STEPS = 20
"""Loop turns a sleeper lets pass before the clock jumps, so that callers granted a moment ago
send their requests at that moment rather than after the jump."""


class VirtualTime:
    """A clock that moves only when a pacer sleeps: it jumps straight to the next token."""

    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now

    async def sleep(self, seconds: float) -> None:
        for _ in range(SETTLE_STEPS):
            await asyncio.sleep(0)
        self.now += seconds


class ManualTime(VirtualTime):
    """A clock the test moves (`advance`): sleepers wake only when it has moved far enough."""

    def __init__(self) -> None:
        super().__init__()
        self._moved = asyncio.Event()

    def advance(self, seconds: float) -> None:
        self.now += seconds
        moved, self._moved = self._moved, asyncio.Event()
        moved.set()

    async def sleep(self, seconds: float) -> None:
        until = self.now + seconds
        while self.now < until:
            await self._moved.wait()
