"""The pre-flight before any hold: faces found and chosen, the clip trimmed, priced as sent."""

from __future__ import annotations

import hashlib
import wave
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from demo_app.jobs import InputChoices, JobStatus
from tests.jobs.checks import job_lines
from tests.jobs.conftest import OWNER, SAMPLES, StackFactory

pytestmark = pytest.mark.slow

WAN = "wan-video/wan-2.2-s2v"


@pytest.fixture
def group_photo(tmp_path: Path) -> Path:
    """Two copies of the sample face side by side."""
    face = Image.open(SAMPLES / "sample-face.png").convert("RGB")
    group = Image.new("RGB", (face.width * 2, face.height))
    group.paste(face, (0, 0))
    group.paste(face, (face.width, 0))
    group.save(tmp_path / "group.png")
    return tmp_path / "group.png"


@pytest.fixture
def no_face(tmp_path: Path) -> Path:
    """A plain gradient: a valid picture with no face in it."""
    ramp = np.linspace(40, 220, 512, dtype=np.float64)
    pixels = np.stack(
        [np.tile(ramp, (512, 1)), np.tile(ramp[::-1], (512, 1)), np.full((512, 512), 128.0)], -1
    )
    Image.fromarray(pixels.astype(np.uint8)).save(tmp_path / "gradient.png")
    return tmp_path / "gradient.png"


def long_voice(folder: Path, seconds: float) -> Path:
    """The sample voice repeated to `seconds`: real speech, longer than a model takes."""
    out = folder / "long.wav"
    with wave.open(str(SAMPLES / "sample-voice.wav")) as src:
        params, frames = src.getparams(), src.readframes(src.getnframes())
    wanted = round(seconds * params.framerate) * params.sampwidth
    with wave.open(str(out), "wb") as dst:
        dst.setparams(params)
        dst.writeframes((frames * (wanted // len(frames) + 1))[:wanted])
    return out


def sha(path: str | Path) -> str:
    return hashlib.sha256(Path(path).read_bytes()).hexdigest()


async def test_a_group_photo_needs_a_face_chosen_and_sends_the_framed_picture_previewed(
    make_stack: StackFactory, group_photo: Path, voice: Path
) -> None:
    stack = await make_stack("normal")
    await stack.ledger.open_account(OWNER)
    quote = await stack.jobs.quote(OWNER, WAN, str(group_photo), str(voice))
    assert not quote.ready
    assert [p.code for p in quote.problems] == ["image_many_faces"]
    assert quote.picture is not None and len(quote.picture.faces) == 2
    assert quote.faces_preview is not None

    refused = await stack.jobs.wait(
        OWNER, (await stack.jobs.start(OWNER, str(group_photo), str(voice), WAN)).job_id
    )
    assert refused.status is JobStatus.REJECTED
    assert "shows 2 faces" in refused.message
    assert await job_lines(stack.ledger, OWNER, refused.job_id) == []

    second = InputChoices(face=2)
    chosen = await stack.jobs.quote(OWNER, WAN, str(group_photo), str(voice), choices=second)
    assert chosen.ready and chosen.picture is not None and chosen.picture.sent is not None
    left_x, right_x = chosen.picture.faces[0][0], chosen.picture.faces[1][0]
    assert left_x < right_x
    sent = chosen.picture.sent
    assert sent.width == sent.height < 1024  # framed on one face, not the whole group

    job = await stack.jobs.start(OWNER, str(group_photo), str(voice), WAN, choices=second)
    final = await stack.jobs.wait(OWNER, job.job_id, timeout_s=60)
    assert final.status is JobStatus.SUCCEEDED
    record = stack.jobs._jobs[job.job_id].record
    assert record.image_sha256 == sha(sent.path)  # the picture previewed is the picture sent


async def test_a_picture_without_a_face_is_refused_before_the_hold_unless_used_anyway(
    make_stack: StackFactory, no_face: Path, voice: Path
) -> None:
    stack = await make_stack("normal")
    await stack.ledger.open_account(OWNER)
    quote = await stack.jobs.quote(OWNER, WAN, str(no_face), str(voice))
    assert [p.code for p in quote.problems] == ["image_no_face"]
    first = await stack.jobs.start(OWNER, str(no_face), str(voice), WAN)
    refused = await stack.jobs.wait(OWNER, first.job_id)
    assert refused.status is JobStatus.REJECTED and "No face was found" in refused.message
    assert await job_lines(stack.ledger, OWNER, first.job_id) == []

    anyway = InputChoices(use_anyway=True)
    assert (await stack.jobs.quote(OWNER, WAN, str(no_face), str(voice), choices=anyway)).ready
    job = await stack.jobs.start(OWNER, str(no_face), str(voice), WAN, choices=anyway)
    assert (await stack.jobs.wait(OWNER, job.job_id, timeout_s=60)).status is JobStatus.SUCCEEDED


async def test_a_too_long_clip_is_trimmed_and_held_as_priced(
    make_stack: StackFactory, face: Path, tmp_path: Path
) -> None:
    stack = await make_stack("normal")
    await stack.ledger.open_account(OWNER)
    clip = long_voice(tmp_path, 64.0)
    too_long = await stack.jobs.quote(OWNER, WAN, str(face), str(clip))
    assert [p.code for p in too_long.problems] == ["audio_too_long", "balance"]  # both problems shown
    assert too_long.clip_s == pytest.approx(64.0, abs=0.05) and too_long.max_audio_s == 60.0

    part = InputChoices(trim_start_s=1.5, trim_end_s=5.5)
    trimmed = await stack.jobs.quote(OWNER, WAN, str(face), str(clip), choices=part)
    assert trimmed.ready and trimmed.audio_s == pytest.approx(4.0)
    assert "from 1.5 s to 5.5 s of a 64.0 s clip" in trimmed.text

    job = await stack.jobs.start(OWNER, str(face), str(clip), WAN, choices=part)
    final = await stack.jobs.wait(OWNER, job.job_id, timeout_s=60)
    assert final.status is JobStatus.SUCCEEDED
    assert ("hold", trimmed.estimate) in await job_lines(stack.ledger, OWNER, job.job_id)
    assert stack.jobs._jobs[job.job_id].record.audio_s == 4.0  # the part sent is the part priced
