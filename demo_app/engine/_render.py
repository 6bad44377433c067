"""The built-in engine's renderer: a still face and a sound clip in, a talking-face MP4 out.

A pure, picklable top-level function so the engine can run it in a process pool: it reads its two
inputs, writes one file, and reports what it did. The mouth opens with the sound's loudness, the
eyes blink now and then and the head sways a little; the sound is carried as AAC beside H.264 video.
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from demo_app.engine._animate import EyeBlink, HeadSway, MouthWarp, blink_amount
from demo_app.engine._face import Box, load_picture, locate_face
from demo_app.engine._loudness import frame_count, mouth_openness, read_audio
from demo_app.engine._mp4 import Mp4Writer

__all__ = ["RenderReport", "render_talking_face"]

_PROGRESS_STEPS = 100  # progress reports per render (a caller may cancel by raising from one)


@dataclass(frozen=True)
class RenderReport:
    """What a render produced; face_box is (x, y, width, height) in output-frame pixels, or None."""

    frames: int
    duration_s: float
    face_found: bool
    face_box: Box | None


def render_talking_face(
    image_path: Path,
    audio_path: Path,
    out_path: Path,
    *,
    fps: int = 25,
    max_side: int = 512,
    on_progress: Callable[[int, int], None] | None = None,
) -> RenderReport:
    """Render the MP4 to a temporary file beside out_path and rename it, so out_path is never half-written.

    Raises ValueError with a readable sentence when an input cannot be decoded.
    """
    if fps < 1 or max_side < 2:
        raise ValueError(f"fps must be at least 1 and max_side at least 2, not {fps} and {max_side}.")
    still = load_picture(image_path, max_side)
    audio = read_audio(audio_path)
    layout = locate_face(still)
    frames = frame_count(audio.duration_s, fps)
    openness = mouth_openness(audio, frames, fps)
    height, width = still.shape[:2]
    mouth = MouthWarp(still, layout)
    eyes = EyeBlink(still, layout.eyes)
    sway = HeadSway(layout, (width, height), openness, fps)
    step = max(1, frames // _PROGRESS_STEPS)

    out_path.parent.mkdir(parents=True, exist_ok=True)
    handle, temp_name = tempfile.mkstemp(prefix=f".{out_path.stem}-", suffix=".mp4.part", dir=out_path.parent)
    os.close(handle)
    temp_path = Path(temp_name)
    try:
        with Mp4Writer(temp_path, width=width, height=height, fps=fps, frames=frames, audio=audio) as writer:
            for index in range(frames):
                frame = still.copy()
                mouth.paint(frame, float(openness[index]))
                eyes.paint(frame, blink_amount(index / fps))
                writer.add_frame(sway.paint(frame, index))
                if on_progress is not None and (index + 1) % step == 0 and index + 1 < frames:
                    on_progress(index + 1, frames)
            writer.finish()
        os.replace(temp_path, out_path)
    except BaseException:
        temp_path.unlink(missing_ok=True)
        raise
    if on_progress is not None:
        on_progress(frames, frames)
    return RenderReport(
        frames=frames,
        duration_s=audio.duration_s,
        face_found=layout.found,
        face_box=layout.face_box if layout.found else None,
    )
