"""Real media files made on the spot for the tests: encoded by PIL and FFmpeg (PyAV)."""

from __future__ import annotations

import io
import struct
import zlib
from pathlib import Path

import av
import numpy as np
from PIL import Image

SAMPLES = Path("/work/shared/samples")
FACE_PNG = SAMPLES / "face-512.png"
VOICE_WAV = SAMPLES / "voice-12s.wav"

# (suffix, container format, codec, sample rate): what browsers, phones and editors produce.
AUDIO_FORMATS = {
    "wav": (".wav", "wav", "pcm_s16le", 44_100),
    "mp3": (".mp3", "mp3", "mp3", 44_100),
    "m4a": (".m4a", "ipod", "aac", 44_100),
    "aac": (".aac", "adts", "aac", 22_050),
    "ogg-opus": (".ogg", "ogg", "libopus", 48_000),
    "webm-opus": (".webm", "webm", "libopus", 48_000),
    "flac": (".flac", "flac", "flac", 16_000),
}


def tone(seconds: float, rate: int, *, amplitude: float = 0.3, hz: float = 220.0) -> np.ndarray:
    """A sine tone as float samples in [-1, 1]; amplitude 0 is digital silence."""
    t = np.arange(round(seconds * rate)) / rate
    return amplitude * np.sin(2 * np.pi * hz * t)


def write_audio(
    path: Path,
    samples: np.ndarray,
    *,
    rate: int,
    container: str,
    codec: str,
    channels: int = 1,
) -> Path:
    """Encode `samples` (mono floats) with FFmpeg into `container`/`codec`."""
    layout = "mono" if channels == 1 else "stereo"
    pcm = (np.clip(samples, -1, 1) * 32767).astype(np.int16)
    with av.open(str(path), "w", format=container) as out:
        stream = out.add_stream(codec, rate=rate, layout=layout)
        assert isinstance(stream, av.AudioStream)
        _encode_pcm(out, stream, pcm, rate=rate, channels=channels)
    return path


def write_format(path_dir: Path, name: str, seconds: float = 1.5, *, amplitude: float = 0.3) -> Path:
    suffix, container, codec, rate = AUDIO_FORMATS[name]
    path = path_dir / f"speech-{name}{suffix}"
    return write_audio(
        path, tone(seconds, rate, amplitude=amplitude), rate=rate, container=container, codec=codec
    )


def write_video(path: Path, *, seconds: float = 1.0, with_audio: bool) -> Path:
    """An H.264 MP4, with or without an AAC sound track."""
    fps, rate = 10, 44_100
    with av.open(str(path), "w", format="mp4") as out:
        video = out.add_stream("libx264", rate=fps)
        video.width, video.height, video.pix_fmt = 64, 64, "yuv420p"
        audio = out.add_stream("aac", rate=rate, layout="mono") if with_audio else None
        assert audio is None or isinstance(audio, av.AudioStream)
        for index in range(round(seconds * fps)):
            pixels = np.full((64, 64, 3), index * 20 % 255, dtype=np.uint8)
            frame = av.VideoFrame.from_ndarray(pixels, format="rgb24")
            for packet in video.encode(frame):
                out.mux(packet)
        for packet in video.encode(None):
            out.mux(packet)
        if audio is not None:
            pcm = (tone(seconds, rate) * 32767).astype(np.int16)
            _encode_pcm(out, audio, pcm, rate=rate, channels=1)
    return path


def _encode_pcm(
    out: av.container.OutputContainer, stream: av.AudioStream, pcm: np.ndarray, *, rate: int, channels: int
) -> None:
    layout = "mono" if channels == 1 else "stereo"
    step = 1024
    for start in range(0, len(pcm), step):
        chunk = np.repeat(pcm[start : start + step].reshape(1, -1), channels, axis=0)
        interleaved = chunk.T.reshape(1, -1) if channels > 1 else chunk
        frame = av.AudioFrame.from_ndarray(interleaved, format="s16", layout=layout)
        frame.sample_rate = rate
        frame.pts = start
        for packet in stream.encode(frame):
            out.mux(packet)
    for packet in stream.encode(None):
        out.mux(packet)


