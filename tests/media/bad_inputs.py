"""A catalogue of bad uploads, each made for real on the spot, with the refusal it must get.

Used by the media tests (the sentence) and usable by job-level tests (nothing held, nothing
sent): `case.make(tmp_path)` writes the file and returns its path; `case.limits` overrides the
default limits below for the few cases that need a small limit.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
from PIL import Image

from tests.media import makers

MB = 1024 * 1024
IMAGE_LIMITS: dict[str, Any] = {"min_side": 256, "max_side": 1280, "max_bytes": 25 * MB}
AUDIO_LIMITS: dict[str, Any] = {"max_seconds": 60.0, "max_bytes": 25 * MB}


@dataclass(frozen=True)
class Bad:
    """One kind of bad input: how to make it, and what the refusal must say."""

    make: Callable[[Path], Path]
    code: str
    facts: tuple[str, ...]
    limits: dict[str, Any] = field(default_factory=dict)


# --- pictures ------------------------------------------------------------------------------


def _save(image: Image.Image, name: str, **params: Any) -> Callable[[Path], Path]:
    def make(tmp: Path) -> Path:
        path = tmp / name
        image.save(path, **params)
        return path

    return make


def _frames(count: int) -> list[Image.Image]:
    return [makers.photo((300, 300), color=(40 * i, 100, 200)) for i in range(count)]


def _animated(name: str, **params: Any) -> Callable[[Path], Path]:
    first, *rest = _frames(3)
    return _save(first, name, save_all=True, append_images=rest, duration=100, loop=0, **params)


def _bytes(name: str, data: bytes) -> Callable[[Path], Path]:
    def make(tmp: Path) -> Path:
        path = tmp / name
        path.write_bytes(data)
        return path

    return make


def _copy(src: Path, dest: Path) -> Path:
    dest.write_bytes(src.read_bytes())
    return dest


def _truncated_jpeg(tmp: Path) -> Path:
    whole = tmp / "whole.jpg"
    makers.photo((800, 600)).save(whole, quality=95)
    return makers.truncated_copy(whole, tmp / "cut.jpg", 0.5)


BAD_IMAGES = {
    "zero-byte file": Bad(_bytes("face.png", b""), "image_empty", ("0 bytes",)),
    "missing file": Bad(lambda tmp: tmp / "never-uploaded.png", "image_missing", ("did not arrive",)),
    "too many bytes": Bad(
        lambda tmp: makers.FACE_PNG,
        "image_too_large",
        ("356 KB", "limit is 100 KB"),
        {"max_bytes": 100 * 1024},
    ),
    "text file renamed .jpg": Bad(
        _bytes("face.jpg", b"hello, I am not a picture\n" * 40), "image_not_image", ("not a picture",)
    ),
    "audio file renamed .png": Bad(
        lambda tmp: makers.write_format(tmp, "mp3").rename(tmp / "face.png"),
        "image_not_image",
        ("not a picture",),
    ),
    "truncated PNG": Bad(
        lambda tmp: makers.truncated_copy(makers.FACE_PNG, tmp / "cut.png", 0.6),
        "image_corrupt",
        ("damaged",),
    ),
    "truncated JPEG": Bad(_truncated_jpeg, "image_corrupt", ("damaged",)),
    "PNG signature then garbage": Bad(
        _bytes("face.png", b"\x89PNG\r\n\x1a\n" + bytes(range(256)) * 4),
        "image_corrupt",
        ("damaged or incomplete",),
    ),
    "animated GIF": Bad(_animated("wave.gif"), "image_unsupported", ("GIF picture", "PNG, JPEG or WebP")),
    "still GIF": Bad(
        _save(makers.photo((400, 400)).convert("P"), "still.gif"), "image_unsupported", ("GIF",)
    ),
    "BMP": Bad(_save(makers.photo((400, 400)), "screenshot.bmp"), "image_unsupported", ("BMP",)),
    "TIFF": Bad(
        _save(makers.photo((400, 400)), "scan.tiff"), "image_unsupported", ("TIFF", "PNG, JPEG or WebP")
    ),
    "ICO": Bad(_save(makers.photo((256, 256)), "favicon.ico"), "image_unsupported", ("ICO",)),
    "too small": Bad(
        _save(makers.photo((64, 48)), "tiny.png"), "image_too_small", ("64 × 48", "at least 256")
    ),
    "too many pixels": Bad(
        lambda tmp: makers.png_header_only(tmp / "huge.png", 10_000, 6_000),
        "image_too_many_pixels",
        ("10000 × 6000", "60 megapixels", "20 megapixels"),
    ),
    "decompression bomb": Bad(
        lambda tmp: makers.png_header_only(tmp / "bomb.png", 30_000, 30_000),
        "image_too_many_pixels",
        ("20 megapixels",),
    ),
    "too many pixels for a JPEG": Bad(
        lambda tmp: makers.jpeg_header_only(tmp / "huge.jpg", 10_000, 6_000),
        "image_too_many_pixels",
        ("10000 × 6000", "60 megapixels", "50 megapixels"),
    ),
    "long thin banner": Bad(
        _save(makers.photo((2400, 300)), "banner.jpg"), "image_bad_shape", ("2400 × 300", "crop")
    ),
}


# --- audio ---------------------------------------------------------------------------------


def _fmt(name: str, seconds: float = 1.5, amplitude: float = 0.3) -> Callable[[Path], Path]:
    return lambda tmp: makers.write_format(tmp, name, seconds, amplitude=amplitude)


def _hiss(tmp: Path) -> Path:
    """A recording of an empty, quiet room: noise at about -70 dBFS, no speech."""
    noise = 0.0003 * np.random.default_rng(1).standard_normal(96_000)
    return makers.write_audio(tmp / "room.webm", noise, rate=48_000, container="webm", codec="libopus")


def twelve_minutes(tmp: Path) -> Path:
    return makers.write_audio(
        tmp / "podcast.wav", makers.tone(723.0, 8_000), rate=8_000, container="wav", codec="pcm_s16le"
    )


def _garbage_after_id3(tmp: Path) -> Path:
    path = tmp / "song.mp3"
    path.write_bytes(b"ID3\x03\x00\x00\x00\x00\x00\x00" + bytes((i * 7919) % 251 for i in range(20_000)))
    return path


_LOUD = (makers.tone(1.0, 16_000) * 32767).astype("<i2").tobytes()

BAD_AUDIO = {
    "zero-byte file": Bad(_bytes("voice.mp3", b""), "audio_empty", ("0 bytes",)),
    "missing file": Bad(lambda tmp: tmp / "never-recorded.wav", "audio_missing", ("did not arrive",)),
    "too many bytes": Bad(
        lambda tmp: makers.VOICE_WAV,
        "audio_too_large",
        ("546 KB", "limit is 200 KB"),
        {"max_bytes": 200 * 1024},
    ),
    "text file renamed .mp3": Bad(
        _bytes("voice.mp3", b"la la la, this is only text\n" * 50), "audio_not_audio", ("not audio",)
    ),
    "picture renamed .wav": Bad(
        lambda tmp: _copy(makers.FACE_PNG, tmp / "voice.wav"),
        "audio_is_picture",
        ("picture, not a sound recording",),
    ),
    "video without a sound track": Bad(
        lambda tmp: makers.write_video(tmp / "clip.mp4", with_audio=False),
        "audio_no_sound_track",
        ("no sound track",),
    ),
    "truncated M4A": Bad(
        lambda tmp: makers.truncated_copy(makers.write_format(tmp, "m4a", 3.0), tmp / "cut.m4a", 0.5),
        "audio_corrupt",
        ("damaged or incomplete",),
    ),
    "MP3 tag followed by garbage": Bad(_garbage_after_id3, "audio_corrupt", ("damaged or incomplete",)),
    "silent WAV": Bad(_fmt("wav", 2.0, amplitude=0.0), "audio_silent", ("silent throughout",)),
    "silent browser recording (WebM/Opus)": Bad(
        _fmt("webm-opus", 2.0, amplitude=0.0), "audio_silent", ("silent",)
    ),
    "room hiss without speech": Bad(_hiss, "audio_silent", ("silent", "dBFS")),
    "too long (12 min 3 s)": Bad(twelve_minutes, "audio_too_long", ("12 min 3 s", "at most 60 s", "trim")),
    "too long for a short limit (OGG/Opus)": Bad(
        _fmt("ogg-opus", 3.0), "audio_too_long", ("3.0 s", "at most 2 s"), {"max_seconds": 2.0}
    ),
    "too short": Bad(_fmt("mp3", 0.3), "audio_too_short", ("0.3 s", "at least 0.5 s")),
    "WAV declaring 1 Hz": Bad(
        lambda tmp: makers.wav_declaring(tmp / "voice.wav", rate=1, channels=1, data=_LOUD),
        "audio_bad_rate",
        ("1 samples per second", "8–192 kHz"),
    ),
    "WAV declaring 9 channels": Bad(
        lambda tmp: makers.wav_declaring(tmp / "voice.wav", rate=16_000, channels=9, data=_LOUD * 9),
        "audio_bad_channels",
        ("9 channels", "1 to 8"),
    ),
    "HLS playlist": Bad(
        _bytes("voice.m3u8", b"#EXTM3U\n#EXTINF:10,\nhttp://127.0.0.1:9/seg.ts\n#EXT-X-ENDLIST\n"),
        "audio_unsupported",
        ("playlist", "WAV, MP3"),
    ),
    "WAV header with no samples": Bad(
        lambda tmp: makers.write_wav_claiming(tmp / "empty.wav", claimed_s=0.0, actual_s=0.0),
        "audio_too_short",
        ("0.0 s",),
    ),
}
