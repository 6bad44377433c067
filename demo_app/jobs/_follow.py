"""Following: read the prediction until its real status is terminal, fold each reading into the
job (status persisted, progress in memory), and end by what Replicate says it became — also when
we stop it ourselves (the visitor's cancel, our time-out)."""

from __future__ import annotations

import asyncio
import logging
import time
from datetime import timedelta

from demo_app.catalog import ModelSpec
from demo_app.credits import utc_now
from demo_app.jobs import _messages as say
from demo_app.jobs._context import JobContext
from demo_app.jobs._deliver import deliver
from demo_app.jobs._ending import Canceled, JobEnded
from demo_app.jobs._facts import note_run
from demo_app.jobs._live import LiveJob
from demo_app.jobs._messages import Ending
from demo_app.jobs._types import JobStatus, ProgressSource
from demo_app.jobs._upstream import Order, compare, slim, take_pushed
from demo_app.jobs._waiting import next_news, next_poll
from demo_app.replicate import Prediction, ReplicateError, Status

log = logging.getLogger(__name__)

LOG_TAIL_LINES = 12


async def read_until_deadline(ctx: JobContext, job: LiveJob, prediction_id: str) -> Prediction:
    """The prediction's real status, riding out transient trouble (PastDeadline, Canceled)."""
    while True:
        try:
            return await ctx.client.get_prediction(prediction_id)
        except ReplicateError as exc:
            log.warning("job %s: reading %s: %s", job.record.job_id, prediction_id, exc)
        await next_poll(job, ctx.poll_interval, lambda: ctx.past_deadline(job))


async def follow(ctx: JobContext, job: LiveJob, spec: ModelSpec, prediction: Prediction) -> None:
    """Follow until the prediction is terminal, then end the job by it (always raises JobEnded).

    Push first: a webhook's state is folded in as it arrives, without a read. Reads happen when
    the interval passes (a slow safety net once webhooks arrive, which still finds an `aborted`
    or what a lost webhook missed) or when the status sweeper saw the prediction change.
    Transient upstream trouble never ends a job; the waits raise Canceled or PastDeadline.
    """
    prediction_id = job.record.prediction_id
    assert prediction_id is not None
    prediction = await _fold(ctx, job, spec, prediction)
    while not prediction.is_terminal:
        woken = await next_news(job, lambda: ctx.follow_interval(job), lambda: ctx.past_deadline(job))
        pushed = take_pushed(job, prediction_id)
        if pushed is not None:
            prediction = await _fold(ctx, job, spec, pushed)
        wanted, job.read_wanted = job.read_wanted, False
        if prediction.is_terminal or (woken and not wanted):
            continue
        try:
            prediction = await _read_folding_pushes(ctx, job, spec, prediction_id)
        except ReplicateError as exc:
            log.warning("job %s: still following %s after: %s", job.record.job_id, prediction_id, exc)
    await conclude(ctx, job, spec, prediction)


async def _read_folding_pushes(
    ctx: JobContext, job: LiveJob, spec: ModelSpec, prediction_id: str
) -> Prediction:
    """Read the prediction and fold the reading in; the newest state known after.

    A read may wait seconds for the read budget while a crowd's uploads take it. Webhooks that
    arrive meanwhile are folded at once (the visitor sees their progress now, not after the
    read), an end pushed meanwhile ends the wait, and a cancel stops it (Canceled).
    """
    read = asyncio.ensure_future(ctx.client.get_prediction(prediction_id))
    try:
        while True:
            news = asyncio.ensure_future(job.news.wait())
            try:
                await asyncio.wait((read, news), return_when=asyncio.FIRST_COMPLETED)
            finally:
                news.cancel()
            if job.cancel_requested.is_set():
                raise Canceled
            if read.done():
                return await _fold(ctx, job, spec, read.result())
            job.news.clear()
            pushed = take_pushed(job, prediction_id)
            if pushed is not None and (latest := await _fold(ctx, job, spec, pushed)).is_terminal:
                return latest
    finally:
        if not read.done():
            read.cancel()
        elif not read.cancelled():
            read.exception()  # looked at: a failed read abandoned by a cancel is not reported as lost


async def _fold(ctx: JobContext, job: LiveJob, spec: ModelSpec, prediction: Prediction) -> Prediction:
    """Fold a state in unless the job already saw a newer one; the newest state known."""
    latest = job.latest
    if latest is not None and latest.id == prediction.id and compare(prediction, latest) is Order.OLDER:
        return latest
    job.latest = slim(prediction)
    note_run(job.record, prediction)
    await _observe(ctx, job, spec, prediction)
    return prediction


