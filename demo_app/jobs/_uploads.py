"""A job's inputs on Replicate's Files API: uploaded before the create, deleted once the job ends.

A prediction's body carries its inputs, and it is read again at every poll: as file URLs, each
read is a few kilobytes instead of the face and the voice in base64 (`data:` URLs), and nothing
of them stays in our memory while the job waits. The create's input is still decided once per
upload (the same URLs), so an ambiguous create is found again by its input as before.
"""

from __future__ import annotations

import asyncio
import logging
from pathlib import Path

from demo_app.jobs._context import JobContext
from demo_app.jobs._live import LiveJob
from demo_app.jobs._types import JobStatus
from demo_app.replicate import ReplicateError

log = logging.getLogger(__name__)


async def input_url(ctx: JobContext, job: LiveJob, path: Path, content_type: str) -> str:
    """The prediction input for a local file: a `data:` URL when tiny, else an uploaded file's
    URL, whose id the record keeps so the file is deleted when the job ends."""
    chosen = await ctx.client.file_input(
        path, content_type=content_type, inline_max_bytes=ctx.settings.inline_input_max_bytes
    )
    if chosen.uploaded is not None:
        job.record.input_files.append(chosen.uploaded.id)
    return chosen.url


def delete_uploads_later(ctx: JobContext, job: LiveJob) -> None:
    """Delete the ended job's uploaded inputs in the background (its slot is free meanwhile)."""
    if not job.record.input_files:
        return
    task = asyncio.create_task(_delete_uploads(ctx, job), name=f"uploads-{job.record.job_id}")
    ctx.cleanups.add(task)
    task.add_done_callback(ctx.cleanups.discard)


async def _delete_uploads(ctx: JobContext, job: LiveJob) -> None:
    """One try per file (with the client's retries): a file we fail to delete expires on its own."""
    r = job.record
    for file_id in list(r.input_files):
        try:
            await ctx.client.delete_file(file_id)
        except ReplicateError as exc:
            log.warning("job %s: deleting input %s: %s (it expires on its own)", r.job_id, file_id, exc)
    r.input_files = []
    if r.status is not JobStatus.REJECTED:
        await ctx.store.save(r)
