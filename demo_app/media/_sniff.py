"""First-bytes signatures: only to word a refusal well.

A file that the decoders cannot read is either not media at all, or media that is damaged. The
signature tells the two apart ("damaged or incomplete" versus "not a picture"); acceptance never
rests on it — only on a real decode.
"""

from __future__ import annotations

from pathlib import Path

_IMAGE_PREFIXES = (
    b"\x89PNG\r\n\x1a\n",
    b"\xff\xd8\xff",  # JPEG
    b"GIF87a",
    b"GIF89a",
    b"BM",
)

_AUDIO_PREFIXES = (
    b"ID3",  # MP3 with tags
    b"OggS",
    b"\x1a\x45\xdf\xa3",  # Matroska / WebM
    b"fLaC",
)


def head(path: Path, size: int = 16) -> bytes:
    with path.open("rb") as handle:
        return handle.read(size)


def looks_like_image(data: bytes) -> bool:
    """PNG, JPEG, GIF, BMP or WebP by signature."""
    return data.startswith(_IMAGE_PREFIXES) or (data[:4] == b"RIFF" and data[8:12] == b"WEBP")


def looks_like_audio(data: bytes) -> bool:
    """WAV, MP3, Ogg, Matroska/WebM, FLAC, MP4/M4A or ADTS AAC by signature."""
    if data.startswith(_AUDIO_PREFIXES):
        return True
    if data[:4] == b"RIFF" and data[8:12] == b"WAVE":
        return True
    if data[4:8] == b"ftyp":  # MP4, M4A, MOV
        return True
    # MPEG audio frame sync (MP3 without tags, ADTS AAC).
    return len(data) >= 2 and data[0] == 0xFF and data[1] & 0xE0 == 0xE0
