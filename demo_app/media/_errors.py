"""The one error media checks raise, and the words its sentences are made of.

Callers branch on `code` (stable, listed in `MediaErrorCode`); visitors read `str(exc)`: one
sentence saying what is wrong and what to do.
"""

from __future__ import annotations

import math
from typing import Literal

MediaErrorCode = Literal[
    "image_missing",
    "image_empty",
    "image_too_large",
    "image_not_image",
    "image_corrupt",
    "image_unsupported",
    "image_too_many_pixels",
    "image_too_small",
    "image_bad_shape",
    "image_too_slow",
    "image_check_failed",
    "image_no_face",
    "image_many_faces",
    "image_no_such_face",
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
    "audio_unsupported",
    "audio_bad_rate",
    "audio_bad_channels",
    "audio_too_slow",
    "audio_check_failed",
]


class MediaError(ValueError):
    """An upload we refuse before anything is held or sent upstream."""

    def __init__(self, code: MediaErrorCode, message: str) -> None:
        super().__init__(message)
        self.code: MediaErrorCode = code
        self.message = message


def duration_text(seconds: float, *, rounding: Literal["nearest", "up", "down"] = "nearest") -> str:
    """A measured length: "0.3 s", "59.9 s", "12 min 3 s", "1 h 5 min".

    Refusals round away from the limit ("up" for too long, "down" for too short), so a clip
    just past a 60 s limit reads "60.2 s", never "1 min".
    """
    step = 0.1 if seconds < 120 else 1.0
    units = seconds / step
    # The 1e-9 keeps 0.3 / 0.1 = 2.9999999999999996 from reading as 0.2 or rounding up to 0.4.
    if rounding == "up":
        count = math.ceil(units - 1e-9)
    elif rounding == "down":
        count = math.floor(units + 1e-9)
    else:
        count = round(units)
    if step < 1:
        return f"{count / 10:.1f} s"
    hours, rest = divmod(int(count), 3600)
    minutes, secs = divmod(rest, 60)
    if hours:
        return f"{hours} h {minutes} min"
    return f"{minutes} min {secs} s" if secs else f"{minutes} min"


def limit_text(seconds: float) -> str:
    """A limit as people write it: "60 s", "0.5 s", "2 min"."""
    return f"{seconds:g} s" if seconds < 120 else duration_text(seconds, rounding="down")


def size_text(num_bytes: int) -> str:
    """File sizes the way upload limits are quoted: "25 MB", "31.4 MB", "820 KB"."""
    if num_bytes < 1024 * 1024:
        return f"{max(1, round(num_bytes / 1024))} KB"
    megabytes = num_bytes / (1024 * 1024)
    return f"{megabytes:.1f}".removesuffix(".0") + " MB"
