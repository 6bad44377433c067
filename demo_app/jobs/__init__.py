"""Jobs: validate, hold, submit, follow, download, settle — one follower per prediction, exactly once."""

from demo_app.jobs._choices import BadChoices, InputChoices, choices_from
from demo_app.jobs._deletes import UploadDeletions
from demo_app.jobs._groups import (
    MAX_MODELS,
    MIN_MODELS,
    BadComparison,
    CannotAffordComparison,
    ComparisonSnapshot,
    fold,
    watch_comparison,
)
from demo_app.jobs._manager import JobManager
from demo_app.jobs._manifest import JobNotFinished, job_manifest
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
from demo_app.jobs._retry import RETRYABLE_STATUSES, NothingToRetry
from demo_app.jobs._store import JobStore
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
    "MAX_MODELS",
    "MIN_MODELS",
    "RETRYABLE_STATUSES",
    "TERMINAL_JOB_STATUSES",
    "BadChoices",
    "BadComparison",
    "BadOptions",
    "CannotAfford",
    "CannotAffordComparison",
    "ComparisonSnapshot",
    "InputChoices",
    "JobManager",
    "JobNotFinished",
    "JobNotFound",
    "JobRefused",
    "JobSnapshot",
    "JobStatus",
    "JobStore",
    "LineFull",
    "LineView",
    "ModelNotOffered",
    "ModelUnavailable",
    "NothingToRetry",
    "OwnerBusy",
    "Problem",
    "ProgressSource",
    "Quote",
    "StudioBusy",
    "UploadDeletions",
    "about",
    "choices_from",
    "fold",
    "job_manifest",
    "watch_comparison",
]
