"""Write H.264 video and AAC sound into one MP4 in-process with PyAV's bundled FFmpeg libraries."""

from __future__ import annotations

from contextlib import suppress
from fractions import Fraction
from pathlib import Path
from types import TracebackType

import av
import cv2
import numpy as np

from demo_app.engine._face import RGBImage
from demo_app.engine._loudness import DecodedAudio


class Mp4Writer:
    """Encodes frames as they come and the matching stretch of sound with each, so the file is interleaved."""

    def __init__(
        self, path: Path, *, width: int, height: int, fps: int, frames: int, audio: DecodedAudio
    ) -> None:
        self._audio = audio
        self._fps = fps
        self._frames = frames
        self._index = 0
        self._sent = 0
        # faststart puts the index first so browsers can play the video before it has fully arrived
        self._container = av.open(str(path), "w", format="mp4", options={"movflags": "+faststart"})
        self._video = self._container.add_stream("libx264", rate=fps, options={"preset": "fast", "crf": "23"})
        self._video.width, self._video.height, self._video.pix_fmt = width, height, "yuv420p"
        self._sound = self._container.add_stream("aac", rate=audio.rate, layout="mono")

    def add_frame(self, rgb: RGBImage) -> None:
        """Encode the next picture, then the sound up to the end of its display time."""
        planes = np.asarray(cv2.cvtColor(rgb, cv2.COLOR_RGB2YUV_I420), dtype=np.uint8)
        frame = av.VideoFrame.from_ndarray(planes, format="yuv420p")
        frame.pts = self._index
        self._container.mux(self._video.encode(frame))
        self._index += 1
        if self._index >= self._frames:
            self._send_sound(len(self._audio.samples))
        else:
            self._send_sound(round(self._index / self._fps * self._audio.rate))

    def finish(self) -> None:
        """Flush both encoders and write the index; the file is complete only after this."""
        self._send_sound(len(self._audio.samples))
        self._container.mux(self._video.encode(None))
        self._container.mux(self._sound.encode(None))
        self._container.close()

    def _send_sound(self, until: int) -> None:
        until = min(until, len(self._audio.samples))
        if until <= self._sent:
            return
        chunk = np.ascontiguousarray(self._audio.samples[None, self._sent : until])
        frame = av.AudioFrame.from_ndarray(chunk, format="flt", layout="mono")
        frame.sample_rate = self._audio.rate
        frame.time_base = Fraction(1, self._audio.rate)
        frame.pts = self._sent
        self._container.mux(self._sound.encode(frame))
        self._sent = until

    def __enter__(self) -> Mp4Writer:
        return self

    def __exit__(
        self, kind: type[BaseException] | None, error: BaseException | None, trace: TracebackType | None
    ) -> None:
        if kind is not None:
            with suppress(av.FFmpegError, OSError):  # the first error is the one worth reporting
                self._container.close()
