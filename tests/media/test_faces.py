"""Faces found in real pictures, and the square framed on one never leaves the picture."""

from __future__ import annotations

from pathlib import Path

import numpy as np
from PIL import Image, ImageOps

from demo_app.media import FaceChoice, MediaWorkers, frame_picture
from demo_app.media._face_memo import FaceMemo
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


def test_faces_found_before_are_not_searched_again(tmp_path: Path) -> None:
    ramp = np.tile(np.linspace(0, 255, 400, dtype=np.uint8), (400, 1))
    Image.fromarray(np.stack([ramp] * 3, -1)).save(tmp_path / "ramp.png")  # no face to find
    limits = {"min_side": 256, "max_side": 1280, "max_bytes": 10**7}
    told = ((100, 100, 120, 120),)
    framed = frame_picture(tmp_path / "ramp.png", tmp_path / "a", choice=FaceChoice(), faces=told, **limits)
    assert framed.faces == told and framed.problem is None and framed.sent is not None


def test_the_memo_keys_a_picture_by_who_asked_its_bytes_and_limits(tmp_path: Path) -> None:
    copy = tmp_path / "copy.png"
    copy.write_bytes(SAMPLE.read_bytes())
    key = FaceMemo.key("alice", SAMPLE, 256, 1280, 10**7)
    assert key is not None and key == FaceMemo.key("alice", copy, 256, 1280, 10**7)  # same bytes
    assert key != FaceMemo.key("bob", SAMPLE, 256, 1280, 10**7)  # never another visitor's answer
    assert key != FaceMemo.key("alice", SAMPLE, 300, 1280, 10**7)
    assert FaceMemo.key("alice", SAMPLE, 256, 1280, 100) is None  # over the limit: not read whole
    assert FaceMemo.key("alice", tmp_path / "missing.png", 256, 1280, 10**7) is None
    memo = FaceMemo(kept=2)
    for n in range(3):
        memo.put(("alice", str(n), 256, 1280), ((n, n, 10, 10),))
    assert memo.get(("alice", "0", 256, 1280)) is None and memo.get(("alice", "2", 256, 1280)) == (
        (2, 2, 10, 10),
    )


async def test_a_jobs_second_check_of_its_picture_gives_the_first_ones_faces(tmp_path: Path) -> None:
    workers = MediaWorkers(1)
    try:
        limits = {"min_side": 256, "max_side": 1280, "max_bytes": 10**7}
        first = await workers.frame_picture(
            SAMPLE, tmp_path / "a", choice=FaceChoice(), scope="alice", **limits
        )
        again = await workers.frame_picture(
            SAMPLE, tmp_path / "b", choice=FaceChoice(), scope="alice", **limits
        )
        assert len(first.faces) == 1 and again.faces == first.faces
        assert again.sent is not None and again.sent.path.read_bytes() == first.sent.path.read_bytes()  # type: ignore[union-attr]
    finally:
        await workers.aclose()
