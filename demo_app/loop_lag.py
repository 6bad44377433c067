"""An opt-in probe of the event loop's lag, for load tests (`LIPSYNC_LOOP_LAG_LOG=path`).

Every `every_s` the probe asks to sleep that long and writes how late it woke: the delay every
handler on the loop feels at that moment. One line per sample, `epoch_seconds lag_ms`, appended
to the file and flushed once a second, so a benchmark reads it while the app runs or after.
"""

from __future__ import annotations

import asyncio
import time
from pathlib import Path

SAMPLE_EVERY_S = 0.1
_FLUSH_EVERY = 10


async def record_loop_lag(path: Path, every_s: float = SAMPLE_EVERY_S) -> None:
    """Sample until cancelled."""
    with path.open("a", encoding="utf-8") as out:
        samples = 0
        while True:
            asked = time.perf_counter()
            await asyncio.sleep(every_s)
            lag_ms = max(0.0, time.perf_counter() - asked - every_s) * 1000
            out.write(f"{time.time():.3f} {lag_ms:.2f}\n")
            samples += 1
            if samples % _FLUSH_EVERY == 0:
                out.flush()
