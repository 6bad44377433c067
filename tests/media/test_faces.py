"""Faces found in real pictures, and the square framed on one never leaves the picture."""

from __future__ import annotations

from pathlib import Path

import numpy as np
from PIL import Image, ImageOps

from demo_app.media import FaceChoice, frame_picture
from demo_app.media._faces import face_square, find_faces

SAMPLE = Path(__file__).resolve().parents[2] / "assets" / "sample-face.png"


def test_a_group_photo_has_its_faces_numbered_left_to_right_and_a_gradient_none() -> None:
    face = Image.open(SAMPLE).convert("RGB")
    group = Image.new("RGB", (face.width * 2, face.height))
    group.paste(face, (0, 0))
    group.paste(ImageOps.mirror(face), (face.width, 0))
    faces = find_faces(np.asarray(group))
    assert len(faces) == 2 and faces[0][0] < face.width <= faces[1][0]
    ramp = np.tile(np.linspace(0, 255, 400, dtype=np.uint8), (300, 1))
    assert find_faces(np.stack([ramp] * 3, -1)) == ()


def test_the_framed_square_stays_inside_and_is_never_smaller_than_the_model_takes() -> None:
    assert face_square((1000, 600), (900, 500, 90, 90), min_side=256) == (744, 344, 256)
    assert face_square((1000, 600), (0, 0, 400, 400), min_side=256) == (0, 0, 600)


def test_the_choice_decides_what_is_sent_and_the_same_choice_writes_the_same_bytes(tmp_path: Path) -> None:
    face = Image.open(SAMPLE).convert("RGB")
    group = Image.new("RGB", (face.width * 2, face.height))
    group.paste(face, (0, 0))
    group.paste(ImageOps.mirror(face), (face.width, 0))
    group.save(tmp_path / "group.png")
    limits = {"min_side": 256, "max_side": 1280, "max_bytes": 10**7}
    undecided = frame_picture(tmp_path / "group.png", tmp_path / "a", choice=FaceChoice(), **limits)
    assert undecided.sent is None and undecided.problem_code == "image_many_faces"
    sent = [
        frame_picture(tmp_path / "group.png", tmp_path / folder, choice=FaceChoice(face=2), **limits).sent
        for folder in ("b", "c")
    ]
    assert sent[0] is not None and sent[1] is not None
    assert sent[0].path.read_bytes() == sent[1].path.read_bytes()
    assert sent[0].width == sent[0].height < 512
