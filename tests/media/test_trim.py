"""A trimmed clip holds exactly the part chosen, decoded by FFmpeg, and is checked as that part."""

from __future__ import annotations

import wave
from pathlib import Path

import numpy as np
import pytest

from demo_app.media import MediaError, prepare_audio

RATE = 16_000


def _tone_then_silence(path: Path) -> Path:
    """Two seconds of tone then three of near-silence: where a cut lands shows in the samples."""
    t = np.arange(RATE * 2) / RATE
    tone = (0.5 * 32767 * np.sin(2 * np.pi * 220 * t)).astype("<i2")
    quiet = np.zeros(RATE * 3, dtype="<i2")
    with wave.open(str(path), "wb") as out:
        out.setnchannels(1)
        out.setsampwidth(2)
        out.setframerate(RATE)
        out.writeframes(np.concatenate([tone, quiet]).tobytes())
    return path


def test_a_trim_keeps_only_its_part_and_reports_the_length_priced(tmp_path: Path) -> None:
    clip = _tone_then_silence(tmp_path / "clip.wav")
    prepared = prepare_audio(clip, tmp_path, max_seconds=2.0, max_bytes=10**7, trim=(1.0, 3.0))
    assert prepared.duration_s == 2.0
    with wave.open(str(prepared.path)) as sent:
        samples = np.frombuffer(sent.readframes(sent.getnframes()), dtype="<i2")
        assert sent.getframerate() == RATE
    assert len(samples) == 2 * RATE
    assert np.abs(samples[: RATE - 100]).max() > 10_000  # the tone's second half
    assert np.abs(samples[RATE + 100 :]).max() < 100  # then the silence


def test_without_a_trim_the_clip_is_refused_as_too_long(tmp_path: Path) -> None:
    clip = _tone_then_silence(tmp_path / "clip.wav")
    with pytest.raises(MediaError) as refused:
        prepare_audio(clip, tmp_path, max_seconds=2.0, max_bytes=10**7)
    assert refused.value.code == "audio_too_long"
