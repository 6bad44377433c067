"""Check a delivered video for real before anyone is charged for it.

The file comes from upstream, so it is treated like an upload: MP4 or WebM/Matroska by its
bytes, opened with that demuxer only, no nested opens. Its length comes from the packets'
timestamps (cheap, no frame decoded), and a first frame must decode, so a file that merely
looks like a video is not taken for one.
"""

from __future__ import annotations

from pathlib import Path

import av
import av.error

from demo_app.media._open import open_input, single_threaded
from demo_app.media._sniff import MATROSKA, MP4, audio_format

MAX_VIDEO_S = 3600.0
"""No model we offer makes an hour of video; a larger figure is a broken or crafted file."""

_ERRORS = (av.error.FFmpegError, ValueError, OSError, EOFError)


def video_duration(path: Path) -> float:
    """Seconds of video in the file; ValueError if it has no decodable video stream."""
    container_format = audio_format(path)
    if container_format not in (MP4, MATROSKA):
        raise ValueError("not an MP4 or WebM file")
    try:
        with path.open("rb") as handle, open_input(handle, container_format.demuxer) as container:
            if not container.streams.video:
                raise ValueError("no video stream")
            stream = container.streams.video[0]
            single_threaded(stream)
            return _length(container, stream)
    except _ERRORS as exc:
        raise ValueError(f"not a readable video: {type(exc).__name__}") from None


def _length(container: av.container.InputContainer, stream: av.VideoStream) -> float:
    end = 0.0
    decoded = False
    for packet in container.demux(stream):
        if packet.pts is None or packet.time_base is None:
            continue
        if not decoded:
            decoded = any(True for _ in packet.decode())
        end = max(end, float((packet.pts + (packet.duration or 0)) * packet.time_base))
        if end > MAX_VIDEO_S:
            raise ValueError("implausibly long")
    if not decoded and not stream.codec_context.decode(None):
        raise ValueError("no video frames")
    return end
