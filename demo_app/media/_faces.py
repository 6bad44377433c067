"""The face pre-flight: find the faces of a checked picture and frame what the model receives.

Models that animate one face fail (after a paid run) on a picture without one, and pick a face
of their own in a group photo. So, before anything is held, the faces are found with the Haar
cascade that ships inside the OpenCV wheel (nothing is downloaded), numbered left to right, and
the visitor's choice decides the picture sent: the whole picture, or a square framed on the face
chosen. The same call, with the same choice, writes the same bytes for the preview and for the
job, so what the page shows is what the model gets.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Literal

import cv2
import numpy as np
import numpy.typing as npt
from PIL import Image, ImageDraw, ImageFont

from demo_app.media._errors import MediaErrorCode
from demo_app.media._files import new_path
from demo_app.media._image import JPEG_QUALITY, PreparedImage, prepare_image

Box = tuple[int, int, int, int]
"""x, y, width, height in the checked picture's pixels."""
Framing = Literal["whole", "face"]

DETECT_SIDE = 640
"""Faces are looked for on a copy this size at most: a face a tenth of that is still found."""
MIN_WEIGHT = 3.0
"""Below this certainty a face beside a surer one is the cascade seeing faces in a pattern: real
faces measured 4.4 to 10.4, a false one in the seam between two faces 2.3. The surest face of a
picture is kept whatever its weight (a dim photo)."""
FRAME_FACE_HEIGHTS = 2.6
"""A framed picture's side, in face heights: the head, the hair and the top of the shoulders."""


@dataclass(frozen=True)
class FaceChoice:
    """What the visitor decided about the picture's faces; the defaults decide nothing."""

    use_anyway: bool = False
    """Send a picture in which no face was found (drawings and stylised faces may still work)."""
    face: int | None = None
    """The face to animate, numbered from 1, left to right."""
    framing: Framing | None = None
    """None: framed on the face when the picture shows several, else the whole picture."""


@dataclass(frozen=True)
class FramedPicture:
    """The checked picture, its faces, and what the model receives (None while a problem stands)."""

    whole: PreparedImage
    faces: tuple[Box, ...]
    sent: PreparedImage | None
    face: int | None
    framing: Framing
    problem: str | None = None
    problem_code: MediaErrorCode | None = None


def frame_picture(
    src: Path,
    dest_dir: Path,
    *,
    min_side: int,
    max_side: int,
    max_bytes: int,
    choice: FaceChoice,
    faces: tuple[Box, ...] | None = None,
) -> FramedPicture:
    """`prepare_image`, then the faces and the picture the choice sends; MediaError for a bad file.
    `faces`: what an earlier check of the same file with the same limits found (not searched again)."""
    whole = prepare_image(src, dest_dir, min_side=min_side, max_side=max_side, max_bytes=max_bytes)
    with Image.open(whole.path) as opened:
        rgb = opened.convert("RGB")
    if faces is None:
        faces = find_faces(np.asarray(rgb, dtype=np.uint8))
    if not faces:
        if choice.use_anyway:
            return FramedPicture(whole, faces, whole, None, "whole")
        return _problem(whole, faces, "image_no_face", NO_FACE)
    if choice.face is None and len(faces) > 1:
        return _problem(whole, faces, "image_many_faces", many_faces(len(faces)))
    number = choice.face or 1
    if not 1 <= number <= len(faces):
        return _problem(whole, faces, "image_no_such_face", no_such_face(number, len(faces)))
    framing = choice.framing or ("face" if len(faces) > 1 else "whole")
    if framing == "whole":
        return FramedPicture(whole, faces, whole, number, framing)
    left, top, side = face_square(rgb.size, faces[number - 1], min_side)
    framed = rgb.crop((left, top, left + side, top + side))
    dest = new_path(dest_dir, "framed", ".jpg")
    framed.save(dest, format="JPEG", quality=JPEG_QUALITY)
    sent = PreparedImage(path=dest, width=side, height=side, content_type="image/jpeg")
    return FramedPicture(whole, faces, sent, number, framing)


NO_FACE = (
    "No face was found in this picture; use a clear photo of a face looking at the camera, or "
    "choose “Use this picture anyway” (drawings and stylised faces may still work)."
)


def many_faces(count: int) -> str:
    return f"The picture shows {count} faces; choose the one to animate (they are numbered left to right)."


def no_such_face(number: int, count: int) -> str:
    faces = "1 face" if count == 1 else f"{count} faces"
    return f"There is no face {number}: the picture shows {faces}; choose one of them."


