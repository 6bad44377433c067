"""The body of one media worker process: run checks on request, report what each one cost.

It starts with its memory capped (`RLIMIT_DATA`: the heap and every private writable mapping,
which is where decoders allocate) at what the imports took plus `memory_mb`, so a decode that
balloons fails with MemoryError or dies instead of taking the machine's memory. Every answer
carries the peak resident memory the check added (the kernel's `VmHWM`, reset before each
check) and its CPU time: the figures the tests and `bench/media_hostile.py` hold to the bound.

It also runs at a lower scheduling priority (`NICENESS`): the checks are work a visitor waits a
moment for, while the app's event loop serves every visitor's page, stream and webhook at once;
with a crowd arriving, checks at the same priority took the loop's core (`bench/crowd.py`).
"""

from __future__ import annotations

import contextlib
import os
import resource
import time
from collections.abc import Callable
from dataclasses import dataclass
from multiprocessing.connection import Connection
from pathlib import Path
from typing import Any

from demo_app.media._audio import audio_duration, prepare_audio
from demo_app.media._errors import MediaError
from demo_app.media._faces import draw_faces, frame_picture
from demo_app.media._image import prepare_image
from demo_app.media._video import video_duration

TASKS: dict[str, Callable[..., Any]] = {
    "prepare_image": prepare_image,
    "frame_picture": frame_picture,
    "draw_faces": draw_faces,
    "prepare_audio": prepare_audio,
    "audio_duration": audio_duration,
    "video_duration": video_duration,
}


@dataclass(frozen=True)
class Usage:
    """What one check cost its worker."""

    growth_bytes: int
    """Peak resident memory during the check, above what the worker held when it began."""
    cpu_s: float


NICENESS = 10
"""Added to the worker's nice value: the event loop's process gets a core first when both want one."""


def serve(conn: Connection, memory_mb: int) -> None:
    """Answer `(task, args, kwargs)` requests until the parent closes the pipe."""
    _cap_memory(memory_mb)
    with contextlib.suppress(OSError):
        os.nice(NICENESS)
    conn.send(("ready", status_kb("VmRSS") * 1024))
    while True:
        try:
            name, args, kwargs = conn.recv()
        except EOFError:
            return
        before = status_kb("VmRSS") * 1024
        _reset_peak()
        cpu = time.process_time()
        reply: tuple[Any, ...]
        try:
            reply = ("ok", TASKS[name](*args, **kwargs))
        except MediaError as exc:
            reply = ("refused", exc.code, exc.message)
        except MemoryError:
            reply = ("failed", "MemoryError")
        except Exception as exc:  # a decoder's bug must become a refusal, not a dead worker
            reply = ("failed", type(exc).__name__)
        peak = status_kb("VmHWM") * 1024
        conn.send((reply, Usage(growth_bytes=max(0, peak - before), cpu_s=time.process_time() - cpu)))


def status_kb(field: str, pid: int | str = "self") -> int:
    """A kB figure from /proc/<pid>/status (VmRSS, VmHWM, VmData); 0 when the process is gone."""
    try:
        text = Path(f"/proc/{pid}/status").read_text()
    except OSError:
        return 0
    for line in text.splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1])
    return 0


def _cap_memory(memory_mb: int) -> None:
    limit = status_kb("VmData") * 1024 + memory_mb * 1024 * 1024
    resource.setrlimit(resource.RLIMIT_DATA, (limit, limit))


def _reset_peak() -> None:
    """Make VmHWM start again from the current resident size (Linux: clear_refs 5)."""
    with contextlib.suppress(OSError):
        Path("/proc/self/clear_refs").write_text("5")
