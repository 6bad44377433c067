"""How much anyone may upload: per network address per hour, and in total on disk.

Gradio's `/upload` route takes anyone's files, each up to `max_file_size`, with no quota. The
guard asks `admit()` before a request body is read, with the size the request declares (a body
cannot be longer than its `Content-Length`). The disk figure is the cache sweeper's last count of
this app's uploads plus what was admitted since, so it never needs a scan of its own.

Counts live in memory: a restart forgives them, which is fine for a bound on disk and bandwidth
(the sweeper recounts the disk at start-up). The table of addresses is bounded too: when it is
full, windows that ended are dropped, and if none has, the oldest window goes.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass

WINDOW_S = 3600.0
MAX_ADDRESSES = 50_000
MIB = 1024 * 1024


@dataclass
class _Window:
    started: float
    used: int


class UploadQuota:
    """Admits uploads while the sender's hourly allowance and the disk allowance last."""

    def __init__(
        self,
        *,
        per_address_bytes: int,
        disk_bytes: int,
        window_s: float = WINDOW_S,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._per_address = per_address_bytes
        self._disk_limit = disk_bytes
        self._window_s = window_s
        self._clock = clock
        self._windows: dict[str, _Window] = {}
        self._disk_used = 0

    @property
    def disk_used(self) -> int:
        """Bytes of uploads on disk, as far as the quota knows."""
        return self._disk_used

    def counted(self, disk_bytes: int) -> None:
        """The sweeper's fresh count of the uploads on disk."""
        self._disk_used = disk_bytes

    def admit(self, address: str | None, size: int) -> str | None:
        """Count `size` bytes from `address`; None if admitted, else the sentence to answer."""
        if self._disk_used + size > self._disk_limit:
            return "The studio's upload space is full right now; try again in a few minutes."
        now = self._clock()
        key = address or "unknown"
        window = self._windows.get(key)
        if window is None or now - window.started >= self._window_s:
            self._make_room(now)
            window = self._windows[key] = _Window(started=now, used=0)
        if window.used + size > self._per_address:
            wait_min = max(1, round((window.started + self._window_s - now) / 60))
            return (
                f"You have uploaded {_mb(self._per_address)} MB in the last hour, the most one address "
                f"may; try again in {wait_min} minutes."
            )
        window.used += size
        self._disk_used += size
        return None

    def _make_room(self, now: float) -> None:
        if len(self._windows) < MAX_ADDRESSES:
            return
        for key in [k for k, w in self._windows.items() if now - w.started >= self._window_s]:
            del self._windows[key]
        if len(self._windows) >= MAX_ADDRESSES:
            oldest = min(self._windows, key=lambda k: self._windows[k].started)
            del self._windows[oldest]


def _mb(size: int) -> str:
    return f"{size / MIB:g}"