def write_wav_claiming(path: Path, *, claimed_s: float, actual_s: float, rate: int = 16_000) -> Path:
    """A WAV whose header promises `claimed_s` seconds but whose data stops after `actual_s`."""
    data = (tone(actual_s, rate) * 32767).astype("<i2").tobytes()
    claimed_bytes = round(claimed_s * rate) * 2
    header = b"RIFF" + struct.pack("<I", 36 + claimed_bytes) + b"WAVE"
    header += b"fmt " + struct.pack("<IHHIIHH", 16, 1, 1, rate, rate * 2, 2, 16)
    header += b"data" + struct.pack("<I", claimed_bytes)
    path.write_bytes(header + data)
    return path


def wav_declaring(path: Path, *, rate: int, channels: int, data: bytes, bits: int = 16) -> Path:
    """A PCM WAV with whatever rate and channel count its header should claim, and `data` as samples."""
    align = channels * bits // 8
    header = b"RIFF" + struct.pack("<I", 36 + len(data)) + b"WAVE"
    header += b"fmt " + struct.pack(
        "<IHHIIHH", 16, 1, channels, rate, (rate * align) & 0xFFFFFFFF, align, bits
    )
    header += b"data" + struct.pack("<I", len(data))
    path.write_bytes(header + data)
    return path


def photo(
    size: tuple[int, int], color: tuple[int, int, int] = (180, 140, 120), mode: str = "RGB"
) -> Image.Image:
    """A plain picture with a darker square in the middle (something to look at)."""
    image = Image.new("RGB", size, color)
    w, h = size
    image.paste((60, 40, 30), (w // 3, h // 3, 2 * w // 3, 2 * h // 3))
    return image.convert(mode)


def png_chunk(kind: bytes, body: bytes) -> bytes:
    return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))


def png_from_rows(width: int, height: int, depth: int, colour: int, rows: bytes, *, level: int = 6) -> bytes:
    """A PNG from raw scanlines (each already prefixed with its filter byte)."""
    ihdr = struct.pack(">IIBBBBB", width, height, depth, colour, 0, 0, 0)
    idat = zlib.compress(rows, level)
    return (
        b"\x89PNG\r\n\x1a\n" + png_chunk(b"IHDR", ihdr) + png_chunk(b"IDAT", idat) + png_chunk(b"IEND", b"")
    )


def png_header_only(path: Path, width: int, height: int) -> Path:
    """A PNG that declares `width` × `height` pixels but holds almost no data: a decompression bomb's
    header, without making anyone allocate the bomb."""
    path.write_bytes(png_from_rows(width, height, 8, 2, b"\x00" * 64))
    return path


def png_16bit_rgb(path: Path, width: int, height: int) -> Path:
    """A 48-bit (16 bits per channel) red PNG, which PIL cannot write itself."""
    pixel = np.array([60_000, 8_000, 8_000], dtype=">u2").tobytes()
    row = b"\x00" + pixel * width
    path.write_bytes(png_from_rows(width, height, 16, 2, row * height))
    return path


def jpeg_header_only(path: Path, width: int, height: int) -> Path:
    """A small real JPEG whose frame header is rewritten to declare `width` × `height`."""
    buffer = io.BytesIO()
    photo((64, 64)).save(buffer, format="JPEG")
    data = bytearray(buffer.getvalue())
    sof = data.index(b"\xff\xc0")
    data[sof + 5 : sof + 9] = struct.pack(">HH", height, width)
    path.write_bytes(bytes(data))
    return path


def truncated_copy(src: Path, dest: Path, fraction: float) -> Path:
    data = src.read_bytes()
    dest.write_bytes(data[: int(len(data) * fraction)])
    return dest
