"""Retention: finished jobs go after their keep time, videos stay within their disk bound, and
the inputs kept for Try again go after `retry_keep_hours`.

File work (sizes, deletions) runs in a thread: a sweep over thousands of videos must not stall
the event loop every visitor shares.
"""

from __future__ import annotations

import asyncio
import contextlib
from datetime import timedelta
from pathlib import Path

from demo_app.credits import utc_now
from demo_app.jobs import _messages as say
from demo_app.jobs._live import LiveJob
from demo_app.jobs._retry import expired_inputs, remove_folders
from demo_app.jobs._store import JobStore
from demo_app.settings import Settings


async def prune(jobs: dict[str, LiveJob], store: JobStore, settings: Settings) -> None:
    """Forget jobs past their keep time and bound the videos' disk use, oldest first."""
    inputs_dir = settings.data_dir / "inputs"
    stale = expired_inputs((j.record for j in jobs.values()), inputs_dir, settings.retry_keep_hours)
    await asyncio.to_thread(remove_folders, stale)
    cutoff = utc_now() - timedelta(days=settings.keep_jobs_days)
    expired = [j for j in jobs.values() if j.record.settled and (j.record.finished_at or cutoff) < cutoff]
    await asyncio.to_thread(_remove_files, [j.record.video_path for j in expired])
    for job in expired:
        job.record.video_path = None
        jobs.pop(job.record.job_id, None)
    if expired:
        await store.delete([j.record.job_id for j in expired])
    kept = sorted(
        (j for j in jobs.values() if j.record.settled and j.record.video_path),
        key=lambda j: j.record.finished_at or j.record.created_at,
    )
    sizes = await asyncio.to_thread(lambda: [_size(j.record.video_path) for j in kept])
    over = sum(sizes) - settings.max_video_disk_mb * 1024 * 1024
    for job, size in zip(kept, sizes, strict=True):
        if over <= 0:
            break
        over -= size
        await asyncio.to_thread(_remove_files, [job.record.video_path])
        job.record.video_path = None
        job.record.message += say.VIDEO_REMOVED
        await store.save(job.record)


def _remove_files(paths: list[str | None]) -> None:
    for path in paths:
        if path:
            Path(path).unlink(missing_ok=True)


def _size(path: str | None) -> int:
    if not path:
        return 0
    with contextlib.suppress(OSError):
        return Path(path).stat().st_size
    return 0
