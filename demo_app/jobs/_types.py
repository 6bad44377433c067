"""What a job is, as viewers see it: its status and an immutable snapshot of its progress."""

from __future__ import annotations

import enum
from dataclasses import dataclass
from datetime import datetime

from demo_app.media import FramedPicture


class JobStatus(enum.StrEnum):
    """A job's stage, from the click to the settled credits."""

    QUEUED = "queued"
    REJECTED = "rejected"
    UPLOADING = "uploading"
    STARTING = "starting"
    PROCESSING = "processing"
    DOWNLOADING = "downloading"
    SUCCEEDED = "succeeded"
    FAILED = "failed"
    CANCELED = "canceled"
    TIMED_OUT = "timed_out"


TERMINAL_JOB_STATUSES = frozenset(
    {JobStatus.REJECTED, JobStatus.SUCCEEDED, JobStatus.FAILED, JobStatus.CANCELED, JobStatus.TIMED_OUT}
)


class ProgressSource(enum.StrEnum):
    """Where a progress figure comes from: the model's own logs, or our estimate from elapsed time."""

    LOGS = "logs"
    ESTIMATE = "estimate"


class JobNotFound(LookupError):
    """No such job for this owner (another owner's job is indistinguishable from a missing one)."""


@dataclass(frozen=True)
class JobSnapshot:
    """Everything a viewer may show about a job at one moment; safe to hand to any viewer."""

    job_id: str
    owner: str
    model: str
    status: JobStatus
    progress: float | None
    progress_source: ProgressSource | None
    elapsed_s: float
    prediction_id: str | None
    log_tail: str
    error: str | None
    held: int
    charged: int | None
    returned: int | None
    video_path: str | None
    created_at: datetime
    finished_at: datetime | None
    message: str
    queue_position: int | None = None
    """While the job waits in the create line: its place (1 is next)."""
    eta_s: float | None = None
    """While it waits in the create line: about how many seconds until it leaves it."""
    group_id: str | None = None
    """The comparison this job belongs to, if any."""

    @property
    def terminal(self) -> bool:
        """True once the job has ended and its credits are settled."""
        return self.status in TERMINAL_JOB_STATUSES


@dataclass(frozen=True)
class Problem:
    """One thing that keeps Generate from running: `code` to branch on, `text` to read."""

    code: str
    """A media error code ("image_no_face", "audio_too_long", ...), or "balance" or "missing"."""
    text: str


@dataclass(frozen=True)
class Quote:
    """The live estimate shown before Generate: what will be held, or why Generate is not possible yet."""

    ready: bool
    reason: str
    estimate: int | None
    audio_s: float | None
    text: str
    problems: tuple[Problem, ...] = ()
    """Every problem found, pictures' and sound's and the balance's alike (`reason` joins them)."""
    picture: FramedPicture | None = None
    """The checked picture, its faces and what the model would receive."""
    faces_preview: str | None = None
    """The picture with its faces boxed and numbered, when it shows several."""
    clip_s: float | None = None
    """The whole clip's length (`audio_s` is the part sent when it is trimmed)."""
    max_audio_s: float | None = None
    """The chosen model's longest clip."""


@dataclass(frozen=True)
class LineView:
    """The create line as a visitor sees it before pressing Generate."""

    waiting: int
    eta_s: float
    """About how long a job joining now would wait for its create."""
