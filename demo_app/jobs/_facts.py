"""What a job's manifest must know, noted on its record when it is known: the inputs' hashes and
sizes (as uploaded and as sent), and the run's version and times as Replicate reported them.

Hashing reads each input once more, in a thread and within the preparing deadline: the files are
bounded by the upload limit, and nothing of them is held in memory beyond one chunk.
"""

from __future__ import annotations

import hashlib
from pathlib import Path
from typing import TYPE_CHECKING, Any

from pydantic import BaseModel

from demo_app.media import PreparedAudio, PreparedImage
from demo_app.replicate import Prediction

if TYPE_CHECKING:
    from demo_app.jobs._store import JobRecord

CHUNK_BYTES = 1024 * 1024


class FileFacts(BaseModel):
    """One input file as a manifest describes it."""

    sha256: str
    bytes: int
    content_type: str | None = None
    duration_s: float | None = None
    width: int | None = None
    height: int | None = None


class InputFacts(BaseModel):
    """One input (the face or the voice) as the visitor uploaded it and as the model received it."""

    uploaded: FileFacts
    sent: FileFacts


def sha256_and_size(path: Path) -> tuple[str, int]:
    """The file's sha256 (hex) and length, read in chunks."""
    digest = hashlib.sha256()
    size = 0
    with path.open("rb") as handle:
        while chunk := handle.read(CHUNK_BYTES):
            digest.update(chunk)
            size += len(chunk)
    return digest.hexdigest(), size


def described(path: Path, **measured: Any) -> FileFacts:
    """The file's hash and length, with what the media checks measured of it."""
    sha256, size = sha256_and_size(path)
    return FileFacts(sha256=sha256, bytes=size, **measured)


def input_facts(record: JobRecord, image: PreparedImage, audio: PreparedAudio) -> dict[str, InputFacts]:
    """The face and the voice, uploaded and sent (blocking: call in a thread). The upload's
    duration is the one the media checks decoded from it, unless only a part of it was sent."""
    uploaded_s = audio.duration_s if record.choices.trim() is None else None
    return {
        "image": InputFacts(
            uploaded=described(Path(record.source_image)),
            sent=described(
                image.path, content_type=image.content_type, width=image.width, height=image.height
            ),
        ),
        "audio": InputFacts(
            uploaded=described(Path(record.source_audio), duration_s=uploaded_s),
            sent=described(audio.path, content_type=audio.content_type, duration_s=audio.duration_s),
        ),
    }


def note_run(record: JobRecord, prediction: Prediction) -> None:
    """Keep what a reading of the prediction says about the run (kept with the next save)."""
    if prediction.version:
        record.model_version = prediction.version
    if prediction.started_at is not None:
        record.started_at = prediction.started_at
    if prediction.predict_time is not None:
        record.predict_time_s = prediction.predict_time
