"""Jobs: validate, hold, submit, follow, download, settle — one follower per prediction, exactly once."""

from demo_app.jobs._manager import JobManager
from demo_app.jobs._messages import about
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
from demo_app.jobs._retry import RETRYABLE_STATUSES, NothingToRetry
from demo_app.jobs._types import (
    TERMINAL_JOB_STATUSES,
    JobNotFound,
    JobSnapshot,
    JobStatus,
    LineView,
    ProgressSource,
    Quote,
)

__all__ = [
    "RETRYABLE_STATUSES",
    "TERMINAL_JOB_STATUSES",
    "BadOptions",
    "CannotAfford",
    "JobManager",
    "JobNotFound",
    "JobRefused",
    "JobSnapshot",
    "JobStatus",
    "LineFull",
    "LineView",
    "ModelNotOffered",
    "ModelUnavailable",
    "NothingToRetry",
    "OwnerBusy",
    "ProgressSource",
    "Quote",
    "StudioBusy",
    "about",
]
