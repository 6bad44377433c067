"""An opt-in probe of the event loop's lag, for load tests (`LIPSYNC_LOOP_LAG_LOG=path`).

Every `every_s` the probe asks to sleep that long and writes how late it woke: the delay every
handler on the loop feels at that moment. One line per sample, `epoch_seconds lag_ms waited_ms`,
appended to the file and flushed once a second, so a benchmark reads it while the app runs or
after. `waited_ms` is how long the loop's thread was ready to run but had no core during the
sample (Linux's `/proc/thread-self/schedstat`; left out elsewhere): on a machine shared with the
load generator, that part of the lag is the machine's, not the app's.

Beside it (`path` + `.gc`) go the garbage collector's pauses of 1 ms or more,
`epoch_seconds generation wall_ms cpu_ms`: a collection stops every thread holding the
interpreter, the loop's included, so a benchmark can tell the collector's share of the lag from
the handlers' (the CPU time says how much of a long pause was waiting for a core).
"""

from __future__ import annotations

import asyncio
import gc
import time
from pathlib import Path
from typing import Any, TextIO

SAMPLE_EVERY_S = 0.1
_FLUSH_EVERY = 10


async def record_loop_lag(path: Path, every_s: float = SAMPLE_EVERY_S) -> None:
    """Sample until cancelled."""
    with path.open("a", encoding="utf-8") as out, GcPauses(Path(f"{path}.gc")):
        samples = 0
        while True:
            asked, waited_before = time.perf_counter(), _waited_ns()
            await asyncio.sleep(every_s)
            lag_ms = max(0.0, time.perf_counter() - asked - every_s) * 1000
            waited_after = _waited_ns()
            waited = (
                f" {(waited_after - waited_before) / 1e6:.2f}"
                if waited_before is not None and waited_after is not None
                else ""
            )
            out.write(f"{time.time():.3f} {lag_ms:.2f}{waited}\n")
            samples += 1
            if samples % _FLUSH_EVERY == 0:
                out.flush()


def _waited_ns() -> int | None:
    """Nanoseconds this thread has spent ready to run without a core, or None where unknown."""
    try:
        return int(Path("/proc/thread-self/schedstat").read_text().split()[1])
    except (OSError, IndexError, ValueError):
        return None


class GcPauses:
    """Write each collection's generation and duration to `path` while inside the block."""

    def __init__(self, path: Path) -> None:
        self._path = path
        self._out: TextIO | None = None
        self._began = 0.0
        self._began_cpu = 0.0

    def __enter__(self) -> GcPauses:
        self._out = self._path.open("a", encoding="utf-8", buffering=1)
        gc.callbacks.append(self._callback)
        return self

    def __exit__(self, *_: object) -> None:
        gc.callbacks.remove(self._callback)
        if self._out is not None:
            self._out.close()

    def _callback(self, phase: str, info: dict[str, Any]) -> None:
        if phase == "start":
            self._began, self._began_cpu = time.perf_counter(), time.thread_time()
        elif self._out is not None:
            took_ms = (time.perf_counter() - self._began) * 1000
            cpu_ms = (time.thread_time() - self._began_cpu) * 1000
            if took_ms >= 1.0:
                self._out.write(f"{time.time():.3f} {info['generation']} {took_ms:.2f} {cpu_ms:.2f}\n")
