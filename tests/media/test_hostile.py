"""Every hostile file is refused in a worker with its sentence, within the memory and time
bounds, and no decoder ever reaches out to the network; the largest files we accept stay
within the same bounds."""

from __future__ import annotations

import io
from collections.abc import Callable
from pathlib import Path

import pytest
from PIL import Image

from demo_app.media import MediaError, MediaWorkers
from demo_app.media._image import PIXEL_CAPS, PROGRESSIVE_JPEG_CAP
from tests.media import makers
from tests.media.canary import Canary
from tests.media.conftest import MEMORY_BOUND
from tests.media.hostile import AUDIO_LIMITS, CASES, IMAGE_LIMITS, Hostile
from tests.media.test_refusals import assert_one_readable_sentence


async def check(workers: MediaWorkers, kind: str, src: Path, out: Path) -> object:
    if kind == "image":
        return await workers.prepare_image(src, out, **IMAGE_LIMITS)
    return await workers.prepare_audio(src, out, **AUDIO_LIMITS)


def test_the_corpus_is_large_and_covers_every_extension() -> None:
    assert len(CASES) >= 40
    assert len({case.name for case in CASES}) == len(CASES)
    playlists = {Path(case.file_name).suffix for case in CASES if case.name.startswith("HLS playlist")}
    assert {
        ".m3u8",
        ".wav",
        ".mp3",
        ".flac",
        ".ogg",
        ".m4a",
        ".aac",
        ".webm",
        ".png",
        ".jpg",
        ".webp",
    } <= playlists


@pytest.mark.parametrize("case", CASES, ids=[case.name for case in CASES])
async def test_each_hostile_file_gets_its_sentence_within_the_bounds(
    case: Hostile, media_workers: MediaWorkers, canary: Canary, tmp_path: Path
) -> None:
    src = case.write(tmp_path, canary.url)
    out = tmp_path / "prepared"
    media_workers.reset_usage()
    with pytest.raises(MediaError) as caught:
        await check(media_workers, case.kind, src, out)
    assert caught.value.code == case.code, str(caught.value)
    assert_one_readable_sentence(str(caught.value), src)
    assert not out.exists() or not any(out.iterdir()), "a refused file left something behind"
    usage = media_workers.usage()
    assert usage.checks == 1
    assert usage.worst_growth_bytes < MEMORY_BOUND, usage
    assert usage.worst_seconds < media_workers.deadline_s, usage
    assert canary.requests == [], "a decoder fetched a URL named in the file"


def _image_bytes(image: Image.Image, **params: object) -> bytes:
    buffer = io.BytesIO()
    image.save(buffer, **params)  # type: ignore[arg-type]
    return buffer.getvalue()


def _at(cap: int) -> tuple[int, int]:
    height = int((cap * 3 / 4) ** 0.5)
    return height * 4 // 3, height


def _rgba_png(cap: int) -> bytes:
    return _image_bytes(makers.photo(_at(cap), mode="RGBA"), format="PNG", compress_level=1)


def _rgba_webp(cap: int) -> bytes:
    return _image_bytes(
        makers.photo(_at(cap), mode="RGBA"), format="WEBP", lossless=True, quality=0, method=0
    )


def _jpeg(cap: int, *, progressive: bool) -> bytes:
    return _image_bytes(
        makers.photo(_at(cap)), format="JPEG", quality=85, progressive=progressive, subsampling=0
    )


def _grey16(cap: int) -> bytes:
    width, height = _at(cap)
    row = b"\x00" + b"\x80\x00" * width
    return makers.png_from_rows(width, height, 16, 0, row * height, level=1)


LARGEST: dict[str, Callable[[], bytes]] = {
    "cap.png": lambda: _rgba_png(PIXEL_CAPS["PNG"]),
    "cap.webp": lambda: _rgba_webp(PIXEL_CAPS["WEBP"]),
    "cap.jpg": lambda: _jpeg(PIXEL_CAPS["JPEG"], progressive=False),
    "progressive.jpg": lambda: _jpeg(PROGRESSIVE_JPEG_CAP, progressive=True),
    "grey16.png": lambda: _grey16(PIXEL_CAPS["PNG"]),
}


@pytest.mark.slow
@pytest.mark.parametrize("name", list(LARGEST))
async def test_the_largest_pictures_we_accept_stay_within_the_memory_bound(
    name: str, media_workers: MediaWorkers, tmp_path: Path
) -> None:
    src = tmp_path / name
    src.write_bytes(LARGEST[name]())
    media_workers.reset_usage()
    prepared = await media_workers.prepare_image(src, tmp_path / "out", **IMAGE_LIMITS)
    assert max(prepared.width, prepared.height) == IMAGE_LIMITS["max_side"]
    usage = media_workers.usage()
    assert usage.worst_growth_bytes < MEMORY_BOUND, usage


@pytest.mark.slow
async def test_the_largest_audio_we_accept_stays_within_the_memory_bound(
    media_workers: MediaWorkers, tmp_path: Path
) -> None:
    # 25 MB of 8-channel 192 kHz 16-bit sound: the most samples per second a header may claim.
    seconds = 25 * 1024 * 1024 // (192_000 * 8 * 2)
    tone = (makers.tone(seconds, 192_000) * 32767).astype("<i2")
    data = tone.repeat(8).tobytes()
    src = makers.wav_declaring(tmp_path / "studio.wav", rate=192_000, channels=8, data=data)
    media_workers.reset_usage()
    prepared = await media_workers.prepare_audio(src, tmp_path / "out", **AUDIO_LIMITS)
    assert prepared.duration_s == pytest.approx(seconds, abs=0.01)
    assert media_workers.usage().worst_growth_bytes < MEMORY_BOUND, media_workers.usage()
