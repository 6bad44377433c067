"""Who may share what: the owner of a succeeded job whose video we still keep, and nobody else.

What a share shows is read from the job at each visit, so a job forgotten by retention (or a
video removed for disk space) stops its link as a revoke would.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from demo_app.catalog import UnknownModel, find_model
from demo_app.jobs import JobManager, JobNotFound, JobStatus
from demo_app.shares._store import Share, Shares


class CannotShare(ValueError):
    """The job exists but cannot be shared; `str()` says why."""


NOT_SHAREABLE = "Only a job that succeeded, whose video is still kept, can be shared."


@dataclass(frozen=True)
class SharedVideo:
    """What a share link shows: the video, the model and the date, and the manifest."""

    video_path: str
    model_title: str
    finished_at: datetime
    manifest: dict[str, Any]


class ShareDesk:
    """Create, find and revoke share links of the jobs the job manager keeps."""

    def __init__(self, jobs: JobManager, store: Shares) -> None:
        self._jobs = jobs
        self._store = store

    async def link_of(self, owner: str, job_id: str) -> Share | None:
        """The owner's live link of the job (JobNotFound for another owner's job)."""
        self._jobs.snapshot(owner, job_id)
        return await self._store.of(job_id)

    async def share(self, owner: str, job_id: str) -> Share:
        """The job's link, made if it has none (CannotShare unless it succeeded with a video)."""
        snap = self._jobs.snapshot(owner, job_id)
        if snap.status is not JobStatus.SUCCEEDED or snap.video_path is None:
            raise CannotShare(NOT_SHAREABLE)
        return await self._store.create(owner, job_id)

    async def unshare(self, owner: str, job_id: str) -> bool:
        """Stop the job's link (True if it had one; JobNotFound for another owner's job)."""
        self._jobs.snapshot(owner, job_id)
        return await self._store.revoke(job_id)

    async def open(self, token: str) -> SharedVideo | None:
        """What the token shows, or None: unknown, revoked, or its job or video gone."""
        share = await self._store.find(token)
        if share is None:
            return None
        try:
            snap = self._jobs.snapshot(share.owner, share.job_id)
        except JobNotFound:
            return None
        if snap.status is not JobStatus.SUCCEEDED or snap.video_path is None or snap.finished_at is None:
            return None
        return SharedVideo(
            video_path=snap.video_path,
            model_title=_title(snap.model),
            finished_at=snap.finished_at,
            manifest=self._jobs.shared_manifest(share.owner, share.job_id),
        )


def _title(model_id: str) -> str:
    try:
        return find_model(model_id).title
    except UnknownModel:
        return model_id
