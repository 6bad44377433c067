"""The one follower of a job: prepare -> hold -> upload -> create -> follow -> download -> settle.

Every path ends in `finish()`, which settles the credits exactly once (the ledger is
idempotent by job id too, so a second path or a restart can never settle twice).
Transient upstream trouble never ends a job: only the prediction's real status, the
visitor's cancel, or our own time-out do.
"""

from __future__ import annotations

import asyncio
import logging
import os
import shutil
import stat
import time
from collections.abc import Awaitable, Callable
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any, TypeVar

from demo_app import media
from demo_app.catalog import ModelSpec, OptionError, get_model, validate_options
from demo_app.credits import HoldRefused, Ledger, Settlement, UnknownHold
from demo_app.jobs.live import LiveJob, utc_now
from demo_app.jobs.model import JobSnapshot, JobStatus, ProgressSource
from demo_app.jobs.store import JobRecord, JobStore
from demo_app.money import format_credits
from demo_app.replicate import (
    CreateOutcomeUnknown,
    InvalidInput,
    OutputTooLarge,
    OutputUnavailable,
    Prediction,
    ReplicateClient,
    ReplicateError,
    Status,
    Unauthorized,
    pick_video,
)
from demo_app.storage import CommitFailed

log = logging.getLogger(__name__)
T = TypeVar("T")

LOG_TAIL_LINES = 12
MIN_CANCEL_AFTER_S = 5.0  # Replicate's minimum deadline
MAX_VIDEO_BYTES = 500 * 1024 * 1024
FIND_MARGIN = timedelta(seconds=60)
SETTLE_RETRY_FIRST_S = 0.2
SETTLE_RETRY_MAX_S = 30.0
"""A settlement whose commit fails (a full disk) is retried with backoff up to this pause, for as
long as the follower lives; a restart's recovery settles whatever is still open."""
FINISHED_BEFORE_CANCEL = "It finished before the cancel arrived."


class Canceled(Exception):
    """The visitor asked to cancel while a step was running."""


def log_tail(logs: str | None, lines: int = LOG_TAIL_LINES) -> str:
    """The last few non-empty log lines (tqdm's carriage returns count as line breaks)."""
    if not logs:
        return ""
    split = [line for line in logs.replace("\r", "\n").split("\n") if line.strip()]
    return "\n".join(split[-lines:])


