"""Jobs: validate, hold, submit, follow, download, settle — one follower per prediction, exactly once."""

from demo_app.jobs._choices import BadChoices, InputChoices, choices_from
from demo_app.jobs._manager import JobManager
from demo_app.jobs._messages import about
from demo_app.jobs._preflight import FACE_PROBLEMS
from demo_app.jobs._refusals import (
    BadOptions,
    CannotAfford,
    JobRefused,
    LineFull,
    ModelNotOffered,
    ModelUnavailable,
    OwnerBusy,
    StudioBusy,
)
from demo_app.jobs._types import (
    TERMINAL_JOB_STATUSES,
    JobNotFound,
    JobSnapshot,
    JobStatus,
    LineView,
    Problem,
    ProgressSource,
    Quote,
)

__all__ = [
    "FACE_PROBLEMS",
    "TERMINAL_JOB_STATUSES",
    "BadChoices",
    "BadOptions",
    "CannotAfford",
    "InputChoices",
    "JobManager",
    "JobNotFound",
    "JobRefused",
    "JobSnapshot",
    "JobStatus",
    "LineFull",
    "LineView",
    "ModelNotOffered",
    "ModelUnavailable",
    "OwnerBusy",
    "Problem",
    "ProgressSource",
    "Quote",
    "StudioBusy",
    "about",
    "choices_from",
]
