"""Persisted job records: state transitions are stored, progress ticks stay in memory.

Reads are served from memory; every write goes to the store's rows (`_job_rows`): TinyDB on
the ledger's crash-safe journaled storage, or a PostgreSQL table.
"""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

from pydantic import BaseModel, Field

from demo_app.jobs._choices import InputChoices
from demo_app.jobs._facts import InputFacts
from demo_app.jobs._job_rows import PgJobRows, TinyJobRows
from demo_app.jobs._leases import Leases, new_holder
from demo_app.jobs._types import TERMINAL_JOB_STATUSES, JobStatus

if TYPE_CHECKING:
    from demo_app.database import Database


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
    app_version: str | None = None
    """The app that ran the job (for its manifest); None for jobs older than manifests."""
    inputs: dict[str, InputFacts] = Field(default_factory=dict)
    """The face and the voice as uploaded and as sent: hashes, lengths, measures (manifest)."""
    model_version: str | None = None
    """The model version Replicate reported running the prediction."""
    started_at: datetime | None = None
    """When the prediction began processing, as Replicate reported it."""
    predict_time_s: float | None = None
    """Replicate's billed run time of the prediction."""
    group_id: str | None = None
    """The comparison this job belongs to (jobs started together on the same inputs), if any."""
    choices: InputChoices = Field(default_factory=InputChoices)
    """The pre-flight's answers (face, framing, trim): the job sends what they made."""
    image_sha256: str | None = None
    audio_sha256: str | None = None
    """SHA-256 of the picture and the clip as sent to the model (framed, trimmed, re-encoded)."""

    @property
    def terminal(self) -> bool:
        """True once the job ended (its credits are settled)."""
        return self.status in TERMINAL_JOB_STATUSES


class JobRows(Protocol):
    """Where the records are written: a TinyDB file or a PostgreSQL table (see `_job_rows`);
    a write returns once it is durable."""

    async def upsert(self, job_id: str, doc: dict[str, Any]) -> None: ...
    async def delete(self, job_ids: list[str]) -> None: ...
    def close(self) -> None: ...


class JobStore:
    """All job records of this data directory (or database), newest first per owner.

    `JobStore(path)` keeps them in a TinyDB file; `await JobStore.on_database(database)` in
    PostgreSQL. Either way every record is read once at open and served from memory. On
    PostgreSQL several replicas share the records: `leases` says which one follows which job,
    and the others' records are kept current by the job feed (`adopt`).
    """

    leases: Leases | None = None
    """This replica's claims on jobs (PostgreSQL only; None: this process follows every job)."""

    def __init__(self, path: Path) -> None:
        rows = TinyJobRows(path)
        self._open(rows, rows.load())

    @classmethod
    async def on_database(cls, database: Database, *, lease_s: float = 10.0) -> JobStore:
        """The records in `database`'s `jobs` table (the database stays open after `close`);
        writes are fenced by this replica's leases of `lease_s` seconds."""
        leases = Leases(database, new_holder(), lease_s)
        rows = PgJobRows(leases)
        store = cls.__new__(cls)
        store.leases = leases
        store._open(rows, await rows.load())
        return store

    def _open(self, rows: JobRows, docs: list[dict[str, Any]]) -> None:
        self._rows = rows
        self._records = {doc["job_id"]: JobRecord.model_validate(doc) for doc in docs}

    def get(self, job_id: str) -> JobRecord | None:
        """The record, or None (never raises for a missing id)."""
        return self._records.get(job_id)

    def all(self) -> list[JobRecord]:
        """Every record, newest first."""
        return sorted(self._records.values(), key=lambda r: r.created_at, reverse=True)

    async def save(self, record: JobRecord) -> None:
        """Persist one record (a state transition); returns once it is durable."""
        self._records[record.job_id] = record
        await self._rows.upsert(record.job_id, record.model_dump(mode="json"))

    def adopt(self, record: JobRecord) -> None:
        """Keep another replica's latest record of a job (read from the database; not written)."""
        self._records[record.job_id] = record

    async def delete(self, job_ids: list[str]) -> None:
        """Forget finished records (retention)."""
        for job_id in job_ids:
            self._records.pop(job_id, None)
        await self._rows.delete(job_ids)

    def close(self) -> None:
        """Write what is pending, then release the file (and its lock)."""
        self._rows.close()
