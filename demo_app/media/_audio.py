"""Speech: decode for real with FFmpeg (PyAV), measure it, hand on a mono 16-bit WAV.

The length that counts is the one the decoded samples add up to: browser recordings (WebM/Opus
from MediaRecorder) often carry no duration at all, and headers of cut files still claim the
original length, so a declared length is never trusted. The container is decided from the
file's bytes against an allow-list and opened with that demuxer only (see `_open`), whatever
the file is called; declared rates and channel counts are bounded before decoding, and sound is
decoded and resampled a frame at a time, keeping no more than the model can take.
"""

from __future__ import annotations

import math
import wave
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import av
import av.error
import numpy as np

from demo_app.media._errors import MediaError, duration_text, limit_text
from demo_app.media._files import check_file, new_path
from demo_app.media._open import open_input, single_threaded
from demo_app.media._sniff import AudioFormat, audio_format, head, known_other, looks_like_image

DEFAULT_MIN_SECONDS = 0.5
"""Shorter than this there is no word to lip-sync."""

SILENCE_DBFS = -50.0
"""The loudest 50 ms of a recording must reach this level; a quiet room with no speech stays
well below (-60 dBFS or less), speech reaches -30 to -10 dBFS."""

LENGTH_TOLERANCE_S = 0.1
"""Encoders pad a few milliseconds (AAC priming); a "60 s" file may decode to 60.02 s."""

MAX_BAD_PACKETS = 3
"""Packets that fail to decode are skipped up to this many (or 1 % of all), as players do."""

MIN_SOURCE_RATE, MAX_SOURCE_RATE = 8_000, 192_000
"""Sample rates recordings use (telephone to studio); a "1 Hz" header would make resampling
to 16 kHz multiply every sample by 16,000."""

MAX_CHANNELS = 8
"""7.1 surround; more is a crafted header, not a recording."""

COUNTED_S = 15 * 60.0
"""Decoding stops once this much sound is counted: the refusal then says "longer than 15 min"."""

MAX_PACKET_BYTES = 1024 * 1024
"""No codec we take packs a megabyte into one packet; a crafted container could pack 25."""

_UPLOAD = "upload a WAV, MP3, M4A, OGG or WebM recording"
_OPEN_ERRORS = (av.error.FFmpegError, ValueError, OSError, EOFError)
_WINDOW_S = 0.05
_MIN_RATE, _MAX_RATE = 16_000, 48_000


@dataclass(frozen=True)
class PreparedAudio:
    path: Path
    duration_s: float
    content_type: str


@dataclass
class _Decoded:
    rate: int
    chunks: list[np.ndarray]
    kept_samples: int = 0
    """Samples decoded (at `rate`, mono) up to the limit, skipped ones included."""
    skip_samples: int = 0
    """Samples before the start of the part kept: counted, never stored."""
    seconds: float = 0.0
    """Length of all the audio decoded, stored or not."""


def prepare_audio(
    src: Path,
    dest_dir: Path,
    *,
    max_seconds: float,
    max_bytes: int,
    min_seconds: float = DEFAULT_MIN_SECONDS,
    max_result_bytes: int | None = None,
    trim: Trim | None = None,
) -> PreparedAudio:
    """Mono 16-bit PCM WAV at the source rate (kept within 16-48 kHz), or MediaError saying why not.

    `max_result_bytes`: the largest file the model takes. A WAV above it is sent as AAC in an
    M4A instead (about a tenth of the size); if even that does not fit, the clip is refused.
    `trim`: only that part of the clip is kept, checked and sent; its `duration_s` is
    `trimmed_seconds`, the figure the estimate priced.
    """
    check_file(src, max_bytes=max_bytes, kind="audio")
    if trim is None:
        decoded = _decode(src, keep_seconds=max_seconds + LENGTH_TOLERANCE_S)
        length = decoded.seconds
    else:
        start, end = trim
        # Never more than the model takes is stored, whatever end the caller names.
        end = min(end, start + max_seconds + LENGTH_TOLERANCE_S)
        decoded = _decode(src, keep_seconds=end, skip_seconds=start)
        length = trimmed_seconds(decoded.seconds, trim)
    check_audio_length(length, max_seconds=max_seconds, min_seconds=min_seconds)
    samples = np.concatenate(decoded.chunks) if decoded.chunks else np.zeros(0, dtype=np.int16)
    if trim is not None:
        samples = samples[: max(0, round((end - trim[0]) * decoded.rate))]
    loudest = _loudest_dbfs(samples, decoded.rate)
    if loudest < SILENCE_DBFS:
        raise MediaError(
            "audio_silent",
            f"The audio is silent throughout (its loudest moment is {loudest:.0f} dBFS); record "
            "again with the microphone on and closer to your mouth.",
        )
    dest = new_path(dest_dir, "audio", ".wav")
    with wave.open(str(dest), "wb") as out:
        out.setnchannels(1)
        out.setsampwidth(2)
        out.setframerate(decoded.rate)
        out.writeframes(samples.astype("<i2").tobytes())
    duration_s = len(samples) / decoded.rate if trim is None else length
    if max_result_bytes is None or dest.stat().st_size <= max_result_bytes:
        return PreparedAudio(path=dest, duration_s=duration_s, content_type="audio/wav")
    dest.unlink()
    compressed = new_path(dest_dir, "audio", ".m4a")
    _encode_aac(samples, decoded.rate, compressed)
    if compressed.stat().st_size > max_result_bytes:
        compressed.unlink()
        raise MediaError(
            "audio_too_large",
            f"This model takes audio files of at most {max_result_bytes / (1024 * 1024):g} MB, and "
            "this clip does not fit even compressed; use a shorter clip.",
        )
    return PreparedAudio(path=compressed, duration_s=duration_s, content_type="audio/mp4")


