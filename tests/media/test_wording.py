"""Lengths, sizes and limits read the way people say them; the live estimate and the job refuse
the same lengths in the same words."""

from __future__ import annotations

import pytest

from demo_app.media import MediaError, check_audio_length
from demo_app.media._errors import duration_text, limit_text, size_text


@pytest.mark.parametrize(
    ("seconds", "text"),
    [
        (0.3, "0.3 s"),
        (12.68, "12.7 s"),
        (59.9, "59.9 s"),
        (60.0, "60.0 s"),
        (119.94, "119.9 s"),
        (120.0, "2 min"),
        (723.2, "12 min 3 s"),
        (3725, "1 h 2 min"),
    ],
)
def test_durations(seconds: float, text: str) -> None:
    assert duration_text(seconds) == text


@pytest.mark.parametrize(
    ("seconds", "up", "down"),
    [(60.11, "60.2 s", "60.1 s"), (0.49, "0.5 s", "0.4 s"), (723.2, "12 min 4 s", "12 min 3 s")],
)
def test_refusals_can_round_away_from_the_limit(seconds: float, up: str, down: str) -> None:
    assert duration_text(seconds, rounding="up") == up
    assert duration_text(seconds, rounding="down") == down


@pytest.mark.parametrize(("seconds", "text"), [(60, "60 s"), (0.5, "0.5 s"), (2.0, "2 s"), (300, "5 min")])
def test_limits(seconds: float, text: str) -> None:
    assert limit_text(seconds) == text


@pytest.mark.parametrize(
    ("num_bytes", "text"),
    [(300, "1 KB"), (365_025, "356 KB"), (25 * 1024 * 1024, "25 MB"), (32_925_000, "31.4 MB")],
)
def test_sizes(num_bytes: int, text: str) -> None:
    assert size_text(num_bytes) == text


def test_lengths_within_the_encoder_tolerance_pass() -> None:
    check_audio_length(60.05, max_seconds=60)
    check_audio_length(0.5, max_seconds=60)


@pytest.mark.parametrize(
    ("seconds", "limit", "code", "message"),
    [
        (
            60.11,
            60,
            "audio_too_long",
            "The audio is 60.2 s long; this model takes at most 60 s — trim it and try again.",
        ),
        (
            45.0,
            30,
            "audio_too_long",
            "The audio is 45.0 s long; this model takes at most 30 s — trim it and try again.",
        ),
        (
            0.49,
            60,
            "audio_too_short",
            "The audio is only 0.4 s long; record at least 0.5 s of speech and try again.",
        ),
    ],
)
def test_lengths_outside_the_limits_are_refused_in_the_words_prepare_audio_uses(
    seconds: float, limit: float, code: str, message: str
) -> None:
    with pytest.raises(MediaError) as caught:
        check_audio_length(seconds, max_seconds=limit)
    assert caught.value.code == code
    assert str(caught.value) == message