def _problem(whole: PreparedImage, faces: tuple[Box, ...], code: MediaErrorCode, text: str) -> FramedPicture:
    return FramedPicture(whole, faces, None, None, "whole", problem=text, problem_code=code)


def find_faces(rgb: npt.NDArray[np.uint8]) -> tuple[Box, ...]:
    """Every frontal face, left to right; histogram equalisation only as a second try (on a
    well-lit picture it invites false faces in the background)."""
    height, width = rgb.shape[:2]
    scale = min(1.0, DETECT_SIDE / max(height, width))
    small = rgb if scale == 1.0 else cv2.resize(rgb, (round(width * scale), round(height * scale)))
    gray = np.asarray(cv2.cvtColor(small, cv2.COLOR_RGB2GRAY), dtype=np.uint8)
    found = _detect(gray) or _detect(np.asarray(cv2.equalizeHist(gray), dtype=np.uint8))
    boxes = [tuple(round(v / scale) for v in box) for box in found]
    return tuple(sorted((x, y, w, h) for x, y, w, h in boxes))


def _detect(gray: npt.NDArray[np.uint8]) -> list[Box]:
    """The cascade's faces, without the weak ones a busy picture adds (a seam, a pattern): less
    certain than `MIN_WEIGHT` beside a surer face, or overlapping a surer one."""
    min_face = max(24, min(gray.shape) // 10)
    found, _, weights = _cascade().detectMultiScale3(
        gray, scaleFactor=1.1, minNeighbors=5, minSize=(min_face, min_face), outputRejectLevels=True
    )
    if len(found) == 0:
        return []
    ranked = sorted(zip(np.ravel(weights).tolist(), np.asarray(found).tolist(), strict=True), reverse=True)
    kept: list[Box] = []
    for weight, (x, y, w, h) in ranked:
        weak = bool(kept) and weight < MIN_WEIGHT
        if not weak and not any(_overlap((x, y, w, h), box) for box in kept):
            kept.append((int(x), int(y), int(w), int(h)))
    return kept


def _overlap(a: Box, b: Box) -> bool:
    """True when the centre of either box lies inside the other."""
    return _inside(a, b) or _inside(b, a)


def _inside(a: Box, b: Box) -> bool:
    cx, cy = a[0] + a[2] / 2, a[1] + a[3] / 2
    return b[0] <= cx <= b[0] + b[2] and b[1] <= cy <= b[1] + b[3]


@lru_cache(maxsize=1)
def _cascade() -> cv2.CascadeClassifier:
    """One classifier per worker process; loading the XML costs more than a detection."""
    folder: str = cv2.data.haarcascades  # type: ignore[attr-defined]  # missing from OpenCV's type stubs
    classifier = cv2.CascadeClassifier(folder + "haarcascade_frontalface_default.xml")
    if classifier.empty():
        raise RuntimeError("OpenCV's bundled face cascade is missing; reinstall opencv-python-headless<5.")
    return classifier


def face_square(size: tuple[int, int], box: Box, min_side: int) -> tuple[int, int, int]:
    """Left, top and side of the square framed on `box`: never smaller than the model takes,
    never outside the picture, the face a little above the middle."""
    width, height = size
    x, y, w, h = box
    side = min(width, height, max(min_side, round(FRAME_FACE_HEIGHTS * max(w, h))))
    centre_x, centre_y = x + w / 2, y + 0.6 * h
    left = min(max(0, round(centre_x - side / 2)), width - side)
    top = min(max(0, round(centre_y - side / 2)), height - side)
    return left, top, side


def draw_faces(whole: Path, faces: tuple[Box, ...], dest_dir: Path) -> Path:
    """A copy of the picture with each face boxed and numbered, for the visitor to choose from."""
    with Image.open(whole) as opened:
        picture = opened.convert("RGB")
    draw = ImageDraw.Draw(picture)
    stroke = max(2, min(picture.size) // 150)
    font = ImageFont.load_default(size=max(16, min(picture.size) // 12))
    for number, (x, y, w, h) in enumerate(faces, start=1):
        draw.rectangle((x, y, x + w, y + h), outline=(255, 214, 0), width=stroke)
        draw.text(
            (x + stroke * 2, y + stroke),
            str(number),
            fill=(255, 214, 0),
            font=font,
            stroke_width=stroke,
            stroke_fill=(0, 0, 0),
        )
    dest = new_path(dest_dir, "faces", ".jpg")
    picture.save(dest, format="JPEG", quality=85)
    return dest
