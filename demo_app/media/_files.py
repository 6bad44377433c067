"""Checks every upload passes before decoding, and where prepared files go."""

from __future__ import annotations

import uuid
from pathlib import Path
from typing import Literal

from demo_app.media._errors import MediaError, MediaErrorCode, size_text

_CODES: dict[str, tuple[MediaErrorCode, MediaErrorCode, MediaErrorCode]] = {
    "image": ("image_missing", "image_empty", "image_too_large"),
    "audio": ("audio_missing", "audio_empty", "audio_too_large"),
}


def check_file(src: Path, *, max_bytes: int | None, kind: Literal["image", "audio"]) -> int:
    """The file's size in bytes; MediaError when it is missing, empty or too big."""
    noun = "picture" if kind == "image" else "audio file"
    missing, empty, too_large = _CODES[kind]
    try:
        size = src.stat().st_size if src.is_file() else -1
    except OSError:
        size = -1
    if size < 0:
        raise MediaError(missing, f"The {noun} did not arrive; choose it again and retry.")
    if size == 0:
        raise MediaError(empty, f"The {noun} is empty (0 bytes); choose the file again.")
    if max_bytes is not None and size > max_bytes:
        advice = (
            "save it smaller or as JPEG and try again"
            if kind == "image"
            else "upload a shorter or compressed (MP3, M4A) recording"
        )
        raise MediaError(
            too_large,
            f"The {noun} is {size_text(size)}; the limit is {size_text(max_bytes)} — {advice}.",
        )
    return size


def new_path(dest_dir: Path, stem: str, suffix: str) -> Path:
    """A fresh, unguessable file name in `dest_dir` (created if needed)."""
    dest_dir.mkdir(parents=True, exist_ok=True)
    return dest_dir / f"{stem}-{uuid.uuid4().hex}{suffix}"
