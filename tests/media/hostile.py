"""Files an attacker would upload, each made on the spot, with the refusal it must get.

Reusable at every level (media checks, jobs, page, API): `case.write(folder, canary_url)` writes
the file under its hostile name and returns its path; `canary_url` is the address of a loopback
HTTP server that must never be asked for anything (playlists, concat lists and references point
at it). `case.kind` says which input it goes in ("image" or "audio"); `case.code` is the
`MediaError` code it must be refused with.

The cases cover: playlists, concat lists and reference tricks under every audio and picture
extension; sample-rate and channel extremes; pixel bombs and pictures at the pixel caps (really
decoded, then cut short); 16-bit pictures; truncated, empty and polyglot files; huge metadata;
very long, unicode and path-like file names.
"""

from __future__ import annotations

import functools
import io
import struct
import tempfile
import zlib
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from PIL import Image

from demo_app.media._image import PIXEL_CAPS, PROGRESSIVE_JPEG_CAP
from tests.media import makers

MB = 1024 * 1024
IMAGE_LIMITS = {"min_side": 256, "max_side": 1280, "max_bytes": 25 * MB}
AUDIO_LIMITS = {"max_seconds": 60.0, "max_bytes": 25 * MB}

Builder = Callable[[str], bytes]
"""canary base URL (``http://127.0.0.1:PORT``) -> the file's bytes."""


@dataclass(frozen=True)
class Hostile:
    name: str
    kind: Literal["image", "audio"]
    file_name: str
    code: str
    build: Builder

    def data(self, canary_url: str) -> bytes:
        return _cached(self.build, canary_url)

    def write(self, folder: Path, canary_url: str) -> Path:
        """The file, under its own sub-folder so every case keeps its exact name."""
        home = folder / f"case-{abs(hash(self.name)):x}"
        home.mkdir(parents=True, exist_ok=True)
        path = home / self.file_name
        path.write_bytes(self.data(canary_url))
        return path


@functools.cache
def _cached(build: Builder, canary_url: str) -> bytes:
    return build(canary_url)


# --- building blocks ---------------------------------------------------------------------------


def _hls(url: str) -> bytes:
    return (
        "#EXTM3U\n#EXT-X-VERSION:3\n#EXT-X-TARGETDURATION:10\n"
        f'#EXT-X-KEY:METHOD=AES-128,URI="{url}/key"\n'
        f"#EXTINF:10,\n{url}/seg.ts\n#EXTINF:10,\nfile:///etc/passwd\n"
        "#EXTINF:10,\ndata:audio/wav;base64,UklGRgAAAABXQVZF\n#EXT-X-ENDLIST\n"
    ).encode()


def _concat(url: str) -> bytes:
    lines = [f"file '{url}/a.wav'", "file '/etc/passwd'", "file 'subfile,,start,0,end,0,,:/etc/hosts'"]
    return ("ffconcat version 1.0\n" + "\n".join(lines) + "\n").encode()


def _pls(url: str) -> bytes:
    return f"[playlist]\nFile1={url}/stream.mp3\nNumberOfEntries=1\nVersion=2\n".encode()


def _sdp(url: str) -> bytes:
    host = url.split("//")[1].split(":")[0]
    return (
        f"v=0\r\no=- 0 0 IN IP4 {host}\r\ns=x\r\nc=IN IP4 {host}\r\nt=0 0\r\nm=audio 9 RTP/AVP 0\r\n".encode()
    )


def _svg(url: str) -> bytes:
    return f'<svg xmlns="http://www.w3.org/2000/svg"><image href="{url}/face.png"/></svg>'.encode()


def _const(data: bytes) -> Builder:
    return lambda _url: data


_LOUD_16K = (makers.tone(1.0, 16_000) * 32767).astype("<i2").tobytes()


