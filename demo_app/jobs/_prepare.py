"""The first stages: check and convert the inputs (bounded in time, abandoned on cancel), then
hold the estimate. A refusal here ends the job with nothing held and nothing sent upstream."""

from __future__ import annotations

import asyncio
import os
import shutil
import stat
from pathlib import Path

from demo_app import media
from demo_app.catalog import ModelSpec, OptionError
from demo_app.credits import HoldRefused
from demo_app.jobs import _messages as say
from demo_app.jobs._context import JobContext
from demo_app.jobs._ending import JobEnded
from demo_app.jobs._facts import input_facts
from demo_app.jobs._live import LiveJob
from demo_app.jobs._messages import Ending
from demo_app.jobs._preflight import picture_problem
from demo_app.jobs._store import JobRecord
from demo_app.jobs._types import JobStatus
from demo_app.jobs._waiting import interruptible
from demo_app.storage import remove_tree


async def prepare(ctx: JobContext, job: LiveJob, spec: ModelSpec) -> int:
    """The credits to hold, once the inputs pass within the preparing deadline."""
    folder = ctx.inputs_dir / job.record.job_id
    limit = ctx.settings.prepare_timeout_s
    # Our own copy of the uploads is made before the deadline starts, not raced by it: a thread
    # cannot be stopped, so one abandoned at the deadline would write the folder after its removal.
    await asyncio.to_thread(keep_inputs, job.record, folder, ctx.settings.max_upload_bytes)
    try:
        async with asyncio.timeout(limit):
            # A cancel or the deadline cancels the checks' awaits, which kills their worker.
            return await interruptible(job, _check_inputs(ctx, job, spec, folder))
    except TimeoutError:
        await remove_tree(folder)
        raise JobEnded(Ending.CHECK_TOO_SLOW, limit=f"{limit:g} s") from None
    except (media.MediaError, OptionError) as exc:
        await remove_tree(folder)
        raise JobEnded(Ending.REFUSED, detail=str(exc)) from None
    except JobEnded:
        await remove_tree(folder)
        raise


async def _check_inputs(ctx: JobContext, job: LiveJob, spec: ModelSpec, folder: Path) -> int:
    r = job.record
    max_bytes = ctx.settings.max_upload_bytes
    async with ctx.cpu_slots:
        picture = await ctx.media.frame_picture(
            Path(r.source_image),
            folder,
            min_side=spec.min_image_side,
            max_side=spec.max_image_side,
            max_bytes=max_bytes,
            choice=r.choices.face_choice(),
            scope=r.owner,
        )
        problem = picture_problem(spec, picture)
        if problem is not None:
            raise JobEnded(Ending.REFUSED, detail=problem)
        assert picture.sent is not None
        image = picture.sent
        audio = await ctx.media.prepare_audio(
            Path(r.source_audio),
            folder,
            max_seconds=spec.max_audio_s,
            max_bytes=max_bytes,
            max_result_bytes=spec.max_audio_bytes,
            trim=r.choices.trim(),
        )
    r.image_path, r.image_type = str(image.path), image.content_type
    r.audio_path, r.audio_type = str(audio.path), audio.content_type
    r.audio_s = audio.duration_s
    r.inputs = await asyncio.to_thread(input_facts, r, image, audio)
    r.image_sha256, r.audio_sha256 = r.inputs["image"].sent.sha256, r.inputs["audio"].sent.sha256
    return spec.hold_for(audio.duration_s, r.options)


async def hold(ctx: JobContext, job: LiveJob, estimate: int) -> None:
    """Hold the estimate; a refusal (balance, daily budget, too many jobs) writes nothing.

    The job is first written to disk here: before the hold there is nothing a restart must carry on.
    """
    r = job.record
    try:
        await ctx.ledger.hold(r.owner, estimate, r.job_id, reason=f"{r.model}, {r.audio_s:.1f} s of audio")
    except HoldRefused as exc:
        raise JobEnded(Ending.REFUSED, detail=exc.message) from None
    r.held = estimate
    await ctx.transition(job, JobStatus.UPLOADING, say.UPLOADING)


def keep_inputs(record: JobRecord, folder: Path, max_bytes: int) -> None:
    """Move the job's uploads into our own data directory, so the upload cache may be cleaned.

    A hard link where the two share a disk, else a copy. Only regular files within the upload
    limit are taken; anything else is left for the media checks to refuse in their words.
    """
    folder.mkdir(parents=True, exist_ok=True)
    for field in ("source_image", "source_audio"):
        src = Path(getattr(record, field))
        try:
            info = src.stat()
        except OSError:
            continue
        if not stat.S_ISREG(info.st_mode) or info.st_size > max_bytes:
            continue
        dest = folder / f"{field}{_safe_suffix(src)}"
        try:
            os.link(src, dest)
        except OSError:
            shutil.copyfile(src, dest)
        setattr(record, field, str(dest))


def _safe_suffix(path: Path) -> str:
    """The upload's extension when it is short and plain (names are the visitor's, hostile)."""
    suffix = path.suffix.lower()
    return suffix if len(suffix) <= 6 and suffix[1:].isalnum() else ""
