"""Jobs: validate, hold, submit, follow, download, settle — one follower per prediction, exactly once."""

from demo_app.jobs.manager import JobManager
from demo_app.jobs.model import (
    TERMINAL_JOB_STATUSES,
    JobNotFound,
    JobRefused,
    JobSnapshot,
    JobStatus,
    ProgressSource,
    Quote,
)

__all__ = [
    "TERMINAL_JOB_STATUSES",
    "JobManager",
    "JobNotFound",
    "JobRefused",
    "JobSnapshot",
    "JobStatus",
    "ProgressSource",
    "Quote",
]