Trim = tuple[float, float]
"""The part of a clip to send: start and end, in seconds from its beginning."""


def trimmed_seconds(total_s: float, trim: Trim) -> float:
    """How long the part `trim` of a `total_s` clip is (0 when it starts past the end)."""
    start, end = trim
    return max(0.0, min(end, total_s) - start)


AAC_BIT_RATE = 128_000
"""Speech in AAC at 128 kbit/s: about 1 MB a minute, clear enough for lip-sync."""


def _encode_aac(samples: np.ndarray, rate: int, dest: Path) -> None:
    """Write mono 16-bit `samples` as AAC in an M4A (MP4) container."""
    with av.open(str(dest), "w", format="ipod") as container:
        stream = container.add_stream("aac", rate=rate, layout="mono")
        stream.bit_rate = AAC_BIT_RATE
        frame = av.AudioFrame.from_ndarray(samples.astype("<i2")[None, :], format="s16", layout="mono")
        frame.sample_rate = rate
        for packet in stream.encode(frame):
            container.mux(packet)
        for packet in stream.encode(None):
            container.mux(packet)


def check_audio_length(
    duration_s: float, *, max_seconds: float, min_seconds: float = DEFAULT_MIN_SECONDS
) -> None:
    """MediaError when `duration_s` is outside what the model takes (with the encoder tolerance).

    The live estimate calls this on `audio_duration()` so it refuses exactly what
    `prepare_audio` will refuse, in the same words.
    """
    if duration_s > max(COUNTED_S, max_seconds + LENGTH_TOLERANCE_S):
        raise MediaError(
            "audio_too_long",
            f"The audio is longer than {limit_text(COUNTED_S)}; this model takes at most "
            f"{limit_text(max_seconds)} — trim it and try again.",
        )
    if duration_s > max_seconds + LENGTH_TOLERANCE_S:
        raise MediaError(
            "audio_too_long",
            f"The audio is {duration_text(duration_s, rounding='up')} long; this model takes at most "
            f"{limit_text(max_seconds)} — trim it and try again.",
        )
    if duration_s < min_seconds:
        raise MediaError(
            "audio_too_short",
            f"The audio is only {duration_text(duration_s, rounding='down')} long; record at least "
            f"{limit_text(min_seconds)} of speech and try again.",
        )


def audio_duration(src: Path) -> float:
    """Seconds of audio, counted from decoded samples; MediaError if the file is not usable audio."""
    check_file(src, max_bytes=None, kind="audio")
    return _decode(src, keep_seconds=0.0).seconds


def _decode(src: Path, *, keep_seconds: float, skip_seconds: float = 0.0) -> _Decoded:
    """Decode the first audio track; keep mono samples for the first `keep_seconds`, count the rest.

    Counting stops past `COUNTED_S`: the length is then only known to be too long, and a tiny
    file cannot make us decode hours of sound.
    """
    container_format = audio_format(src)
    if container_format is None:
        raise _refused_format(src)
    with src.open("rb") as handle:
        try:
            container = open_input(handle, container_format.demuxer)
        except _OPEN_ERRORS:
            raise _damaged("it cannot be opened") from None
        with container:
            if not container.streams.audio:
                raise _no_audio_track(has_video=bool(container.streams.video))
            stream = container.streams.audio[0]
            _check_declared(stream, container_format)
            single_threaded(stream)
            rate = _target_rate(stream.codec_context.sample_rate)
            decoded = _Decoded(rate=rate, chunks=[], skip_samples=round(skip_seconds * rate))
            _decode_frames(container, stream, decoded, keep_seconds=keep_seconds)
    return decoded


