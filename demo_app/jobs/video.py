"""Check a delivered video for real before anyone is charged for it."""

from __future__ import annotations

from pathlib import Path

import av


def video_duration(path: Path) -> float:
    """Seconds of video in the file; ValueError if it has no decodable video stream."""
    try:
        with av.open(str(path)) as container:
            if not container.streams.video:
                raise ValueError("no video stream")
            stream = container.streams.video[0]
            last = 0.0
            frames = 0
            for frame in container.decode(stream):
                frames += 1
                if frame.time is not None:
                    last = max(last, float(frame.time))
            if frames == 0:
                raise ValueError("no video frames")
            rate = float(stream.average_rate) if stream.average_rate else 0.0
            return last + (1.0 / rate if rate else 0.0)
    except av.error.FFmpegError as exc:
        raise ValueError(f"not a readable video: {exc}") from exc
