"""Try again: a job that failed, timed out or was canceled keeps its inputs for a while.

Its face and voice (as uploaded) stay in its inputs folder after it settles, for
`retry_keep_hours`, so Try again starts a new job from the same files, model and options even
after a reload emptied the page. Any other ending removes the folder at once; retention removes
a retryable job's folder once its time is up.
"""

from __future__ import annotations

import shutil
from collections.abc import Iterable
from datetime import timedelta
from pathlib import Path

from demo_app.credits import utc_now
from demo_app.jobs._refusals import JobRefused
from demo_app.jobs._store import JobRecord
from demo_app.jobs._types import JobStatus

RETRYABLE_STATUSES = frozenset({JobStatus.FAILED, JobStatus.TIMED_OUT, JobStatus.CANCELED})
"""Endings that Try again offers to repeat (a success needs no retry; a refusal needs new inputs)."""


class NothingToRetry(JobRefused):
    """The job cannot be repeated: it did not end in a retryable way, or its inputs are gone."""


def keeps_inputs(record: JobRecord) -> bool:
    """True when the settled job's inputs stay for Try again."""
    return record.status in RETRYABLE_STATUSES


def retry_inputs(record: JobRecord) -> tuple[str, str]:
    """The face and voice a retry of `record` sends; NothingToRetry says why there are none."""
    if record.status not in RETRYABLE_STATUSES:
        raise NothingToRetry("Only a job that failed, timed out or was canceled can be tried again.")
    files = (record.source_image, record.source_audio)
    if not all(Path(path).is_file() for path in files):
        raise NothingToRetry(
            "This job's face and voice are no longer kept: add them again, then press Generate."
        )
    return files


def expired_inputs(records: Iterable[JobRecord], inputs_dir: Path, keep_hours: float) -> list[Path]:
    """The inputs folders of settled retryable jobs past their keep time."""
    cutoff = utc_now() - timedelta(hours=keep_hours)
    return [
        inputs_dir / record.job_id
        for record in records
        if record.settled and keeps_inputs(record) and (record.finished_at or cutoff) <= cutoff
    ]


def remove_folders(folders: Iterable[Path]) -> None:
    """Delete each folder (already gone is fine); runs in a thread."""
    for folder in folders:
        shutil.rmtree(folder, ignore_errors=True)
