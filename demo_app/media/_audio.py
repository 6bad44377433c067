"""Speech: decode for real with FFmpeg (PyAV), measure it, hand on a mono 16-bit WAV.

The length that counts is the one the decoded samples add up to: browser recordings (WebM/Opus
from MediaRecorder) often carry no duration at all, and headers of cut files still claim the
original length. Files are opened by content, never by name, so an extension cannot mislead
the probe.
"""

from __future__ import annotations

import math
import wave
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import av
import av.error
import numpy as np
from PIL import Image, UnidentifiedImageError

from demo_app.media._errors import MediaError, duration_text, limit_text
from demo_app.media._files import check_file, new_path
from demo_app.media._sniff import head, looks_like_audio

DEFAULT_MIN_SECONDS = 0.5
"""Shorter than this there is no word to lip-sync."""

SILENCE_DBFS = -50.0
"""The loudest 50 ms of a recording must reach this level; a quiet room with no speech stays
well below (-60 dBFS or less), speech reaches -30 to -10 dBFS."""

LENGTH_TOLERANCE_S = 0.1
"""Encoders pad a few milliseconds (AAC priming); a "60 s" file may decode to 60.02 s."""

MAX_BAD_PACKETS = 3
"""Packets that fail to decode are skipped up to this many (or 1 % of all), as players do."""

_WINDOW_S = 0.05
_MIN_RATE, _MAX_RATE = 16_000, 48_000


@dataclass(frozen=True)
class PreparedAudio:
    path: Path
    duration_s: float
    content_type: str


@dataclass
class _Decoded:
    rate: int
    chunks: list[np.ndarray]
    kept_samples: int = 0
    """Samples stored (at `rate`, mono), up to the limit."""
    seconds: float = 0.0
    """Length of all the audio decoded, stored or not."""


def prepare_audio(
    src: Path,
    dest_dir: Path,
    *,
    max_seconds: float,
    max_bytes: int,
    min_seconds: float = DEFAULT_MIN_SECONDS,
) -> PreparedAudio:
    """Mono 16-bit PCM WAV at the source rate (kept within 16-48 kHz), or MediaError saying why not."""
    check_file(src, max_bytes=max_bytes, kind="audio")
    decoded = _decode(src, keep_seconds=max_seconds + LENGTH_TOLERANCE_S)
    check_audio_length(decoded.seconds, max_seconds=max_seconds, min_seconds=min_seconds)
    samples = np.concatenate(decoded.chunks) if decoded.chunks else np.zeros(0, dtype=np.int16)
    loudest = _loudest_dbfs(samples, decoded.rate)
    if loudest < SILENCE_DBFS:
        raise MediaError(
            "audio_silent",
            f"The audio is silent throughout (its loudest moment is {loudest:.0f} dBFS); record "
            "again with the microphone on and closer to your mouth.",
        )
    dest = new_path(dest_dir, "audio", ".wav")
    with wave.open(str(dest), "wb") as out:
        out.setnchannels(1)
        out.setsampwidth(2)
        out.setframerate(decoded.rate)
        out.writeframes(samples.astype("<i2").tobytes())
    return PreparedAudio(path=dest, duration_s=len(samples) / decoded.rate, content_type="audio/wav")


def check_audio_length(
    duration_s: float, *, max_seconds: float, min_seconds: float = DEFAULT_MIN_SECONDS
) -> None:
    """MediaError when `duration_s` is outside what the model takes (with the encoder tolerance).

    The live estimate calls this on `audio_duration()` so it refuses exactly what
    `prepare_audio` will refuse, in the same words.
    """
    if duration_s > max_seconds + LENGTH_TOLERANCE_S:
        raise MediaError(
            "audio_too_long",
            f"The audio is {duration_text(duration_s, rounding='up')} long; this model takes at most "
            f"{limit_text(max_seconds)} — trim it and try again.",
        )
    if duration_s < min_seconds:
        raise MediaError(
            "audio_too_short",
            f"The audio is only {duration_text(duration_s, rounding='down')} long; record at least "
            f"{limit_text(min_seconds)} of speech and try again.",
        )


def audio_duration(src: Path) -> float:
    """Seconds of audio, counted from decoded samples; MediaError if the file is not usable audio."""
    check_file(src, max_bytes=None, kind="audio")
    return _decode(src, keep_seconds=0.0).seconds


