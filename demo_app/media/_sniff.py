"""What a file is, decided from its first bytes against an allow-list; never from its name.

The verdict picks the one decoder that may open the file (a forced FFmpeg demuxer, a single PIL
plugin), so a playlist, a concat list or an exotic format cannot reach a decoder that would
follow what it says, whatever the file is called. Files outside the allow-list are named when
we recognise them, so the refusal can say what the visitor sent.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Literal

HEAD_BYTES = 64
"""Enough for every signature below (ID3 tags are skipped with a seek, not read)."""

ImageFormat = Literal["PNG", "JPEG", "WEBP"]
"""PIL plugin names of the pictures we decode."""


@dataclass(frozen=True)
class AudioFormat:
    """A container we decode: the FFmpeg demuxer forced on it and the codecs it may carry."""

    demuxer: str
    codecs: frozenset[str]


_PCM = frozenset(
    {"pcm_u8", "pcm_s16le", "pcm_s24le", "pcm_s32le", "pcm_f32le", "pcm_f64le", "pcm_alaw", "pcm_mulaw"}
)
_COMPRESSED = frozenset({"mp3", "mp3float", "aac", "opus", "libopus", "vorbis", "flac"})

WAV = AudioFormat("wav", _PCM)
MP3 = AudioFormat("mp3", frozenset({"mp3", "mp3float"}))
FLAC = AudioFormat("flac", frozenset({"flac"}))
OGG = AudioFormat("ogg", frozenset({"vorbis", "opus", "libopus"}))
MP4 = AudioFormat("mp4", frozenset({"aac", "mp3", "mp3float"}))
ADTS = AudioFormat("aac", frozenset({"aac"}))
MATROSKA = AudioFormat("matroska", _COMPRESSED | {"pcm_s16le", "pcm_f32le"})

_KNOWN_OTHERS: tuple[tuple[bytes, int, str], ...] = (
    # (signature, offset, what we call it in a refusal)
    (b"GIF8", 0, "GIF picture"),
    (b"BM", 0, "BMP picture"),
    (b"II*\x00", 0, "TIFF picture"),
    (b"MM\x00*", 0, "TIFF picture"),
    (b"\x00\x00\x01\x00", 0, "ICO picture"),
    (b"8BPS", 0, "PSD picture"),
    (b"\x00\x00\x00\x0cjP  ", 0, "JPEG 2000 picture"),
    (b"#EXTM3U", 0, "playlist"),
    (b"ffconcat", 0, "concat list"),
    (b"[playlist]", 0, "playlist"),
    (b"FORM", 0, "AIFF recording"),
    (b"0&\xb2u\x8ef\xcf\x11", 0, "WMA recording"),
    (b"#!AMR", 0, "AMR recording"),
    (b"MThd", 0, "MIDI file"),
    (b"%PDF", 0, "PDF document"),
    (b"PK\x03\x04", 0, "ZIP archive"),
)

_ISO_BRANDS = {
    b"heic": "HEIC picture",
    b"heix": "HEIC picture",
    b"mif1": "HEIF picture",
    b"avif": "AVIF picture",
}


def head(path: Path, size: int = HEAD_BYTES) -> bytes:
    with path.open("rb") as handle:
        return handle.read(size)


def image_format(data: bytes) -> ImageFormat | None:
    """PNG, JPEG or WebP by signature; None for anything else."""
    if data.startswith(b"\x89PNG\r\n\x1a\n"):
        return "PNG"
    if data.startswith(b"\xff\xd8\xff"):
        return "JPEG"
    if data[:4] == b"RIFF" and data[8:12] == b"WEBP":
        return "WEBP"
    return None


def audio_format(path: Path) -> AudioFormat | None:
    """The allowed container the file's bytes announce, looking past a leading ID3 tag."""
    with path.open("rb") as handle:
        data = handle.read(HEAD_BYTES)
        if data.startswith(b"ID3") and len(data) >= 10:
            # An ID3v2 tag (size in 7-bit bytes) may precede MP3, ADTS AAC or FLAC data.
            size = int.from_bytes(bytes(b & 0x7F for b in data[6:10]), "big")
            footer = 10 if data[5] & 0x10 else 0
            handle.seek(10 + size + footer)
            after = handle.read(HEAD_BYTES)
            return _after_id3(after)
    if data[:4] == b"RIFF" and data[8:12] == b"WAVE":
        return WAV
    if data.startswith(b"fLaC"):
        return FLAC
    if data.startswith(b"OggS"):
        return OGG
    if data.startswith(b"\x1a\x45\xdf\xa3"):
        return MATROSKA
    if data[4:8] == b"ftyp" and data[8:12] not in _ISO_BRANDS:
        return MP4
    return _frame_sync(data)


def _after_id3(data: bytes) -> AudioFormat | None:
    if data.startswith(b"fLaC"):
        return FLAC
    # Tagged MP3 files often carry padding or junk before the first frame: let the MP3
    # demuxer resync, unless the data is plainly ADTS AAC.
    found = _frame_sync(data)
    return ADTS if found is ADTS else MP3


def _frame_sync(data: bytes) -> AudioFormat | None:
    """MPEG audio frames: layer bits 00 mean ADTS AAC, anything else MP3."""
    if len(data) < 2 or data[0] != 0xFF or data[1] & 0xE0 != 0xE0:
        return None
    if data[1] & 0x06 == 0:
        return ADTS if data[1] & 0x10 else None
    return MP3


def known_other(data: bytes) -> str | None:
    """A name for a format we recognise but refuse ("GIF picture", "playlist"), else None."""
    for signature, offset, name in _KNOWN_OTHERS:
        if data[offset : offset + len(signature)] == signature:
            return name
    if data[4:8] == b"ftyp" and data[8:12] in _ISO_BRANDS:
        return _ISO_BRANDS[data[8:12]]
    stripped = data.lstrip(b"\xef\xbb\xbf \t\r\n").lower()
    if stripped.startswith((b"<svg", b"<?xml")):
        return "SVG or XML file"
    return None


def looks_like_image(data: bytes) -> bool:
    """An allowed picture signature, or a picture format we name in refusals."""
    return image_format(data) is not None or (known_other(data) or "").endswith("picture")
