"""Uploads checked before anything is held or sent upstream: decode, measure, refuse, convert.

`prepare_image` and `prepare_audio` turn a visitor's file into what every model accepts (an
upright RGB JPEG; a mono 16-bit WAV), or raise `MediaError`, whose `code` is stable and whose
text is one sentence saying what is wrong and what to do. They are CPU-bound and synchronous;
the server calls them through `MediaWorkers`, which runs them in killable processes with a
deadline and a memory cap.
"""

from __future__ import annotations

from demo_app.media._audio import (
    DEFAULT_MIN_SECONDS,
    PreparedAudio,
    Trim,
    audio_duration,
    check_audio_length,
    prepare_audio,
    trimmed_seconds,
)
from demo_app.media._errors import MediaError, MediaErrorCode
from demo_app.media._faces import Box, FaceChoice, FramedPicture, Framing, frame_picture
from demo_app.media._image import PreparedImage, prepare_image
from demo_app.media._video import video_duration
from demo_app.media._workers import MediaUsage, MediaWorkers

__all__ = [
    "DEFAULT_MIN_SECONDS",
    "Box",
    "FaceChoice",
    "FramedPicture",
    "Framing",
    "MediaError",
    "MediaErrorCode",
    "MediaUsage",
    "MediaWorkers",
    "PreparedAudio",
    "PreparedImage",
    "Trim",
    "audio_duration",
    "check_audio_length",
    "frame_picture",
    "prepare_audio",
    "prepare_image",
    "trimmed_seconds",
    "video_duration",
]
