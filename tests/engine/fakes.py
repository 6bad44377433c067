"""Test doubles for the engine's own seams: a clock moved by hand, and stand-in renderers.

The renderers are top-level functions (or partials of them) because they are pickled into
worker processes, like the real one.
"""

from __future__ import annotations

import asyncio
import os
import time
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any


class ManualClock:
    """A clock that moves only when the test calls `advance`; sleepers wake when their time comes."""

    def __init__(self, start: datetime = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)) -> None:
        self._now = start
        self._sleepers: list[tuple[datetime, asyncio.Future[None]]] = []
        self._new_sleeper = asyncio.Event()

    def now(self) -> datetime:
        return self._now

    async def sleep(self, seconds: float) -> None:
        if seconds <= 0:
            await asyncio.sleep(0)
            return
        wake = asyncio.get_running_loop().create_future()
        self._sleepers.append((self._now + timedelta(seconds=seconds), wake))
        self._new_sleeper.set()
        await wake

    async def sleeping_until(self, *moments: datetime) -> None:
        """Return once something sleeps until each of `moments`, so `advance` past it wakes it.

        Background tasks start their sleeps a little after the request that made them returns;
        advancing before they do would leave them sleeping from the later time.
        """
        while not all(any(when == moment for when, _ in self._sleepers) for moment in moments):
            self._new_sleeper.clear()
            await self._new_sleeper.wait()

    def advance(self, seconds: float) -> None:
        self._now += timedelta(seconds=seconds)
        due = [(when, wake) for when, wake in self._sleepers if when <= self._now]
        self._sleepers = [(when, wake) for when, wake in self._sleepers if when > self._now]
        for _, wake in due:
            if not wake.done():
                wake.set_result(None)


@dataclass(frozen=True)
class FakeReport:
    frames: int
    duration_s: float
    face_found: bool
    face_box: tuple[int, int, int, int] | None


def quick_render(
    image: Path, audio: Path, out: Path, *, fps: int, max_side: int, on_progress: Any
) -> FakeReport:
    """Five progress steps and a small file: for tests about the protocol, not the video."""
    for done in range(1, 6):
        on_progress(done, 5)
    out.write_bytes(b"\x00\x00\x00\x18ftypisom" + image.read_bytes()[:16] + audio.read_bytes()[:16])
    return FakeReport(frames=5, duration_s=0.2, face_found=False, face_box=None)


def slow_render(
    image: Path,
    audio: Path,
    out: Path,
    *,
    fps: int,
    max_side: int,
    on_progress: Any,
    marker: Path,
    frames: int = 100,
) -> FakeReport:
    """`frames` frames of 20 ms work each; `marker` holds how many were drawn (proof a cancel stopped it)."""
    for done in range(1, frames + 1):
        time.sleep(0.02)  # the simulated work of one frame
        marker.write_text(str(done))
        on_progress(done, frames)
    out.write_bytes(b"slow")
    return FakeReport(frames=frames, duration_s=frames / fps, face_found=True, face_box=(1, 2, 3, 4))


def failing_render(
    image: Path, audio: Path, out: Path, *, fps: int, max_side: int, on_progress: Any
) -> FakeReport:
    raise ValueError("The sound could not be decoded: it is not an audio file.")


def crashing_render(
    image: Path, audio: Path, out: Path, *, fps: int, max_side: int, on_progress: Any
) -> FakeReport:
    os._exit(3)  # the worker process dies, as with a segfault in a native library
