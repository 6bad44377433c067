"""Submitting: upload the inputs, wait in the create line, create the prediction exactly once,
and after a create whose outcome stayed unknown, find it — or hunt it down later so it never
runs unwanted."""

from __future__ import annotations

import asyncio
import logging
from datetime import datetime
from pathlib import Path
from typing import Any

from demo_app.catalog import ModelSpec
from demo_app.credits import utc_now
from demo_app.jobs import _messages as say
from demo_app.jobs._context import JobContext
from demo_app.jobs._ending import Canceled, JobEnded, PastDeadline
from demo_app.jobs._live import LiveJob
from demo_app.jobs._messages import Ending
from demo_app.jobs._types import JobStatus
from demo_app.jobs._uploads import input_url
from demo_app.jobs._waiting import interruptible, next_poll
from demo_app.replicate import (
    CREATE_CLOCK_MARGIN,
    CreateOutcomeUnknown,
    InvalidInput,
    Prediction,
    ReplicateError,
    Unauthorized,
)

log = logging.getLogger(__name__)


async def submit(ctx: JobContext, job: LiveJob, spec: ModelSpec) -> Prediction:
    """Upload the inputs (`_uploads`), wait for the job's turn, and create the prediction, never
    twice."""
    r = job.record
    assert r.image_path and r.audio_path and r.image_type and r.audio_type
    try:
        image_url = await interruptible(job, input_url(ctx, job, Path(r.image_path), r.image_type))
        audio_url = await interruptible(job, input_url(ctx, job, Path(r.audio_path), r.audio_type))
    except Unauthorized:
        raise JobEnded(Ending.TOKEN_REFUSED) from None
    except ReplicateError as exc:  # the client has already retried what a retry could mend
        raise JobEnded(Ending.CREATE_FAILED, detail=str(exc)) from None
    if job.cancel_requested.is_set():
        raise Canceled
    await wait_in_line(ctx, job)
    r.prediction_input = spec.build_input(image_url, audio_url, r.options)
    r.create_sent_at = utc_now()
    await ctx.store.save(r)
    target = spec.prediction_target()
    webhook, events = ctx.webhook(job)
    try:
        prediction = await ctx.client.create_prediction(
            model=target.get("model"),
            version=target.get("version"),
            input=r.prediction_input,
            cancel_after_s=ctx.cancel_after_for(spec, r.held, r.options),
            prepaid=True,
            webhook=webhook,
            webhook_events_filter=events,
        )
    except CreateOutcomeUnknown:
        prediction = await find_created(ctx, job, r.prediction_input)
    except InvalidInput as exc:
        raise JobEnded(Ending.INPUT_REFUSED, detail=exc.detail) from None
    except Unauthorized:
        raise JobEnded(Ending.TOKEN_REFUSED) from None
    except ReplicateError as exc:
        raise JobEnded(Ending.CREATE_FAILED, detail=str(exc)) from None
    await record_prediction(ctx, job, prediction)
    return prediction


async def wait_in_line(ctx: JobContext, job: LiveJob) -> None:
    """Wait for the job's turn to create (its create token taken); a cancel leaves the line at once.

    The job's place is the time it first joined, written to disk, so after a restart it joins
    again at that place.
    """
    r = job.record
    if r.line_joined_at is None:
        r.line_joined_at = utc_now()
    await ctx.transition(job, JobStatus.QUEUED, say.IN_LINE)
    await interruptible(job, ctx.line.turn(job, r.line_joined_at.timestamp()))
    if job.cancel_requested.is_set():
        raise Canceled  # the turn came with the cancel; the token is spent, nothing was created


def inputs_kept(job: LiveJob) -> bool:
    """True when the checked inputs are still on disk, so the job can be submitted again."""
    r = job.record
    return all(path is not None and Path(path).is_file() for path in (r.image_path, r.audio_path))


async def record_prediction(ctx: JobContext, job: LiveJob, prediction: Prediction) -> None:
    """Remember the prediction id: from here on a restart resumes following it."""
    job.record.prediction_id = prediction.id
    job.record.prediction_input = None
    await ctx.transition(job, JobStatus.STARTING, say.STARTING)


async def find_created(ctx: JobContext, job: LiveJob, prediction_input: dict[str, Any]) -> Prediction:
    """After an ambiguous create: look for it until found; proven absent or out of time ends the job.

    A found prediction is followed, so a cancel or time-out that comes later stops it upstream.
    When time runs out or the visitor cancels first, a hunter keeps looking so a prediction
    that did start is canceled rather than left to bill.
    """
    r = job.record
    assert r.create_sent_at is not None
    since = r.create_sent_at - CREATE_CLOCK_MARGIN
    try:
        while (found := await _look(ctx, job, prediction_input, since)) is False:
            await next_poll(job, ctx.poll_interval, lambda: ctx.past_deadline(job))
    except (Canceled, PastDeadline) as exc:
        _hunt_later(ctx, r.job_id, dict(prediction_input), r.create_sent_at)
        if isinstance(exc, Canceled):
            raise
        raise JobEnded(Ending.UNREACHABLE) from None
    if not isinstance(found, Prediction):
        raise JobEnded(Ending.UNREACHABLE)  # proven never created
    return found


async def _look(
    ctx: JobContext, job: LiveJob, prediction_input: dict[str, Any], since: datetime
) -> Prediction | bool | None:
    """The prediction, None when proven absent, False when Replicate could not say."""
    try:
        return await ctx.client.find_prediction(prediction_input, created_after=since)
    except ReplicateError as exc:
        log.warning("job %s: looking for the created prediction: %s", job.record.job_id, exc)
        return False


def _hunt_later(ctx: JobContext, job_id: str, prediction_input: dict[str, Any], sent_at: datetime) -> None:
    task = asyncio.create_task(_hunt(ctx, job_id, prediction_input, sent_at), name=f"hunt-{job_id}")
    ctx.hunters.add(task)
    task.add_done_callback(ctx.hunters.discard)


async def _hunt(ctx: JobContext, job_id: str, prediction_input: dict[str, Any], sent_at: datetime) -> None:
    """Find an unwanted prediction of an ambiguous create and cancel it, until Replicate's own
    Cancel-After (our time-out, sent with the create) would have ended it anyway."""
    until = sent_at.timestamp() + ctx.settings.job_timeout_s + ctx.settings.deadline_grace_s
    while utc_now().timestamp() < until:
        try:
            since = sent_at - CREATE_CLOCK_MARGIN
            found = await ctx.client.find_prediction(prediction_input, created_after=since)
            if found is None:
                return  # proven never created
            if not found.is_terminal:
                await ctx.client.cancel_prediction(found.id)
            log.warning("job %s: canceled its unwanted prediction %s upstream", job_id, found.id)
            return
        except ReplicateError as exc:
            log.warning("job %s: looking for an unwanted prediction: %s", job_id, exc)
        await asyncio.sleep(ctx.poll_interval())
