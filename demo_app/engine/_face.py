"""Load a still picture and find where its face, mouth and eyes are.

Detection uses the Haar cascades that ship inside the OpenCV wheel, so nothing is fetched at run
time. A picture without a detectable face still gets a layout (a centred stand-in), so every
upload animates; the caller reports that no face was found.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import cv2
import numpy as np
import numpy.typing as npt
from PIL import Image, ImageOps, UnidentifiedImageError

Box = tuple[int, int, int, int]  # x, y, width, height in frame pixels
RGBImage = npt.NDArray[np.uint8]


@dataclass(frozen=True)
class FaceLayout:
    """Frame-pixel positions the animation needs: the lip line, the mouth width, the eyes."""

    face_box: Box
    found: bool
    mouth_x: int
    mouth_y: int
    mouth_half_width: int
    eyes: tuple[Box, ...]


def load_picture(path: Path, max_side: int) -> RGBImage:
    """Decode any picture PIL reads into RGB, longest side <= max_side, both sides even (H.264 needs it)."""
    try:
        with Image.open(path) as opened:
            image = ImageOps.exif_transpose(opened)
            image.load()
    except (UnidentifiedImageError, OSError) as exc:
        raise ValueError(
            f"The picture {path.name} could not be read; upload a PNG, JPEG or WebP image."
        ) from exc
    if image.mode in ("RGBA", "LA", "PA") or (image.mode == "P" and "transparency" in image.info):
        rgba = image.convert("RGBA")
        image = Image.new("RGB", rgba.size, (255, 255, 255))
        image.paste(rgba, mask=rgba.getchannel("A"))
    image = image.convert("RGB")
    scale = min(1.0, max_side / max(image.size))
    width = max(2, round(image.width * scale)) // 2 * 2
    height = max(2, round(image.height * scale)) // 2 * 2
    if (width, height) != image.size:
        image = image.resize((width, height), Image.Resampling.LANCZOS)
    return np.asarray(image, dtype=np.uint8).copy()


@lru_cache(maxsize=4)
def _cascade(name: str) -> cv2.CascadeClassifier:
    """One classifier per process; loading the XML costs more than a detection."""
    folder: str = cv2.data.haarcascades  # type: ignore[attr-defined]  # missing from OpenCV's type stubs
    classifier = cv2.CascadeClassifier(folder + name)
    if classifier.empty():
        raise RuntimeError(f"OpenCV's bundled cascade {name} is missing; reinstall opencv-python-headless<5.")
    return classifier


def locate_face(rgb: RGBImage) -> FaceLayout:
    """The most certain frontal face, its lip line and eyes; a centred stand-in when there is none.

    Histogram equalisation is only a second try for dim or flat pictures: on well-lit ones it
    invites false faces in the background.
    """
    gray = np.asarray(cv2.cvtColor(rgb, cv2.COLOR_RGB2GRAY), dtype=np.uint8)
    height, width = gray.shape
    box = _best_face(gray) or _best_face(np.asarray(cv2.equalizeHist(gray), dtype=np.uint8))
    if box is None:
        side = max(8, int(min(width, height) * 0.45))
        return _layout(gray, ((width - side) // 2, (height - side) // 2, side, side), found=False, eyes=())
    return _layout(gray, box, found=True, eyes=_find_eyes(gray, box))


def _best_face(gray: npt.NDArray[np.uint8]) -> Box | None:
    min_face = max(24, min(gray.shape) // 10)
    faces, _, weights = _cascade("haarcascade_frontalface_default.xml").detectMultiScale3(
        gray, scaleFactor=1.1, minNeighbors=5, minSize=(min_face, min_face), outputRejectLevels=True
    )
    if len(faces) == 0:
        return None
    x, y, w, h = (int(v) for v in faces[int(np.argmax(np.ravel(weights)))])
    return x, y, w, h


def _layout(gray: npt.NDArray[np.uint8], box: Box, *, found: bool, eyes: tuple[Box, ...]) -> FaceLayout:
    x, y, w, h = box
    return FaceLayout(
        face_box=box,
        found=found,
        mouth_x=x + w // 2,
        mouth_y=_lip_line(gray, box) if found else y + round(0.8 * h),
        mouth_half_width=max(2, round(0.24 * w)),
        eyes=eyes,
    )


def _lip_line(gray: npt.NDArray[np.uint8], box: Box) -> int:
    """The darkest row across the middle of the mouth: the gap between the lips, where the jaw parts."""
    x, y, w, h = box
    top, bottom = y + round(0.72 * h), y + round(0.90 * h)
    left, right = x + round(0.35 * w), x + round(0.65 * w)
    band = gray[top:bottom, left:right]
    if band.shape[0] < 3 or band.shape[1] < 1:
        return y + round(0.8 * h)
    rows = cv2.GaussianBlur(band.astype(np.float32), (0, 0), 1.5).mean(axis=1)
    return top + int(np.argmin(rows))


def _find_eyes(gray: npt.NDArray[np.uint8], box: Box) -> tuple[Box, ...]:
    """One eye per half of the face's upper part; guessed from face proportions where the cascade misses."""
    x, y, w, h = box
    upper = gray[y : y + round(0.6 * h), x : x + w]
    min_eye = max(6, w // 8)
    found = _cascade("haarcascade_eye.xml").detectMultiScale(
        upper, scaleFactor=1.1, minNeighbors=5, minSize=(min_eye, min_eye)
    )
    eyes: list[Box] = []
    for side in (0, 1):
        on_side = [
            (int(ex), int(ey), int(ew), int(eh))
            for ex, ey, ew, eh in found
            if (ex + ew / 2 < w / 2) == (side == 0) and ey + eh / 2 < 0.5 * h
        ]
        if on_side:
            ex, ey, ew, eh = max(on_side, key=lambda e: e[2] * e[3])
            eyes.append((x + ex, y + ey, ew, eh))
        else:
            size = max(6, round(0.25 * w))
            cx, cy = x + round((0.31 if side == 0 else 0.69) * w), y + round(0.38 * h)
            eyes.append((cx - size // 2, cy - size // 2, size, size))
    return tuple(eyes)