def _decode(src: Path, *, keep_seconds: float) -> _Decoded:
    """Decode the first audio track; keep mono samples for the first `keep_seconds`, count the rest."""
    with src.open("rb") as handle:
        try:
            container = av.open(handle, mode="r")
        except (av.error.FFmpegError, ValueError, OSError):
            raise _unreadable(src) from None
        with container:
            if not container.streams.audio:
                raise _no_audio_track(src, has_video=bool(container.streams.video))
            stream = container.streams.audio[0]
            decoded = _Decoded(rate=_target_rate(stream.codec_context.sample_rate), chunks=[])
            keep_limit = math.ceil(keep_seconds * decoded.rate)
            resampler = av.AudioResampler(format="s16", layout="mono", rate=decoded.rate)
            packets = bad = 0
            for frames in _packet_frames(container, stream):
                packets += 1
                if frames is None:
                    bad += 1
                    continue
                for frame in frames:
                    decoded.seconds += frame.samples / (frame.sample_rate or decoded.rate)
                    if decoded.kept_samples < keep_limit:
                        _keep(decoded, resampler.resample(frame))
            if decoded.kept_samples < keep_limit:
                _keep(decoded, resampler.resample(None))
    if bad > max(MAX_BAD_PACKETS, packets // 100) or (bad and decoded.seconds == 0):
        raise MediaError(
            "audio_corrupt",
            "The audio file is damaged or incomplete (its sound could not be decoded); export or "
            "record it again and retry.",
        )
    return decoded


def _packet_frames(
    container: av.container.InputContainer, stream: av.AudioStream
) -> Iterator[list[av.AudioFrame] | None]:
    """Each packet's decoded frames, or None for a packet that failed to decode."""
    demuxer = container.demux(stream)
    while True:
        try:
            packet = next(demuxer)
        except StopIteration:
            return
        except (av.error.FFmpegError, ValueError):
            yield None
            return
        try:
            yield list(packet.decode())
        except (av.error.FFmpegError, ValueError):
            yield None


def _keep(decoded: _Decoded, frames: list[av.AudioFrame]) -> None:
    for frame in frames:
        chunk = frame.to_ndarray().reshape(-1)
        decoded.chunks.append(chunk)
        decoded.kept_samples += len(chunk)


def _target_rate(source_rate: int | None) -> int:
    """Keep the source rate when models handle it well; bring telephone or odd rates in range."""
    if not source_rate:
        return _MIN_RATE
    return min(max(source_rate, _MIN_RATE), _MAX_RATE)


def _loudest_dbfs(samples: np.ndarray, rate: int) -> float:
    """Level of the loudest 50 ms window, in dB relative to full scale (-inf for digital silence)."""
    if len(samples) == 0:
        return -math.inf
    window = max(1, int(rate * _WINDOW_S))
    count = max(1, len(samples) // window)
    usable = samples[: count * window] if len(samples) >= window else samples
    levels = usable.astype(np.float64).reshape(count, -1)
    loudest = float(np.sqrt(np.mean(levels**2, axis=1)).max())
    return 20 * math.log10(loudest / 32768) if loudest > 0 else -math.inf


def _unreadable(src: Path) -> MediaError:
    if _is_picture(src):
        return _picture_error()
    if looks_like_audio(head(src)):
        return MediaError(
            "audio_corrupt",
            "The audio file is damaged or incomplete (it cannot be opened); export or record it "
            "again and retry.",
        )
    return MediaError(
        "audio_not_audio",
        "This file is not audio we can read; upload a WAV, MP3, M4A, OGG or WebM recording.",
    )


def _no_audio_track(src: Path, *, has_video: bool) -> MediaError:
    if _is_picture(src):
        return _picture_error()
    if has_video:
        return MediaError(
            "audio_no_sound_track",
            "This video has no sound track; upload a recording with speech in it.",
        )
    return MediaError(
        "audio_not_audio",
        "This file holds no audio we can read; upload a WAV, MP3, M4A, OGG or WebM recording.",
    )


def _is_picture(src: Path) -> bool:
    try:
        with Image.open(src):
            return True
    except (UnidentifiedImageError, OSError, ValueError, SyntaxError):
        return False


def _picture_error() -> MediaError:
    return MediaError(
        "audio_is_picture",
        "This file is a picture, not a sound recording; put it in the picture box and upload speech here.",
    )
