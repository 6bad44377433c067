"""The one follower of a job: prepare -> hold -> submit -> follow -> deliver -> settle.

Each stage lives in its own module and ends the job by raising `JobEnded`; this module runs the
stages in order and settles once, whatever ended them. Transient upstream trouble never ends a
job: only the prediction's real status, the visitor's cancel, or our own time-out do.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Coroutine
from typing import Any

from demo_app.catalog import ModelSpec, find_model
from demo_app.jobs._context import JobContext
from demo_app.jobs._ending import Canceled, JobEnded, PastDeadline
from demo_app.jobs._follow import follow, read_until_deadline, stop
from demo_app.jobs._live import LiveJob
from demo_app.jobs._messages import Ending
from demo_app.jobs._prepare import hold, prepare
from demo_app.jobs._retry import keeps_inputs
from demo_app.jobs._settle import settle
from demo_app.jobs._submit import find_created, inputs_kept, record_prediction, submit
from demo_app.storage import remove_tree

log = logging.getLogger(__name__)


class JobRunner:
    """Runs and resumes jobs on shared machinery; one `run(job)` or `resume(job)` task per job."""

    def __init__(self, ctx: JobContext) -> None:
        self.ctx = ctx

    async def run(self, job: LiveJob) -> None:
        """Take a new job from its inputs to settled credits."""
        spec = find_model(job.record.model)
        await self._settle_by(job, spec, self._run(job, spec))
        await self._clear_inputs(job)

    async def resume(self, job: LiveJob) -> None:
        """Carry on a job found unsettled at start-up, from wherever it stopped (its model may no
        longer be offered: it is still known, and the job still ends and settles)."""
        spec = find_model(job.record.model)
        await self._settle_by(job, spec, self._resume(job, spec))
        await self._clear_inputs(job)

    async def end(self, job: LiveJob, ending: Ending) -> None:
        """End a job that has no follower (any more) now."""
        await settle(self.ctx, job, JobEnded(ending))
        await self._clear_inputs(job)

    def delete_uploads(self, job: LiveJob) -> None:
        """Delete an ended job's uploaded inputs when the read budget has room (also a job that
        ended before a restart could do it)."""
        self.ctx.deletions.add(job.record.job_id, job.record.input_files)

    async def _clear_inputs(self, job: LiveJob) -> None:
        """After settling: the uploaded inputs' deletion queued, and our own copy removed unless
        it is kept for Try again (after the visitor has seen the end: see `remove_tree`)."""
        self.delete_uploads(job)
        if not keeps_inputs(job.record):
            await remove_tree(self.ctx.inputs_dir / job.record.job_id)

    async def aclose(self) -> None:
        """Stop the hunters (Replicate's Cancel-After still ends what they were after) and the
        deletions of uploaded inputs (a restart takes them up again; else the files expire)."""
        tasks = list(self.ctx.hunters)
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        await self.ctx.deletions.aclose()

    async def _run(self, job: LiveJob, spec: ModelSpec) -> None:
        estimate = await prepare(self.ctx, job, spec)
        if job.cancel_requested.is_set():
            raise Canceled
        await hold(self.ctx, job, estimate)
        prediction = await submit(self.ctx, job, spec)
        await follow(self.ctx, job, spec, prediction)

    async def _resume(self, job: LiveJob, spec: ModelSpec) -> None:
        r = job.record
        if r.prediction_id is None and r.create_sent_at is None and r.line_joined_at is not None:
            if not inputs_kept(job):
                raise JobEnded(Ending.RESTARTED_BEFORE_MODEL)
            # It was waiting in the create line: upload again and take its old place back.
            prediction = await submit(self.ctx, job, spec)
            await follow(self.ctx, job, spec, prediction)
        if r.prediction_id is None and r.create_sent_at is not None and r.prediction_input is not None:
            try:
                found = await find_created(self.ctx, job, r.prediction_input)
            except JobEnded:
                raise JobEnded(Ending.RESTARTED_BEFORE_START) from None
            await record_prediction(self.ctx, job, found)
        if r.prediction_id is None:
            raise JobEnded(Ending.RESTARTED_BEFORE_MODEL)
        prediction = await read_until_deadline(self.ctx, job, r.prediction_id)
        await follow(self.ctx, job, spec, prediction)

    async def _settle_by(self, job: LiveJob, spec: ModelSpec, stages: Coroutine[Any, Any, None]) -> None:
        """Run the stages; whatever ends them (an ending, a cancel, the time-out, a bug) is settled once."""
        try:
            try:
                await stages
                raise JobEnded(Ending.OUR_FAULT)  # the stages always end the job; this is a bug
            except Canceled:
                await stop(self.ctx, job, spec, Ending.CANCELED)
            except PastDeadline:
                await stop(self.ctx, job, spec, Ending.TIMED_OUT)
        except JobEnded as end:
            await settle(self.ctx, job, end)
        except Exception:
            log.exception("job %s failed unexpectedly", job.record.job_id)
            await settle(self.ctx, job, JobEnded(Ending.OUR_FAULT))
