"""A job's inputs on Replicate's Files API: uploaded before the create, deleted once the job ends
(in the read budget's spare lane, see `_deletes`).

A prediction's body carries its inputs, and it is read again at every poll: as file URLs, each
read is a few kilobytes instead of the face and the voice in base64 (`data:` URLs), and nothing
of them stays in our memory while the job waits. The create's input is still decided once per
upload (the same URLs), so an ambiguous create is found again by its input as before.
"""

from __future__ import annotations

from pathlib import Path

from demo_app.jobs._context import JobContext
from demo_app.jobs._live import LiveJob


async def input_url(ctx: JobContext, job: LiveJob, path: Path, content_type: str) -> str:
    """The prediction input for a local file: a `data:` URL when tiny, else an uploaded file's
    URL, whose id the record keeps so the file is deleted when the job ends."""
    chosen = await ctx.client.file_input(
        path, content_type=content_type, inline_max_bytes=ctx.settings.inline_input_max_bytes
    )
    if chosen.uploaded is not None:
        job.record.input_files.append(chosen.uploaded.id)
    return chosen.url
