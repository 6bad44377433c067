"""Mutated real files (flipped, inserted, deleted and cut bytes) never get past the media checks
as anything but a prepared file or a `MediaError` sentence, and never cost a worker more than
the memory bound or a check more than the deadline."""

from __future__ import annotations

import asyncio
import functools
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import get_args

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from demo_app.media import MediaError, MediaErrorCode, MediaWorkers
from tests.media import makers
from tests.media.canary import Canary
from tests.media.conftest import MEMORY_BOUND
from tests.media.hostile import AUDIO_LIMITS, IMAGE_LIMITS
from tests.media.test_refusals import assert_one_readable_sentence

EXAMPLES = 2_000
CODES = set(get_args(MediaErrorCode))


@functools.cache
def seeds() -> dict[str, tuple[str, bytes]]:
    """name -> (kind, bytes): one small real file per format we accept."""
    found: dict[str, tuple[str, bytes]] = {}
    with tempfile.TemporaryDirectory() as folder:
        tmp = Path(folder)
        for name in makers.AUDIO_FORMATS:
            found[name] = ("audio", makers.write_format(tmp, name, 0.8).read_bytes())
        for name, params in {
            "face.png": {},
            "face.jpg": {"quality": 80},
            "face.webp": {"quality": 70},
            "progressive.jpg": {"progressive": True},
        }.items():
            makers.photo((320, 288)).save(tmp / name, **params)
            found[name] = ("image", (tmp / name).read_bytes())
        found["grey16.png"] = ("image", makers.png_16bit_rgb(tmp / "grey16.png", 300, 280).read_bytes())
    return found


@st.composite
def mutated(draw: st.DrawFn) -> tuple[str, str, bytes]:
    name = draw(st.sampled_from(sorted(seeds())))
    kind, original = seeds()[name]
    data = bytearray(original)
    for _ in range(draw(st.integers(1, 8))):
        if not data:
            break
        at = draw(st.integers(0, len(data) - 1))
        action = draw(st.sampled_from(["flip", "set", "insert", "delete", "cut", "repeat"]))
        if action == "flip":
            data[at] ^= 1 << draw(st.integers(0, 7))
        elif action == "set":
            data[at] = draw(st.sampled_from([0x00, 0xFF, 0x7F, 0x80, 0x01]))
        elif action == "insert":
            data[at:at] = draw(st.binary(min_size=1, max_size=64))
        elif action == "delete":
            del data[at : at + draw(st.integers(1, 256))]
        elif action == "cut":
            del data[at:]
        else:
            data[at:at] = data[at : at + draw(st.integers(1, 4096))] * draw(st.integers(1, 8))
    return name, kind, bytes(data)


@pytest.fixture(scope="module")
def loop() -> Iterator[asyncio.AbstractEventLoop]:
    loop = asyncio.new_event_loop()
    yield loop
    loop.close()


@pytest.mark.slow
def test_mutated_files_get_a_sentence_within_the_bounds(
    media_workers: MediaWorkers, canary: Canary, loop: asyncio.AbstractEventLoop
) -> None:
    seeds()
    outcomes: dict[str, int] = {}

    @settings(
        max_examples=EXAMPLES,
        deadline=None,
        database=None,
        suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
    )
    @given(mutated())
    def check(example: tuple[str, str, bytes]) -> None:
        name, kind, data = example
        with tempfile.TemporaryDirectory() as folder:
            src = Path(folder) / f"upload-{name}"
            src.write_bytes(data)
            media_workers.reset_usage()
            try:
                loop.run_until_complete(_prepare(media_workers, kind, src, Path(folder) / "out"))
                outcome = "accepted"
            except MediaError as exc:
                assert exc.code in CODES
                assert exc.code not in {"image_too_slow", "audio_too_slow"}, (name, exc)
                assert_one_readable_sentence(str(exc), src)
                outcome = exc.code
        usage = media_workers.usage()
        assert usage.worst_growth_bytes < MEMORY_BOUND, (name, usage)
        assert usage.worst_seconds < media_workers.deadline_s, (name, usage)
        outcomes[outcome] = outcomes.get(outcome, 0) + 1

    check()
    assert sum(outcomes.values()) >= EXAMPLES
    assert outcomes.get("accepted", 0) > 0 and len(outcomes) > 5, outcomes
    assert canary.requests == []


async def _prepare(workers: MediaWorkers, kind: str, src: Path, out: Path) -> None:
    if kind == "image":
        await workers.prepare_image(src, out, **IMAGE_LIMITS)
    else:
        await workers.prepare_audio(src, out, **AUDIO_LIMITS)