class JobRunner:
    """Shared machinery for every job's follower; one `run(job)` task per job."""

    def __init__(
        self,
        *,
        store: JobStore,
        client: ReplicateClient,
        ledger: Ledger,
        data_dir: Path,
        timeout_s: float,
        prepare_timeout_s: float,
        max_input_bytes: int,
        poll_interval_s: float,
        polls_per_s: float,
        followers: Callable[[], int],
        deadline_grace_s: float,
        cpu_slots: asyncio.Semaphore,
        media_workers: media.MediaWorkers,
        observer: Callable[[JobSnapshot], None] | None,
    ) -> None:
        self.store = store
        self.client = client
        self.ledger = ledger
        self.inputs_dir = data_dir / "inputs"
        self.videos_dir = data_dir / "videos"
        self.videos_dir.mkdir(parents=True, exist_ok=True)
        self.timeout_s = timeout_s
        self.prepare_timeout_s = prepare_timeout_s
        self.max_input_bytes = max_input_bytes
        self.poll_interval_s = poll_interval_s
        self.polls_per_s = polls_per_s
        self.followers = followers
        self.deadline_grace_s = deadline_grace_s
        self.cpu_slots = cpu_slots
        self.media = media_workers
        self.observer = observer
        self._hunters: set[asyncio.Task[None]] = set()

    # ---- the whole run -----------------------------------------------------------------

    async def run(self, job: LiveJob) -> None:
        """Take a new job from its inputs to settled credits."""
        spec = get_model(job.record.model)
        try:
            estimate = await self._prepare_in_time(job, spec)
            if estimate is None:
                return
            if job.cancel_requested.is_set():
                raise Canceled
            if not await self._hold(job, estimate):
                return
            prediction = await self._submit(job, spec)
            if prediction is not None:
                await self._follow(job, spec, prediction)
        except Canceled:
            await self._stop(job, spec, JobStatus.CANCELED, "Canceled")
        except Exception:
            log.exception("job %s failed unexpectedly", job.record.job_id)
            await self.finish(job, JobStatus.FAILED, "Something went wrong on our side")

    async def resume(self, job: LiveJob) -> None:
        """Carry on a job found unsettled at start-up, from wherever it stopped."""
        r = job.record
        spec = get_model(r.model)
        try:
            if r.prediction_id is None and r.create_sent_at is not None and r.prediction_input is not None:
                found = await self._find_created(job, r.prediction_input)
                if found is None:
                    await self.finish(job, JobStatus.FAILED, "The server restarted before the model started")
                    return
                await self._record_prediction(job, found)
            if r.prediction_id is None:
                await self.finish(
                    job, JobStatus.FAILED, "The server restarted before the job reached the model"
                )
                return
            prediction = await self._get_until_deadline(job, r.prediction_id)
            if prediction is None:
                await self._stop(job, spec, JobStatus.TIMED_OUT, self._timed_out_reason())
                return
            await self._follow(job, spec, prediction)
        except Canceled:
            await self._stop(job, spec, JobStatus.CANCELED, "Canceled")
        except Exception:
            log.exception("job %s failed unexpectedly after a restart", r.job_id)
            await self.finish(job, JobStatus.FAILED, "Something went wrong on our side")

    # ---- stages ------------------------------------------------------------------------

    async def _prepare_in_time(self, job: LiveJob, spec: ModelSpec) -> int | None:
        """`_prepare` within the preparing deadline; the visitor's cancel abandons it at once."""
        try:
            async with asyncio.timeout(self.prepare_timeout_s):
                return await self._interruptible(job, self._prepare(job, spec))
        except TimeoutError:
            shutil.rmtree(self.inputs_dir / job.record.job_id, ignore_errors=True)
            await self.finish(
                job,
                JobStatus.REJECTED,
                f"Checking your files took longer than {self.prepare_timeout_s:g} s (the studio is busy); "
                "try again in a minute.",
            )
            return None

    async def _prepare(self, job: LiveJob, spec: ModelSpec) -> int | None:
        """Check and convert the inputs, returning the estimate; a refusal ends the job, nothing held."""
        r = job.record
        folder = self.inputs_dir / r.job_id
        try:
            r.options = validate_options(spec, r.options)
            await asyncio.to_thread(_keep_inputs, r, folder, self.max_input_bytes)
            async with self.cpu_slots:
                # A cancel or the preparing deadline cancels these awaits, which kills the worker.
                image = await self.media.prepare_image(
                    Path(r.source_image),
                    folder,
                    min_side=spec.min_image_side,
                    max_side=spec.max_image_side,
                    max_bytes=self.max_input_bytes,
                )
                audio = await self.media.prepare_audio(
                    Path(r.source_audio), folder, max_seconds=spec.max_audio_s, max_bytes=self.max_input_bytes
                )
        except (media.MediaError, OptionError) as exc:
            shutil.rmtree(folder, ignore_errors=True)
            await self.finish(job, JobStatus.REJECTED, str(exc))
            return None
        r.image_path, r.image_type = str(image.path), image.content_type
        r.audio_path, r.audio_type = str(audio.path), audio.content_type
        r.audio_s = audio.duration_s
        return spec.pricing.estimate(audio.duration_s)

    async def _hold(self, job: LiveJob, estimate: int) -> bool:
        """Hold the estimate; a refusal (balance, daily budget, too many jobs) writes nothing."""
        r = job.record
        try:
            await self.ledger.hold(
                r.owner, estimate, r.job_id, reason=f"{r.model}, {r.audio_s:.1f} s of audio"
            )
        except HoldRefused as exc:
            await self.finish(job, JobStatus.REJECTED, exc.message)
            return False
        r.held = estimate
        await self._transition(job, JobStatus.UPLOADING, "Sending your files to the model…")
        return True

    async def _submit(self, job: LiveJob, spec: ModelSpec) -> Prediction | None:
        """Upload the inputs and create the prediction, never creating it twice."""
        r = job.record
        assert r.image_path and r.audio_path and r.image_type and r.audio_type
        image_url = await self._interruptible(
            job, self.client.file_input(Path(r.image_path), content_type=r.image_type)
        )
        audio_url = await self._interruptible(
            job, self.client.file_input(Path(r.audio_path), content_type=r.audio_type)
        )
        if job.cancel_requested.is_set():
            raise Canceled
        r.prediction_input = spec.build_input(image_url, audio_url, r.options)
        r.create_sent_at = utc_now()
        await self.store.save(r)
        target = spec.prediction_target()
        try:
            prediction = await self.client.create_prediction(
                model=target.get("model"),
                version=target.get("version"),
                input=r.prediction_input,
                cancel_after_s=max(MIN_CANCEL_AFTER_S, self.timeout_s),
            )
        except CreateOutcomeUnknown:
            found = await self._find_created(job, r.prediction_input)
            if found is None:
                await self.finish(job, JobStatus.FAILED, "Replicate could not be reached to start the job")
                return None
            prediction = found
        except InvalidInput as exc:
            await self.finish(job, JobStatus.FAILED, f"The model refused the input: {exc.detail}")
            return None
        except Unauthorized:
            await self.finish(
                job,
                JobStatus.FAILED,
                "The Space's Replicate token was refused; the Space owner must update REPLICATE_API_TOKEN",
            )
            return None
        except ReplicateError as exc:
            await self.finish(job, JobStatus.FAILED, f"Replicate could not start the job ({exc})")
            return None
        await self._record_prediction(job, prediction)
        return prediction

    async def _follow(self, job: LiveJob, spec: ModelSpec, prediction: Prediction) -> None:
        """Poll until the prediction's real status is terminal, the visitor cancels, or time runs out."""
        r = job.record
        assert r.prediction_id is not None
        while True:
            await self._observe(job, spec, prediction)
            if prediction.is_terminal:
                break
            if await self._wait_poll(job):
                await self._stop(job, spec, JobStatus.CANCELED, "Canceled")
                return
            if self._past_deadline(job):
                await self._stop(job, spec, JobStatus.TIMED_OUT, self._timed_out_reason())
                return
            try:
                prediction = await self.client.get_prediction(r.prediction_id)
            except ReplicateError as exc:
                log.warning("job %s: still following %s after: %s", r.job_id, r.prediction_id, exc)
        await self._conclude(job, spec, prediction)

    async def _conclude(self, job: LiveJob, spec: ModelSpec, prediction: Prediction) -> None:
        """Settle by the prediction's terminal status; an unsuccessful run counts what it cost upstream."""
        if prediction.status is Status.SUCCEEDED:
            await self._deliver(job, spec, prediction)
            return
        spent = self._upstream_cost(job, spec, prediction)
        if prediction.status is Status.FAILED:
            reason = _short(prediction.error) or "no reason given"
            await self.finish(job, JobStatus.FAILED, f"The model failed: {reason}", spent=spent)
        elif prediction.status is Status.ABORTED:
            await self.finish(job, JobStatus.TIMED_OUT, "The model did not start before the time-out")
        elif job.cancel_requested.is_set():
            await self.finish(job, JobStatus.CANCELED, "Canceled", spent=spent)
        elif _ended_by_deadline(prediction):
            await self.finish(
                job, JobStatus.TIMED_OUT, "The model did not finish before the time-out", spent=spent
            )
        else:
            await self.finish(job, JobStatus.CANCELED, "Canceled on Replicate", spent=spent)

    async def _deliver(self, job: LiveJob, spec: ModelSpec, prediction: Prediction) -> None:
        """Copy the video to our storage, check it, then capture the actual cost.

        Replicate has billed the run by now, so a cancel arriving from here on no longer stops it:
        the visitor gets the video they pay for, and is told why.
        """
        r = job.record
        await self._transition(job, JobStatus.DOWNLOADING, "Saving the video…")
        dest = self.videos_dir / f"{r.job_id}.mp4"
        billed = _success_bill(spec, prediction, r.held)
        if not dest.exists():
            url = pick_video(prediction.output_urls)
            if url is None:
                await self.finish(
                    job, JobStatus.FAILED, "The model finished but returned no video", spent=billed
                )
                return
            try:
                await self.client.download(url, dest, max_bytes=MAX_VIDEO_BYTES)
            except OutputUnavailable:
                await self.finish(
                    job,
                    JobStatus.FAILED,
                    "The video expired on Replicate before it could be saved",
                    spent=billed,
                )
                return
            except OutputTooLarge:
                await self.finish(
                    job, JobStatus.FAILED, "The model returned a video too large to keep", spent=billed
                )
                return
            except ReplicateError as exc:
                await self.finish(
                    job, JobStatus.FAILED, f"The video could not be saved ({exc})", spent=billed
                )
                return
        try:
            async with self.cpu_slots:
                seconds = await self.media.video_duration(dest)
        except ValueError:
            dest.unlink(missing_ok=True)
            await self.finish(
                job, JobStatus.FAILED, "The model returned a file that is not a playable video", spent=billed
            )
            return
        actual = spec.pricing.actual(output_s=seconds, predict_time_s=prediction.predict_time, held=r.held)
        r.video_path = str(dest)
        await self._transition(job, JobStatus.DOWNLOADING, "Video saved; settling the credits…")
        await self.finish(job, JobStatus.SUCCEEDED, "Done", capture=actual)

    # ---- settlement --------------------------------------------------------------------

    async def finish(
        self,
        job: LiveJob,
        status: JobStatus,
        reason: str,
        *,
        capture: int | None = None,
        spent: int = 0,
    ) -> None:
        """End the job and settle its hold exactly once; later calls change nothing.

        `spent` is what Replicate bills for a run that ends without a capture; it counts against
        the studio's daily budget while the visitor still gets everything back. A refused job
        (nothing held) is never written to disk: it lives in memory for its viewers only.
        """
        r = job.record
        async with job.settle_lock:
            if r.settled:
                return
            s = await self._settle_with_retries(job, reason, capture=capture, spent=spent)
            if s is None:
                r.charged, r.returned = 0, 0
            else:
                if s.outcome == "captured" and capture is None:
                    status, reason = JobStatus.SUCCEEDED, "Done"  # settled as a success in an earlier life
                r.held = s.held
                r.charged, r.returned = s.charged, s.returned
            r.status = status
            r.error = None if status is JobStatus.SUCCEEDED else reason
            r.message = self._final_message(status, reason, r.charged or 0, r.returned or 0)
            if status is JobStatus.SUCCEEDED and job.cancel_requested.is_set():
                r.message = f"{r.message} {FINISHED_BEFORE_CANCEL}"
            r.finished_at = utc_now()
            r.prediction_input = None
            r.settled = True
            if status is JobStatus.SUCCEEDED:
                job.progress, job.progress_source = 1.0, job.progress_source or ProgressSource.ESTIMATE
            if status is not JobStatus.REJECTED:
                await self.store.save(r)
            job.settled.set()
            job.publish()
            self._notify(job)
        shutil.rmtree(self.inputs_dir / r.job_id, ignore_errors=True)

    async def _settle_with_retries(
        self, job: LiveJob, reason: str, *, capture: int | None, spent: int
    ) -> Settlement | None:
        """Capture or release; a commit the disk refuses is tried again until it lands.

        The ledger settles by job id exactly once, so a retry can never settle twice. Viewers
        are told while it waits; None when no hold exists (refused before the hold).
        """
        r = job.record
        pause = SETTLE_RETRY_FIRST_S
        while True:
            try:
                if capture is not None:
                    return await self.ledger.capture(r.job_id, capture, reason=f"{r.model}: video delivered")
                # Also when nothing is recorded as held: a crash may have come between hold and record.
                return await self.ledger.release(r.job_id, reason=reason, spent=spent)
            except UnknownHold:
                return None
            except CommitFailed as exc:
                log.error("job %s: settling failed, trying again in %.1f s: %s", r.job_id, pause, exc)
                r.message = "Settling your credits is taking longer than usual; nothing is lost…"
                job.publish()
                await asyncio.sleep(pause)
                pause = min(pause * 2, SETTLE_RETRY_MAX_S)

    @staticmethod
    def _final_message(status: JobStatus, reason: str, charged: int, returned: int) -> str:
        """The sentence a visitor reads when the job ends."""
        if status is JobStatus.SUCCEEDED:
            tail = f" ({format_credits(returned)} of the hold returned)" if returned else ""
            return f"Done — charged {format_credits(charged)}{tail}."
        if status is JobStatus.REJECTED:
            return reason
        if returned:
            return f"{reason} — {returned} credits ({format_credits(returned)}) returned."
        return f"{reason}."

    # ---- helpers -----------------------------------------------------------------------

    async def _stop(self, job: LiveJob, spec: ModelSpec, status: JobStatus, reason: str) -> None:
        """The visitor's cancel or our time-out: stop the prediction upstream, then settle by what
        Replicate says it became (a run that succeeded meanwhile is delivered, not thrown away)."""
        r = job.record
        if r.prediction_id is None:
            await self.finish(job, status, reason)
            return
        try:
            prediction: Prediction | None = await self.client.cancel_prediction(r.prediction_id)
        except ReplicateError as exc:
            log.warning("job %s: cancel of %s upstream failed: %s", r.job_id, r.prediction_id, exc)
            prediction = None
        if prediction is not None and prediction.status is Status.SUCCEEDED:
            await self._deliver(job, spec, prediction)
            return
        await self.finish(job, status, reason, spent=self._upstream_cost(job, spec, prediction))

    def _timed_out_reason(self) -> str:
        minutes = self.timeout_s / 60
        limit = f"{minutes:g} min" if minutes >= 1 else f"{self.timeout_s:g} s"
        return f"Timed out after {limit}"

    def _upstream_cost(self, job: LiveJob, spec: ModelSpec, prediction: Prediction | None) -> int:
        """What Replicate bills for this unsuccessful run (0 if it never started), in credits."""
        return spec.pricing.upstream_cost(ran_s=_ran_seconds(job, prediction), held=job.record.held)

    async def _record_prediction(self, job: LiveJob, prediction: Prediction) -> None:
        """Remember the prediction id: from here on a restart resumes following it."""
        r = job.record
        r.prediction_id = prediction.id
        r.prediction_input = None
        await self._transition(job, JobStatus.STARTING, "Waiting for the model to start…")

    async def _find_created(self, job: LiveJob, prediction_input: dict[str, Any]) -> Prediction | None:
        """After an ambiguous create: look for it until found or proven absent (None).

        A found prediction is followed, so a cancel or time-out that comes later stops it
        upstream. When time runs out (None) or the visitor cancels (Canceled) first, a hunter
        keeps looking so a prediction that did start is canceled rather than left to bill.
        """
        r = job.record
        assert r.create_sent_at is not None
        while True:
            try:
                return await self.client.find_prediction(
                    prediction_input, created_after=r.create_sent_at - FIND_MARGIN
                )
            except ReplicateError as exc:
                log.warning("job %s: looking for the created prediction: %s", r.job_id, exc)
            if self._past_deadline(job) or await self._wait_poll(job):
                self._hunt_later(r.job_id, dict(prediction_input), r.create_sent_at)
                if job.cancel_requested.is_set():
                    raise Canceled
                return None

    def _hunt_later(self, job_id: str, prediction_input: dict[str, Any], sent_at: datetime) -> None:
        task = asyncio.create_task(self._hunt(job_id, prediction_input, sent_at), name=f"hunt-{job_id}")
        self._hunters.add(task)
        task.add_done_callback(self._hunters.discard)

    async def _hunt(self, job_id: str, prediction_input: dict[str, Any], sent_at: datetime) -> None:
        """Find an unwanted prediction of an ambiguous create and cancel it, until Replicate's own
        Cancel-After (our time-out, sent with the create) would have ended it anyway."""
        until = sent_at.timestamp() + self.timeout_s + self.deadline_grace_s
        while utc_now().timestamp() < until:
            try:
                found = await self.client.find_prediction(
                    prediction_input, created_after=sent_at - FIND_MARGIN
                )
                if found is None:
                    return  # proven never created
                if not found.is_terminal:
                    await self.client.cancel_prediction(found.id)
                log.warning("job %s: canceled its unwanted prediction %s upstream", job_id, found.id)
                return
            except ReplicateError as exc:
                log.warning("job %s: looking for an unwanted prediction: %s", job_id, exc)
            await asyncio.sleep(self.poll_interval())

    async def aclose(self) -> None:
        """Stop the hunters (Replicate's Cancel-After still ends what they were after)."""
        for task in list(self._hunters):
            task.cancel()
        await asyncio.gather(*self._hunters, return_exceptions=True)

    async def _get_until_deadline(self, job: LiveJob, prediction_id: str) -> Prediction | None:
        """Read the prediction's real status, riding out transient trouble until the deadline."""
        while True:
            try:
                return await self.client.get_prediction(prediction_id)
            except ReplicateError as exc:
                log.warning("job %s: reading %s: %s", job.record.job_id, prediction_id, exc)
            if self._past_deadline(job):
                return None
            if await self._wait_poll(job):
                raise Canceled

    async def _observe(self, job: LiveJob, spec: ModelSpec, prediction: Prediction) -> None:
        """Fold one prediction reading into the job: status (persisted) and progress (memory)."""
        r = job.record
        changed = False
        tail = log_tail(prediction.logs)
        if tail != r.log_tail:
            r.log_tail, changed = tail, True
        if prediction.status is Status.PROCESSING and r.status is not JobStatus.PROCESSING:
            job.processing_since = time.monotonic()
            await self._transition(job, JobStatus.PROCESSING, "Generating the video…")
        progress, source = self._progress(job, spec, prediction)
        if progress is not None and (job.progress is None or abs(progress - job.progress) >= 0.005):
            job.progress, job.progress_source, changed = progress, source, True
        if changed:
            job.publish()

    @staticmethod
    def _progress(job: LiveJob, spec: ModelSpec, p: Prediction) -> tuple[float | None, ProgressSource | None]:
        """From the model's logs when it prints progress, else estimated from elapsed time."""
        parsed = p.progress
        if parsed is not None:
            return parsed.fraction, ProgressSource.LOGS
        if p.status is Status.PROCESSING and job.processing_since is not None:
            typical = max(1.0, spec.typical_run_s(job.record.audio_s or 0.0))
            return min(0.95, (time.monotonic() - job.processing_since) / typical), ProgressSource.ESTIMATE
        return None, None

    async def _transition(self, job: LiveJob, status: JobStatus, message: str) -> None:
        """Persist a state change, then tell viewers and the observer."""
        job.record.status = status
        job.record.message = message
        await self.store.save(job.record)
        job.publish()
        self._notify(job)

    def _notify(self, job: LiveJob) -> None:
        if self.observer is not None:
            self.observer(job.snapshot())

    def poll_interval(self) -> float:
        """Seconds between two polls of one job: the setting, stretched when many jobs run at once
        so that all followers together stay under Replicate's rate limit for reads."""
        return max(self.poll_interval_s, self.followers() / self.polls_per_s)

    async def _wait_poll(self, job: LiveJob) -> bool:
        """Wait one poll interval; True if the visitor asked to cancel meanwhile."""
        try:
            await asyncio.wait_for(job.cancel_requested.wait(), timeout=self.poll_interval())
        except TimeoutError:
            return False
        return True

    async def _interruptible(self, job: LiveJob, step: Awaitable[T]) -> T:
        """Run a step that is safe to abandon (upload, download); a cancel interrupts it."""
        task = asyncio.ensure_future(step)
        waiter = asyncio.ensure_future(job.cancel_requested.wait())
        try:
            done, _ = await asyncio.wait({task, waiter}, return_when=asyncio.FIRST_COMPLETED)
        finally:
            waiter.cancel()
        if task in done:
            return task.result()
        task.cancel()
        raise Canceled

    def _started_at(self, job: LiveJob) -> float:
        """Seconds since the epoch when our time-out clock started (the create, else the job)."""
        r = job.record
        return (r.create_sent_at or r.created_at).timestamp()

    def _past_deadline(self, job: LiveJob) -> bool:
        return utc_now().timestamp() > self._started_at(job) + self.timeout_s + self.deadline_grace_s


def _ended_by_deadline(prediction: Prediction) -> bool:
    """A cancel that came from the prediction's own `Cancel-After` deadline (upstream's clock)."""
    if prediction.deadline is None or prediction.completed_at is None:
        return False
    return prediction.completed_at >= prediction.deadline - timedelta(seconds=1)


def _short(text: str | None, limit: int = 300) -> str:
    """The first line of an upstream error, cut to a length a page can show."""
    first = next((line.strip() for line in (text or "").splitlines() if line.strip()), "")
    return first if len(first) <= limit else first[: limit - 1] + "…"


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


def _success_bill(spec: ModelSpec, prediction: Prediction, held: int) -> int:
    """What Replicate bills for a run that succeeded but whose video we could not keep."""
    if spec.pricing.time_billed and prediction.predict_time is not None:
        return spec.pricing.upstream_cost(ran_s=prediction.predict_time, held=held)
    return max(held, 0)


def _keep_inputs(record: JobRecord, folder: Path, max_bytes: int) -> None:
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
