"""The upload policy on real files: only what Gradio's /upload wrote (or an example) is accepted."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from demo_app.uploads import NotAnUpload, UploadPolicy

META = {"_type": "gradio.FileData"}


@pytest.fixture
def folder(tmp_path: Path) -> Path:
    upload_folder = tmp_path / "gradio"
    upload_folder.mkdir()
    return upload_folder


def uploaded(folder: Path, name: str, uploads: set[str]) -> str:
    path = folder / os.urandom(4).hex() / name
    path.parent.mkdir()
    path.write_bytes(b"RIFF....WAVE")
    uploads.add(str(path))
    return str(path)


def policy_for(folder: Path, uploads: set[str]) -> UploadPolicy:
    policy = UploadPolicy(folder)
    policy.track(uploads)
    return policy


def test_an_upload_is_accepted_and_no_file_is_none(folder: Path) -> None:
    uploads: set[str] = set()
    path = uploaded(folder, "voice.wav", uploads)
    policy = policy_for(folder, uploads)
    assert policy.path_of({"path": path, "meta": META}, "audio") == path
    assert policy.path_of(None, "audio") is None
    assert policy.path_of("", "audio") is None


def test_examples_are_accepted_once_allowed(folder: Path) -> None:
    example = folder / "cafe" / "sample-face.png"
    example.parent.mkdir()
    example.write_bytes(b"\x89PNG")
    policy = policy_for(folder, set())
    with pytest.raises(NotAnUpload):
        policy.path_of({"path": str(example), "meta": META}, "image")
    policy.allow_examples([str(example)])
    assert policy.path_of({"path": str(example), "meta": META}, "image") == str(example)
    assert policy.examples == {str(example)}


def test_everything_else_is_refused(folder: Path, tmp_path: Path) -> None:
    uploads: set[str] = set()
    real = uploaded(folder, "voice.wav", uploads)
    secret = tmp_path / "secret.wav"
    secret.write_bytes(b"RIFF")
    # A symlink inside the upload folder that Gradio was somehow told about still points outside.
    link = folder / "link" / "voice.wav"
    link.parent.mkdir()
    link.symlink_to(secret)
    uploads.add(str(link))
    stray = folder / "stray" / "voice.wav"  # in the folder, never uploaded
    stray.parent.mkdir()
    stray.write_bytes(b"RIFF")
    fd = os.open(real, os.O_RDONLY)
    try:
        refused = [
            {"path": real},  # no meta: Gradio checks nothing
            {"path": real, "meta": {"_type": "something.else"}},
            {"path": real, "meta": "gradio.FileData"},
            {"path": str(secret), "meta": META},
            {"path": str(stray), "meta": META},
            {"path": str(link), "meta": META},
            {"path": f"/proc/self/fd/{fd}", "meta": META},
            {"path": f"{folder}/../{secret.name}", "meta": META},
            {"path": "https://example.com/voice.wav", "meta": META},
            {"path": real + "\x00.png", "meta": META},
            {"path": 5, "meta": META},
            {"meta": META},
            real,
            ["voice.wav"],
            7,
        ]
        policy = policy_for(folder, uploads)
        for value in refused:
            with pytest.raises(NotAnUpload, match="not a file this app received"):
                policy.path_of(value, "audio")
    finally:
        os.close(fd)


def test_an_upload_that_was_swept_is_refused(folder: Path) -> None:
    uploads: set[str] = set()
    path = uploaded(folder, "voice.wav", uploads)
    policy = policy_for(folder, uploads)
    Path(path).unlink()
    with pytest.raises(NotAnUpload):
        policy.path_of({"path": path, "meta": META}, "audio")
