"""The worker pool can really abandon a check: at the deadline, on cancel, when the worker
dies or runs out of memory the caller gets a sentence (or its cancel) at once, the worker is
gone, and the next check gets a fresh one."""

from __future__ import annotations

import asyncio
import os
import signal
import time
from collections.abc import AsyncIterator, Callable
from pathlib import Path

import pytest

from demo_app.media import MediaError, MediaWorkers
from tests.media import makers
from tests.media.test_refusals import assert_one_readable_sentence

WorkersFactory = Callable[..., MediaWorkers]


@pytest.fixture
async def make_workers() -> AsyncIterator[WorkersFactory]:
    made: list[MediaWorkers] = []

    def make(**options: object) -> MediaWorkers:
        workers = MediaWorkers(1, **options)  # type: ignore[arg-type]
        made.append(workers)
        return workers

    yield make
    for workers in made:
        await workers.aclose()


@pytest.fixture
def slow_audio(tmp_path: Path) -> Path:
    """Sixteen minutes of 8 kHz sound: counting it takes a few hundred milliseconds."""
    return makers.wav_declaring(
        tmp_path / "long.wav", rate=8_000, channels=1, data=bytes(2 * 8_000 * 16 * 60)
    )


async def warm(workers: MediaWorkers) -> int:
    """Start the worker and return its pid. Neither spawning nor this first check is part of the
    deadline under test: on a loaded machine even a normal check can take longer than 0.05 s."""
    deadline_s, workers.deadline_s = workers.deadline_s, 30.0
    assert await workers.audio_duration(makers.VOICE_WAV) > 12
    workers.deadline_s = deadline_s
    (pid,) = workers.pids()
    return pid


def gone(pid: int) -> bool:
    return not Path(f"/proc/{pid}").exists()


async def test_a_check_past_its_deadline_is_abandoned_and_its_worker_killed(
    make_workers: WorkersFactory, slow_audio: Path
) -> None:
    workers = make_workers(deadline_s=0.05)
    pid = await warm(workers)
    started = time.monotonic()
    with pytest.raises(MediaError) as caught:
        await workers.audio_duration(slow_audio)
    elapsed = time.monotonic() - started
    assert caught.value.code == "audio_too_slow"
    assert str(caught.value).startswith("The audio file took more than 0.05 s to check")
    assert_one_readable_sentence(str(caught.value), slow_audio)
    assert 0.05 <= elapsed < 0.5, elapsed
    assert gone(pid), "the worker (and the core it used) must be freed"
    assert workers.pids() == []
    workers.deadline_s = 30.0  # the next check proves a fresh worker serves it, not how fast
    assert await workers.audio_duration(makers.VOICE_WAV) > 12, "a fresh worker takes over"


async def test_cancelling_the_caller_kills_the_decode(make_workers: WorkersFactory, slow_audio: Path) -> None:
    workers = make_workers(deadline_s=30.0)
    pid = await warm(workers)
    started = time.monotonic()
    with pytest.raises(TimeoutError):
        await asyncio.wait_for(workers.audio_duration(slow_audio), 0.05)
    assert time.monotonic() - started < 0.5
    assert gone(pid)
    assert workers.pids() == []


async def test_a_worker_that_dies_mid_check_becomes_a_sentence(
    make_workers: WorkersFactory, slow_audio: Path
) -> None:
    workers = make_workers(deadline_s=30.0)
    pid = await warm(workers)
    check = asyncio.ensure_future(workers.audio_duration(slow_audio))
    with pytest.raises(TimeoutError):
        await asyncio.wait_for(asyncio.shield(check), 0.05)
    os.kill(pid, signal.SIGKILL)  # what a segfault in a decoder or the OOM killer does
    with pytest.raises(MediaError) as caught:
        await asyncio.wait_for(check, 5.0)
    assert caught.value.code == "audio_check_failed"
    assert_one_readable_sentence(str(caught.value), slow_audio)
    assert await workers.audio_duration(makers.VOICE_WAV) > 12


async def test_a_check_that_needs_more_memory_than_the_cap_is_refused(
    make_workers: WorkersFactory, tmp_path: Path
) -> None:
    workers = make_workers(memory_mb=64)
    await warm(workers)
    width, height = 5000, 4000  # 20 megapixels of RGBA: 80 MB decoded
    row = b"\x00" + b"\xb4\x8c\x78\xff" * width
    src = tmp_path / "big.png"
    src.write_bytes(makers.png_from_rows(width, height, 8, 6, row * height, level=1))
    with pytest.raises(MediaError) as caught:
        await workers.prepare_image(src, tmp_path / "out", min_side=256, max_side=1280, max_bytes=25 * 2**20)
    assert caught.value.code == "image_check_failed"
    assert_one_readable_sentence(str(caught.value), src)
    assert await workers.audio_duration(makers.VOICE_WAV) > 12, "the worker lives on"


async def test_a_worker_yields_the_cores_to_the_event_loop(make_workers: WorkersFactory) -> None:
    pid = await warm(make_workers())
    worker_nice = int(Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[16])
    assert worker_nice == min(19, os.getpriority(os.PRIO_PROCESS, 0) + 10)  # 19 is the lowest priority
