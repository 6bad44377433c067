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
from demo_app.jobs._store import JobStore
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
    "TERMINAL_JOB_STATUSES",
    "BadOptions",
    "CannotAfford",
    "JobManager",
    "JobNotFound",
    "JobRefused",
    "JobSnapshot",
    "JobStatus",
    "JobStore",
    "LineFull",
    "LineView",
    "ModelNotOffered",
    "ModelUnavailable",
    "OwnerBusy",
    "ProgressSource",
    "Quote",
    "StudioBusy",
    "about",
]
