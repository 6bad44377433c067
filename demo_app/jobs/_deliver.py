"""Delivering: copy the video to our storage, check it for real, then end with the capture.

Replicate has billed the run by now, so a cancel arriving from here on no longer stops it: the
visitor gets the video they pay for, and is told why. If the video cannot be kept, the job
fails (everything returned) while the owner's spend still counts what Replicate billed.
"""

from __future__ import annotations

from demo_app.catalog import ModelSpec
from demo_app.jobs import _messages as say
from demo_app.jobs._context import JobContext
from demo_app.jobs._ending import JobEnded
from demo_app.jobs._live import LiveJob
from demo_app.jobs._messages import Ending
from demo_app.jobs._store import JobRecord
from demo_app.jobs._types import JobStatus
from demo_app.replicate import OutputTooLarge, OutputUnavailable, Prediction, ReplicateError, pick_video
from demo_app.storage import remove_file

MAX_VIDEO_BYTES = 500 * 1024 * 1024


async def deliver(ctx: JobContext, job: LiveJob, spec: ModelSpec, prediction: Prediction) -> None:
    """Always raises JobEnded: the capture of the actual cost, or why the video could not be kept."""
    r = job.record
    await ctx.transition(job, JobStatus.DOWNLOADING, say.SAVING)
    dest = ctx.videos_dir / f"{r.job_id}.mp4"
    billed = _success_bill(spec, prediction, r)
    if not dest.exists():
        url = pick_video(prediction.output_urls)
        if url is None:
            raise JobEnded(Ending.NO_VIDEO, spent=billed)
        try:
            await ctx.client.download(url, dest, max_bytes=MAX_VIDEO_BYTES)
        except OutputUnavailable:
            raise JobEnded(Ending.VIDEO_EXPIRED, spent=billed) from None
        except OutputTooLarge:
            raise JobEnded(Ending.VIDEO_TOO_LARGE, spent=billed) from None
        except ReplicateError as exc:
            raise JobEnded(Ending.VIDEO_NOT_SAVED, detail=str(exc), spent=billed) from None
    try:
        async with ctx.cpu_slots:
            seconds = await ctx.media.video_duration(dest)
    except ValueError:
        await remove_file(dest)
        raise JobEnded(Ending.NOT_A_VIDEO, spent=billed) from None
    rule = spec.pricing_for(r.options)
    bill = rule.bill(output_s=seconds, predict_time_s=prediction.predict_time, held=r.held)
    r.video_path = str(dest)
    await ctx.transition(job, JobStatus.DOWNLOADING, say.SETTLING)
    # The visitor pays the bill up to the hold; anything above it is the owner's spend, recorded.
    raise JobEnded(Ending.DONE, capture=min(bill, r.held), spent=bill)


def _success_bill(spec: ModelSpec, prediction: Prediction, record: JobRecord) -> int:
    """What Replicate bills for a run that succeeded but whose video we could not keep."""
    rule = spec.pricing_for(record.options)
    if rule.time_billed and prediction.predict_time is not None:
        return rule.upstream_cost(ran_s=prediction.predict_time, held=record.held)
    return max(record.held, 0)