async def stop(ctx: JobContext, job: LiveJob, spec: ModelSpec, ending: Ending) -> None:
    """The visitor's cancel or our time-out: stop the prediction upstream, then end by what Replicate
    says it became (a run that succeeded meanwhile is delivered, not thrown away)."""
    r = job.record
    limit = say.duration_limit(ctx.settings.job_timeout_s)
    if r.prediction_id is None:
        raise JobEnded(ending, limit=limit)
    try:
        prediction: Prediction | None = await ctx.client.cancel_prediction(r.prediction_id)
    except ReplicateError as exc:
        log.warning("job %s: cancel of %s upstream failed: %s", r.job_id, r.prediction_id, exc)
        prediction = None
    if prediction is not None and prediction.status is Status.SUCCEEDED:
        await deliver(ctx, job, spec, prediction)
    raise JobEnded(ending, limit=limit, spent=_upstream_cost(job, spec, prediction))


async def conclude(ctx: JobContext, job: LiveJob, spec: ModelSpec, prediction: Prediction) -> None:
    """End by the prediction's terminal status; an unsuccessful run counts what it cost upstream."""
    if prediction.status is Status.SUCCEEDED:
        await deliver(ctx, job, spec, prediction)
    spent = _upstream_cost(job, spec, prediction)
    if prediction.status is Status.FAILED:
        detail = say.short(prediction.error) or "no reason given"
        raise JobEnded(Ending.MODEL_FAILED, detail=detail, spent=spent)
    if prediction.status is Status.ABORTED:
        raise JobEnded(Ending.NEVER_STARTED)
    if job.cancel_requested.is_set():
        raise JobEnded(Ending.CANCELED, spent=spent)
    if _ended_by_deadline(prediction):
        raise JobEnded(Ending.UPSTREAM_DEADLINE, spent=spent)
    raise JobEnded(Ending.CANCELED_UPSTREAM, spent=spent)


async def _observe(ctx: JobContext, job: LiveJob, spec: ModelSpec, prediction: Prediction) -> None:
    """Fold one reading into the job: status (persisted) and progress and logs (memory)."""
    r = job.record
    changed = False
    tail = log_tail(prediction.logs)
    if tail != r.log_tail:
        r.log_tail, changed = tail, True
    if prediction.status is Status.PROCESSING and r.status is not JobStatus.PROCESSING:
        job.processing_since = time.monotonic()
        await ctx.transition(job, JobStatus.PROCESSING, say.PROCESSING)
    progress, source = _progress(job, spec, prediction)
    # Never backwards: when the model's first progress line reads lower than our estimate, the
    # bar waits for the logs to catch up instead of jumping back.
    if progress is not None and (job.progress is None or progress - job.progress >= 0.005):
        job.progress, job.progress_source, changed = progress, source, True
    if changed:
        job.publish()


def _progress(job: LiveJob, spec: ModelSpec, p: Prediction) -> tuple[float | None, ProgressSource | None]:
    """From the model's logs when it prints progress, else estimated from elapsed time."""
    parsed = p.progress
    if parsed is not None:
        return parsed.fraction, ProgressSource.LOGS
    if p.status is Status.PROCESSING and job.processing_since is not None:
        typical = max(1.0, spec.typical_run_s(job.record.audio_s or 0.0))
        return min(0.95, (time.monotonic() - job.processing_since) / typical), ProgressSource.ESTIMATE
    return None, None


def log_tail(logs: str | None, lines: int = LOG_TAIL_LINES) -> str:
    """The last few non-empty log lines (tqdm's carriage returns count as line breaks)."""
    if not logs:
        return ""
    split = [line for line in logs.replace("\r", "\n").split("\n") if line.strip()]
    return "\n".join(split[-lines:])


def _ended_by_deadline(prediction: Prediction) -> bool:
    """A cancel that came from the prediction's own `Cancel-After` deadline (upstream's clock)."""
    if prediction.deadline is None or prediction.completed_at is None:
        return False
    return prediction.completed_at >= prediction.deadline - timedelta(seconds=1)


def _upstream_cost(job: LiveJob, spec: ModelSpec, prediction: Prediction | None) -> int:
    """What Replicate bills for this unsuccessful run (0 if it never started), in credits."""
    rule = spec.pricing_for(job.record.options)
    return rule.upstream_cost(ran_s=_ran_seconds(job, prediction), held=job.record.held)


def _ran_seconds(job: LiveJob, prediction: Prediction | None) -> float | None:
    """Seconds the prediction ran (what time-billed models bill), or None if it never started.

    Replicate's own `predict_time` first; else from its start to its end (or now); else, when
    we saw it processing but have no reading (the cancel went unanswered), our own clock.
    """
    if prediction is not None:
        if prediction.status is Status.ABORTED:
            return None
        if prediction.predict_time is not None:
            return prediction.predict_time
        if prediction.started_at is not None:
            end = prediction.completed_at or utc_now()
            return max(0.0, (end - prediction.started_at).total_seconds())
    if job.processing_since is not None:
        return time.monotonic() - job.processing_since
    return None