def _decode_frames(
    container: av.container.InputContainer, stream: av.AudioStream, decoded: _Decoded, *, keep_seconds: float
) -> None:
    """Frame by frame (each one small), so memory follows what is kept, not what the file claims."""
    keep_limit = math.ceil(keep_seconds * decoded.rate)
    resampler = av.AudioResampler(format="s16", layout="mono", rate=decoded.rate)
    packets = bad = 0
    for frames in _packet_frames(container, stream):
        packets += 1
        if frames is None:
            bad += 1
            continue
        for frame in frames:
            _check_frame(frame)
            decoded.seconds += frame.samples / frame.sample_rate
            if decoded.kept_samples < keep_limit:
                _keep(decoded, resampler, frame)
        if decoded.seconds > COUNTED_S:
            break
    else:
        if decoded.kept_samples < keep_limit:
            _keep(decoded, resampler, None)
    if bad > max(MAX_BAD_PACKETS, packets // 100) or (bad and decoded.seconds == 0):
        raise _damaged("its sound could not be decoded")


def _check_declared(stream: av.AudioStream, container_format: AudioFormat) -> None:
    """Refusals decided from the header, before any sound is decoded."""
    context = stream.codec_context
    if context.name not in container_format.codecs:
        raise MediaError(
            "audio_unsupported",
            f"This recording is encoded as {context.name}, which we do not take; {_UPLOAD} instead.",
        )
    _check_rate_and_channels(context.sample_rate, context.channels)


def _check_frame(frame: av.AudioFrame) -> None:
    """A header is only a promise: every decoded frame is held to the same bounds."""
    _check_rate_and_channels(frame.sample_rate, frame.layout.nb_channels)


def _check_rate_and_channels(rate: int | None, channels: int | None) -> None:
    if not rate or not MIN_SOURCE_RATE <= rate <= MAX_SOURCE_RATE:
        raise MediaError(
            "audio_bad_rate",
            f"The audio declares {rate or 0} samples per second, outside the 8–192 kHz that recordings "
            f"use; export it again as WAV or MP3 and retry.",
        )
    if not channels or channels > MAX_CHANNELS:
        raise MediaError(
            "audio_bad_channels",
            f"The audio declares {channels or 0} channels and we take 1 to {MAX_CHANNELS}; export it "
            "as mono or stereo and try again.",
        )


def _packet_frames(
    container: av.container.InputContainer, stream: av.AudioStream
) -> Iterator[list[av.AudioFrame] | None]:
    """Each packet's decoded frames, or None for a packet that failed to decode."""
    demuxer = container.demux(stream)
    while True:
        try:
            packet = next(demuxer)
        except StopIteration:
            return
        except (av.error.FFmpegError, ValueError):
            yield None
            return
        if packet.size > MAX_PACKET_BYTES:
            yield None
            continue
        try:
            yield list(packet.decode())
        except (av.error.FFmpegError, ValueError):
            yield None


def _keep(decoded: _Decoded, resampler: av.AudioResampler, frame: av.AudioFrame | None) -> None:
    try:
        resampled = resampler.resample(frame)
    except (av.error.FFmpegError, ValueError):
        # The format changed mid-stream (rate, layout): no recording does that.
        raise _damaged("its sound changes format part-way") from None
    for out in resampled:
        chunk = out.to_ndarray().reshape(-1)
        skipped = min(len(chunk), max(0, decoded.skip_samples - decoded.kept_samples))
        decoded.kept_samples += len(chunk)
        if skipped < len(chunk):
            decoded.chunks.append(chunk[skipped:])


def _target_rate(source_rate: int | None) -> int:
    """Keep the source rate when models handle it well; bring telephone or odd rates in range."""
    if not source_rate:
        return _MIN_RATE
    return min(max(source_rate, _MIN_RATE), _MAX_RATE)


def _loudest_dbfs(samples: np.ndarray, rate: int) -> float:
    """Level of the loudest 50 ms window, in dB relative to full scale (-inf for digital silence)."""
    if len(samples) == 0:
        return -math.inf
    window = max(1, int(rate * _WINDOW_S))
    count = max(1, len(samples) // window)
    usable = samples[: count * window] if len(samples) >= window else samples
    levels = usable.astype(np.float64).reshape(count, -1)
    loudest = float(np.sqrt(np.mean(levels**2, axis=1)).max())
    return 20 * math.log10(loudest / 32768) if loudest > 0 else -math.inf


def _refused_format(src: Path) -> MediaError:
    data = head(src)
    other = known_other(data)
    if looks_like_image(data):
        return _picture_error()
    if other is not None:
        return MediaError(
            "audio_unsupported", f"This is a {other}, not a recording we take; {_UPLOAD} instead."
        )
    return MediaError("audio_not_audio", f"This file is not audio we can read; {_UPLOAD}.")


def _damaged(why: str) -> MediaError:
    return MediaError(
        "audio_corrupt",
        f"The audio file is damaged or incomplete ({why}); export or record it again and retry.",
    )


def _no_audio_track(*, has_video: bool) -> MediaError:
    if has_video:
        return MediaError(
            "audio_no_sound_track",
            "This video has no sound track; upload a recording with speech in it.",
        )
    return MediaError(
        "audio_not_audio",
        f"This file holds no audio we can read; {_UPLOAD}.",
    )


def _picture_error() -> MediaError:
    return MediaError(
        "audio_is_picture",
        "This file is a picture, not a sound recording; put it in the picture box and upload speech here.",
    )
