"""Decode a sound file and turn its loudness into how far the mouth opens on each video frame."""

from __future__ import annotations

import wave
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import av
import numpy as np
import numpy.typing as npt

# Rates the AAC encoder takes as they are; anything else is resampled to 48 kHz.
_AAC_RATES = frozenset({8000, 11025, 12000, 16000, 22050, 24000, 32000, 44100, 48000})
_SILENCE_RMS = 10 ** (-60 / 20)  # below -60 dBFS the mouth stays shut, however quiet the clip is
_CLOSED_DB, _OPEN_DB = -24.0, -2.0  # relative to the clip's loud level: shut below, wide open above
_ATTACK, _RELEASE = 0.7, 0.35  # a mouth opens faster than it closes

_FORMATS_HINT = "upload a WAV, MP3, M4A or OGG clip."

Samples = npt.NDArray[np.float32]


@dataclass(frozen=True)
class DecodedAudio:
    """Mono float samples in [-1, 1] at a rate the AAC encoder accepts."""

    samples: Samples
    rate: int

    @property
    def duration_s(self) -> float:
        return len(self.samples) / self.rate


def read_audio(path: Path) -> DecodedAudio:
    """Any format ffmpeg reads, downmixed to mono; raises ValueError with a readable sentence."""
    try:
        with av.open(str(path)) as container:
            if not container.streams.audio:
                raise ValueError(f"The file {path.name} has no sound in it; {_FORMATS_HINT}")
            stream = container.streams.audio[0]
            rate = stream.rate if stream.rate in _AAC_RATES else 48000
            resampler = av.AudioResampler(format="flt", layout="mono", rate=rate)
            chunks = [
                out.to_ndarray().reshape(-1)
                for frame in container.decode(stream)
                for out in resampler.resample(frame)
            ]
            chunks.extend(out.to_ndarray().reshape(-1) for out in resampler.resample(None))
    except av.FFmpegError as exc:
        raise ValueError(f"The sound file {path.name} could not be decoded; {_FORMATS_HINT}") from exc
    samples = np.concatenate(chunks).astype(np.float32, copy=False) if chunks else np.zeros(0, np.float32)
    if len(samples) < rate // 100:
        raise ValueError(f"The sound file {path.name} is empty; upload a clip with some sound in it.")
    return DecodedAudio(samples=np.clip(samples, -1.0, 1.0), rate=rate)


def pad_with_silence(src: Path, dest: Path, padded_s: Callable[[float], float]) -> Path:
    """A WAV of `src` followed by silence up to `padded_s(its duration)` seconds (the sound of a
    model that generates whole chunks); `src` itself when no padding is due."""
    audio = read_audio(src)
    total = round(padded_s(audio.duration_s) * audio.rate)
    if total <= len(audio.samples):
        return src
    samples = np.zeros(total, np.float32)
    samples[: len(audio.samples)] = audio.samples
    with wave.open(str(dest), "wb") as out:
        out.setnchannels(1)
        out.setsampwidth(2)
        out.setframerate(audio.rate)
        out.writeframes((samples * 32767).astype("<i2").tobytes())
    return dest


def frame_count(duration_s: float, fps: int) -> int:
    """Frames for a video as long as the sound (within half a frame)."""
    return max(1, round(duration_s * fps))


def mouth_openness(audio: DecodedAudio, frames: int, fps: int) -> npt.NDArray[np.float32]:
    """Per frame 0 (shut) .. 1 (wide open): the RMS over the frame, relative to the clip's loud parts."""
    squares = np.concatenate(([0.0], np.cumsum(audio.samples.astype(np.float64) ** 2)))
    hop = audio.rate / fps
    centres = (np.arange(frames) + 0.5) * hop
    starts = np.clip(np.round(centres - hop / 2), 0, len(audio.samples)).astype(np.int64)
    ends = np.clip(np.round(centres + hop / 2), 0, len(audio.samples)).astype(np.int64)
    ends = np.maximum(ends, np.minimum(starts + 1, len(audio.samples)))
    rms = np.sqrt((squares[ends] - squares[starts]) / np.maximum(ends - starts, 1))
    voiced = rms > _SILENCE_RMS
    if not voiced.any():
        return np.zeros(frames, np.float32)
    level_db = 20 * np.log10(np.maximum(rms, 1e-12))
    loud_db = float(np.percentile(level_db[voiced], 95))
    target = np.clip((level_db - loud_db - _CLOSED_DB) / (_OPEN_DB - _CLOSED_DB), 0.0, 1.0)
    target[~voiced] = 0.0
    return _smooth(target)


def _smooth(target: npt.NDArray[np.float64]) -> npt.NDArray[np.float32]:
    """One-pole follower, quicker to open than to close, so syllables read as movements, not flicker."""
    out = np.empty(len(target), np.float32)
    value = 0.0
    for i, goal in enumerate(target):
        value += (_ATTACK if goal > value else _RELEASE) * (goal - value)
        out[i] = value
    return out