def _wav(rate: int, channels: int, data: bytes = _LOUD_16K, bits: int = 16, tag: int = 1) -> Builder:
    def build(_url: str) -> bytes:
        align = max(1, channels * bits // 8) & 0xFFFF
        header = b"RIFF" + struct.pack("<I", 36 + len(data)) + b"WAVE"
        header += b"fmt " + struct.pack(
            "<IHHIIHH", 16, tag, channels, rate, (rate * align) & 0xFFFFFFFF, align, bits
        )
        header += b"data" + struct.pack("<I", len(data))
        return header + data

    return build


def _encoded(name: str, seconds: float = 1.5, amplitude: float = 0.3) -> bytes:
    with tempfile.TemporaryDirectory() as folder:
        return makers.write_format(Path(folder), name, seconds, amplitude=amplitude).read_bytes()


def _audio(container: str, codec: str, rate: int, seconds: float = 1.0, suffix: str = ".bin") -> bytes:
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / f"a{suffix}"
        makers.write_audio(path, makers.tone(seconds, rate), rate=rate, container=container, codec=codec)
        return path.read_bytes()


def _cut(data: bytes, fraction: float) -> bytes:
    return data[: int(len(data) * fraction)]


def _image(image: Image.Image, **params: object) -> bytes:
    buffer = io.BytesIO()
    image.save(buffer, **params)  # type: ignore[arg-type]
    return buffer.getvalue()


def _video_only() -> bytes:
    with tempfile.TemporaryDirectory() as folder:
        return makers.write_video(Path(folder) / "v.mkv", with_audio=False).read_bytes()


def _flac_at(rate: int) -> bytes:
    """A real (silent) FLAC whose STREAMINFO is rewritten to claim `rate` samples per second; its
    frames still say 16 kHz, and FFmpeg goes by the frames."""
    data = bytearray(_encoded("flac", 2.0, amplitude=0.0))
    info = 8 + 10  # "fLaC", block header, then min/max block and frame sizes
    packed = int.from_bytes(data[info : info + 8], "big")
    packed = (packed & ~(0xFFFFF << 44)) | (rate << 44)
    data[info : info + 8] = packed.to_bytes(8, "big")
    return bytes(data)


def _flac_with_metadata(size: int) -> bytes:
    """A FLAC with a `size`-byte APPLICATION block before its audio (silent, so it is refused)."""
    data = _encoded("flac", 2.0, amplitude=0.0)
    body = b"junk" + bytes(size - 4)
    header = bytes([0x02]) + len(body).to_bytes(3, "big")
    # Clear the "last block" flag of STREAMINFO and append ours after it.
    streaminfo_end = 4 + 4 + 34
    head = bytearray(data[:streaminfo_end])
    last = head[4] & 0x80
    head[4] &= 0x7F
    return bytes(head) + bytes([header[0] | last]) + header[1:] + body + data[streaminfo_end:]


def _id3(size: int) -> bytes:
    frame = b"TXXX" + struct.pack(">I", size - 10) + b"\x00\x00" + b"\x00" + bytes(size - 11)
    syncsafe = bytes((len(frame) >> shift) & 0x7F for shift in (21, 14, 7, 0))
    return b"ID3\x04\x00\x00" + syncsafe + frame


def _ogg_flac() -> bytes:
    return _audio("ogg", "flac", 16_000, suffix=".oga")


def _png_rows(width: int, height: int, depth: int, colour: int, pixel: bytes, keep: float) -> bytes:
    """A PNG of `width` × `height` constant pixels whose image data stops after `keep` of it:
    the decoder allocates and fills nearly the whole picture before it finds the cut."""
    row = b"\x00" + pixel * width
    compressor = zlib.compressobj(1)
    parts = [compressor.compress(row) for _ in range(height)]
    idat = b"".join(parts) + compressor.flush()
    png = makers.png_from_rows(width, height, depth, colour, b"")
    ihdr_end = 8 + 25
    return png[:ihdr_end] + makers.png_chunk(b"IDAT", _cut(idat, keep)) + makers.png_chunk(b"IEND", b"")


def _png_bomb(side: int) -> bytes:
    """Real compressed data for `side` × `side` grey pixels: a few hundred KB, gigabytes decoded."""
    return _png_rows(side, side, 8, 0, b"\x00", 1.0)


def _at_cap(cap: int, aspect: float = 4 / 3) -> tuple[int, int]:
    height = int((cap / aspect) ** 0.5)
    return int(height * aspect), height


def _png_at_cap(depth: int, colour: int, pixel: bytes) -> Builder:
    width, height = _at_cap(PIXEL_CAPS["PNG"])
    return lambda _url: _png_rows(width, height, depth, colour, pixel, 0.97)


def _jpeg_at_cap(cap: int, *, progressive: bool) -> Builder:
    def build(_url: str) -> bytes:
        width, height = _at_cap(cap)
        image = Image.new("RGB", (width, height), (180, 140, 120))
        return _cut(_image(image, format="JPEG", quality=90, progressive=progressive, subsampling=0), 0.9)

    return build


def _webp_at_cap(_url: str) -> bytes:
    width, height = _at_cap(PIXEL_CAPS["WEBP"])
    image = Image.new("RGBA", (width, height), (180, 140, 120, 255))
    return _cut(_image(image, format="WEBP", lossless=True, quality=0, method=0), 0.9)


def _webp_header(width: int, height: int) -> bytes:
    """A VP8X WebP header declaring a `width` × `height` canvas, with no image behind it."""
    vp8x = b"\x00\x00\x00\x00" + (width - 1).to_bytes(3, "little") + (height - 1).to_bytes(3, "little")
    body = b"WEBP" + b"VP8X" + struct.pack("<I", len(vp8x)) + vp8x
    return b"RIFF" + struct.pack("<I", len(body)) + body


def _jpeg_header(width: int, height: int) -> Builder:
    def build(_url: str) -> bytes:
        with tempfile.TemporaryDirectory() as folder:
            return makers.jpeg_header_only(Path(folder) / "h.jpg", width, height).read_bytes()

    return build


def _face() -> bytes:
    return makers.FACE_PNG.read_bytes()


def _small_png() -> bytes:
    return _image(makers.photo((64, 64)), format="PNG")


def _small_jpeg() -> bytes:
    return _image(makers.photo((64, 64)), format="JPEG")


LONG_NAME = "v" * 240 + ".wav"
"""Near the file system's 255-byte limit for one name."""

# --- the corpus ----------------------------------------------------------------------------------

_AUDIO_SUFFIXES = (".m3u8", ".m3u", ".wav", ".mp3", ".flac", ".ogg", ".opus", ".m4a", ".aac", ".webm", ".mka")
_IMAGE_SUFFIXES = (".png", ".jpg", ".jpeg", ".webp")

CASES: list[Hostile] = [
    *(
        Hostile(f"HLS playlist as {s}", "audio", f"voice{s}", "audio_unsupported", _hls)
        for s in _AUDIO_SUFFIXES
    ),
    *(Hostile(f"HLS playlist as {s}", "image", f"face{s}", "image_not_image", _hls) for s in _IMAGE_SUFFIXES),
    Hostile("concat list as .wav", "audio", "voice.wav", "audio_unsupported", _concat),
    Hostile("concat list as .ffconcat", "audio", "list.ffconcat", "audio_unsupported", _concat),
    Hostile("concat list as .png", "image", "face.png", "image_not_image", _concat),
    Hostile("PLS playlist as .mp3", "audio", "radio.mp3", "audio_unsupported", _pls),
    Hostile("SDP session (RTP) as .sdp", "audio", "voice.sdp", "audio_not_audio", _sdp),
    Hostile("SDP session (RTP) as .wav", "audio", "voice.wav", "audio_not_audio", _sdp),
    Hostile("SVG referencing a URL", "image", "face.png", "image_not_image", _svg),
    Hostile(
        "a bare URL as .wav", "audio", "voice.wav", "audio_not_audio", lambda url: f"{url}/v.wav\n".encode()
    ),
    Hostile("name says concat: protocol", "audio", "concat:a.wav|b.wav", "audio_unsupported", _hls),
    Hostile("name says file: protocol", "audio", "file:voice.m3u8", "audio_unsupported", _hls),
    Hostile("name says http:", "audio", "http:__127.0.0.1_seg.m3u8", "audio_unsupported", _hls),
    Hostile("path-like name", "audio", "..%2F..%2Fetc%2Fpasswd.m3u8", "audio_unsupported", _hls),
    Hostile("option-like name", "audio", "-i voice.m3u8", "audio_unsupported", _hls),
    Hostile("name with a newline", "audio", "voice\n.m3u8", "audio_unsupported", _hls),
    Hostile("very long name", "audio", LONG_NAME, "audio_unsupported", _hls),
    Hostile("unicode name", "audio", "🎙 voix-ü-日本語.m3u8", "audio_unsupported", _hls),
    # -- polyglots
    Hostile(
        "PNG followed by a playlist, as audio",
        "audio",
        "voice.m3u8",
        "audio_is_picture",
        lambda url: _face() + _hls(url),
    ),
    Hostile(
        "WAV whose samples are a playlist",
        "audio",
        "voice.m3u8",
        "audio_too_short",
        lambda url: _wav(16_000, 1, _hls(url))(url),
    ),
    Hostile(
        "JPEG followed by a ZIP archive",
        "image",
        "face.jpg",
        "image_too_small",
        lambda _url: _small_jpeg() + b"PK\x03\x04" + bytes(200),
    ),
    Hostile(
        "GIF/JavaScript polyglot",
        "image",
        "face.png",
        "image_unsupported",
        _const(b"GIF89a/*\x00\x00\x00\x00*/=alert(1)//;" + bytes(64)),
    ),
    Hostile(
        "ID3 tag before a playlist", "audio", "voice.mp3", "audio_corrupt", lambda url: _id3(64) + _hls(url)
    ),
    # -- sample rates and channels
    Hostile("WAV declaring 1 Hz", "audio", "voice.wav", "audio_bad_rate", _wav(1, 1)),
    Hostile("WAV declaring 7,999 Hz", "audio", "voice.wav", "audio_bad_rate", _wav(7_999, 1)),
    Hostile("WAV declaring 192,001 Hz", "audio", "voice.wav", "audio_bad_rate", _wav(192_001, 1)),
    Hostile("WAV declaring 2^31-1 Hz", "audio", "voice.wav", "audio_bad_rate", _wav(2**31 - 1, 1)),
    Hostile("WAV declaring 9 channels", "audio", "voice.wav", "audio_bad_channels", _wav(16_000, 9)),
    Hostile(
        "WAV declaring 65,535 channels", "audio", "voice.wav", "audio_bad_channels", _wav(16_000, 65_535)
    ),
    Hostile("WAV declaring 0 channels", "audio", "voice.wav", "audio_bad_channels", _wav(16_000, 0)),
    Hostile(
        "FLAC whose STREAMINFO says 1 Hz, silent",
        "audio",
        "voice.flac",
        "audio_silent",
        lambda _u: _flac_at(1),
    ),
    Hostile(
        "MP3 inside a WAV",
        "audio",
        "voice.wav",
        "audio_unsupported",
        lambda _u: _wav(44_100, 1, _encoded("mp3"), tag=0x55)(_u),
    ),
    Hostile("FLAC inside Ogg", "audio", "voice.ogg", "audio_unsupported", lambda _u: _ogg_flac()),
    Hostile(
        "Matroska with video only", "audio", "voice.webm", "audio_no_sound_track", lambda _u: _video_only()
    ),
    Hostile(
        "16 minutes of 8 kHz WAV",
        "audio",
        "long.wav",
        "audio_too_long",
        _wav(8_000, 1, bytes(2 * 8_000 * 16 * 60)),
    ),
    Hostile(
        "WAV claiming 4 GB, holding 2 s of silence",
        "audio",
        "voice.wav",
        "audio_silent",
        lambda _u: _wav(16_000, 1, bytes(64_000))(_u)[:40] + b"\xf0\xff\xff\xff" + bytes(64_000),
    ),
    # -- huge metadata
    Hostile(
        "MP3 behind an 8 MB ID3 tag, silent",
        "audio",
        "voice.mp3",
        "audio_silent",
        lambda _u: _id3(8 * MB) + _encoded("mp3", 2.0, amplitude=0.0),
    ),
    Hostile(
        "FLAC with an 8 MB metadata block, silent",
        "audio",
        "voice.flac",
        "audio_silent",
        lambda _u: _flac_with_metadata(8 * MB),
    ),
    Hostile(
        "small PNG with 20 MB of text chunks",
        "image",
        "face.png",
        "image_too_small",
        lambda _u: (
            _small_png()[:33] + makers.png_chunk(b"tEXt", b"k\x00" + bytes(20 * MB)) + _small_png()[33:]
        ),
    ),
    # -- truncated and empty
    Hostile("empty audio", "audio", "voice.wav", "audio_empty", _const(b"")),
    Hostile("empty picture", "image", "face.png", "image_empty", _const(b"")),
    Hostile(
        "WAV header alone", "audio", "voice.wav", "audio_corrupt", lambda u: _wav(16_000, 1, b"")(u)[:30]
    ),
    Hostile("MP3 cut to 200 bytes", "audio", "voice.mp3", "audio_corrupt", lambda _u: _encoded("mp3")[:200]),
    Hostile(
        "Ogg/Opus cut to a tenth",
        "audio",
        "voice.ogg",
        "audio_corrupt",
        lambda _u: _cut(_encoded("ogg-opus", 3.0), 0.1),
    ),
    Hostile(
        "WebM/Opus cut to its header",
        "audio",
        "voice.webm",
        "audio_corrupt",
        lambda _u: _encoded("webm-opus")[:300],
    ),
    Hostile(
        "FLAC cut to its header", "audio", "voice.flac", "audio_corrupt", lambda _u: _encoded("flac")[:60]
    ),
    Hostile(
        "M4A cut in half", "audio", "voice.m4a", "audio_corrupt", lambda _u: _cut(_encoded("m4a", 3.0), 0.5)
    ),
    Hostile("PNG cut after its header", "image", "face.png", "image_corrupt", lambda _u: _face()[:40]),
    # -- pixels
    Hostile(
        "PNG declaring 100000 × 100000",
        "image",
        "bomb.png",
        "image_too_many_pixels",
        lambda _u: makers.png_from_rows(100_000, 100_000, 8, 2, b"\x00" * 64),
    ),
    Hostile(
        "PNG bomb with real data (20000²)",
        "image",
        "bomb.png",
        "image_too_many_pixels",
        lambda _u: _png_bomb(20_000),
    ),
    Hostile(
        "JPEG declaring 65500 × 65500",
        "image",
        "bomb.jpg",
        "image_too_many_pixels",
        _jpeg_header(65_500, 65_500),
    ),
    Hostile(
        "WebP declaring 16383 × 16383",
        "image",
        "bomb.webp",
        "image_corrupt",
        lambda _u: _webp_header(16_383, 16_383),
    ),
    Hostile(
        "RGBA PNG at the pixel cap, cut short",
        "image",
        "cap.png",
        "image_corrupt",
        _png_at_cap(8, 6, b"\xb4\x8c\x78\xff"),
    ),
    Hostile(
        "16-bit grey PNG at the pixel cap, cut short",
        "image",
        "cap16.png",
        "image_corrupt",
        _png_at_cap(16, 0, b"\x80\x00"),
    ),
    Hostile(
        "64-bit RGBA PNG at the pixel cap, cut short",
        "image",
        "cap64.png",
        "image_corrupt",
        _png_at_cap(16, 6, b"\xb4\x00\x8c\x00\x78\x00\xff\xff"),
    ),
    Hostile(
        "baseline JPEG at the pixel cap, cut short",
        "image",
        "cap.jpg",
        "image_corrupt",
        _jpeg_at_cap(PIXEL_CAPS["JPEG"], progressive=False),
    ),
    Hostile(
        "progressive JPEG at its pixel cap, cut short",
        "image",
        "cap.jpg",
        "image_corrupt",
        _jpeg_at_cap(PROGRESSIVE_JPEG_CAP, progressive=True),
    ),
    Hostile(
        "progressive JPEG over its pixel cap",
        "image",
        "big.jpg",
        "image_too_many_pixels",
        _jpeg_at_cap(PIXEL_CAPS["JPEG"], progressive=True),
    ),
    Hostile("WebP at the pixel cap, cut short", "image", "cap.webp", "image_corrupt", _webp_at_cap),
    Hostile(
        "TIFF",
        "image",
        "face.png",
        "image_unsupported",
        lambda _u: _image(makers.photo((400, 400)), format="TIFF"),
    ),
    Hostile(
        "BMP",
        "image",
        "face.jpg",
        "image_unsupported",
        lambda _u: _image(makers.photo((400, 400)), format="BMP"),
    ),
    Hostile(
        "ICO",
        "image",
        "face.webp",
        "image_unsupported",
        lambda _u: _image(makers.photo((256, 256)), format="ICO"),
    ),
    Hostile(
        "HEIC brand",
        "image",
        "face.heic",
        "image_unsupported",
        _const(b"\x00\x00\x00\x18ftypheic\x00\x00\x00\x00mif1heic" + bytes(100)),
    ),
    Hostile("WAV as a picture", "image", "face.png", "image_not_image", _wav(16_000, 1)),
    Hostile("picture as audio", "audio", "voice.wav", "audio_is_picture", lambda _u: _face()),
]
