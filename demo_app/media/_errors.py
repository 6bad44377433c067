"""The one error media checks raise, and the words its sentences are made of.

Callers branch on `code` (stable, listed in `MediaErrorCode`); visitors read `str(exc)`: one
sentence saying what is wrong and what to do.
"""

from __future__ import annotations

from typing import Literal

MediaErrorCode = Literal[
    "image_missing",
    "image_empty",
    "image_too_large",
    "image_not_image",
    "image_corrupt",
    "image_unsupported",
    "image_animated",
    "image_too_many_pixels",
    "image_too_small",
    "image_bad_shape",
    "audio_missing",
    "audio_empty",
    "audio_too_large",
    "audio_not_audio",
    "audio_is_picture",
    "audio_no_sound_track",
    "audio_corrupt",
    "audio_too_short",
    "audio_too_long",
    "audio_silent",
]


class MediaError(ValueError):
    """An upload we refuse before anything is held or sent upstream."""

    def __init__(self, code: MediaErrorCode, message: str) -> None:
        super().__init__(message)
        self.code: MediaErrorCode = code
        self.message = message


def duration_text(seconds: float) -> str:
    """A measured length: "0.3 s", "12.7 s", "12 min 3 s", "1 h 5 min"."""
    if seconds < 59.95:
        return f"{seconds:.1f} s"
    whole = round(seconds)
    hours, rest = divmod(whole, 3600)
    minutes, secs = divmod(rest, 60)
    if hours:
        return f"{hours} h {minutes} min"
    return f"{minutes} min {secs} s" if secs else f"{minutes} min"


def limit_text(seconds: float) -> str:
    """A limit as people write it: "60 s", "0.5 s", "2 min"."""
    return f"{seconds:g} s" if seconds < 120 else duration_text(seconds)


def size_text(num_bytes: int) -> str:
    """File sizes the way upload limits are quoted: "25 MB", "31.4 MB", "820 KB"."""
    if num_bytes < 1024 * 1024:
        return f"{max(1, round(num_bytes / 1024))} KB"
    megabytes = num_bytes / (1024 * 1024)
    return f"{megabytes:.1f}".removesuffix(".0") + " MB"
