"""Persisted job records: state transitions go to disk, progress ticks stay in memory.

Reads are served from memory; every write goes through TinyDB on the ledger's crash-safe
journaled storage: one appended line per commit, written by one worker thread (fsync never
blocks the event loop), with transitions of many jobs arriving together sharing a commit.
"""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from typing import Any, cast

from pydantic import BaseModel, Field
from tinydb import Query, TinyDB

from demo_app.jobs._choices import InputChoices
from demo_app.jobs._types import TERMINAL_JOB_STATUSES, JobStatus
from demo_app.storage import GroupCommit, JournaledJSONStorage


class JobRecord(BaseModel):
    """What must survive a restart to carry a job on, or to show it in the owner's history."""

    job_id: str
    owner: str
    model: str
    options: dict[str, Any] = Field(default_factory=dict)
    status: JobStatus = JobStatus.QUEUED
    message: str = ""
    error: str | None = None
    created_at: datetime
    finished_at: datetime | None = None
    source_image: str
    source_audio: str
    image_path: str | None = None
    image_type: str | None = None
    audio_path: str | None = None
    audio_type: str | None = None
    audio_s: float | None = None
    held: int = 0
    charged: int | None = None
    returned: int | None = None
    prediction_input: dict[str, Any] | None = None
    line_joined_at: datetime | None = None
    """When the job first joined the create line: its place there, kept across a restart."""
    input_files: list[str] = Field(default_factory=list)
    """Files API ids of the inputs uploaded for the prediction, deleted once the job has ended."""
    create_sent_at: datetime | None = None
    prediction_id: str | None = None
    video_path: str | None = None
    log_tail: str = ""
    settled: bool = False
    choices: InputChoices = Field(default_factory=InputChoices)
    """The pre-flight's answers (face, framing, trim): the job sends what they made."""
    image_sha256: str | None = None
    audio_sha256: str | None = None
    """SHA-256 of the picture and the clip as sent to the model (framed, trimmed, re-encoded)."""

    @property
    def terminal(self) -> bool:
        """True once the job ended (its credits are settled)."""
        return self.status in TERMINAL_JOB_STATUSES


class JobStore:
    """All job records of this data directory, newest first per owner."""

    def __init__(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        self._db = TinyDB(path, storage=JournaledJSONStorage, autocommit=False)
        self._table = self._db.table("jobs")
        self._records: dict[str, JobRecord] = {
            doc["job_id"]: JobRecord.model_validate(doc) for doc in self._table.all()
        }
        self._group = GroupCommit(cast(JournaledJSONStorage, self._db.storage))

    def get(self, job_id: str) -> JobRecord | None:
        """The record, or None (never raises for a missing id)."""
        return self._records.get(job_id)

    def all(self) -> list[JobRecord]:
        """Every record, newest first."""
        return sorted(self._records.values(), key=lambda r: r.created_at, reverse=True)

    async def save(self, record: JobRecord) -> None:
        """Persist one record (a state transition); returns once it is on disk."""
        self._records[record.job_id] = record
        doc = record.model_dump(mode="json")
        async with self._group.change():
            self._table.upsert(doc, Query().job_id == record.job_id)

    async def delete(self, job_ids: list[str]) -> None:
        """Forget finished records (retention)."""
        for job_id in job_ids:
            self._records.pop(job_id, None)
        async with self._group.change():
            self._table.remove(Query().job_id.one_of(job_ids))

    def close(self) -> None:
        """Write what is pending, then release the file (and its lock)."""
        self._group.close()
        self._db.close()
