"""The job manager: the server, not the browser, owns every job from the click to settled credits.

One follower task per job however many viewers there are; viewers read snapshots and never
cause upstream requests. On start-up every unsettled job gets its follower back, and any
hold no job can continue is released. On PostgreSQL several replicas share the jobs: each
follows the jobs it leases (`_leases`), takes over those whose lease ran out or was handed
back, and shows the others' jobs as the job feed (`_feed`) reports them; webhooks reach the
follower, and cancels are kept on the job's row until whichever replica follows it honours them.
There the job limits and the create line are the deployment's (`_places`): a start is admitted
against every replica's jobs in the database, in one step with the other replicas' starts.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import secrets
from collections import deque
from collections.abc import AsyncIterator, Callable, Coroutine, Mapping, Sequence
from typing import Any

import psycopg

from demo_app import media
from demo_app.catalog import OptionError, UnknownModel, current_offer, get_model
from demo_app.credits import Ledger, utc_now
from demo_app.jobs import _messages as say
from demo_app.jobs._choices import InputChoices
from demo_app.jobs._comparison import judge_inputs, members_of
from demo_app.jobs._context import JobContext
from demo_app.jobs._deletes import UploadDeletions
from demo_app.jobs._feed import LOG_CHARS, JobFeed
from demo_app.jobs._groups import (
    CannotAffordComparison,
    ComparisonSnapshot,
    compared_models,
    members_in_order,
    open_units,
)
from demo_app.jobs._leases import Claimed
from demo_app.jobs._line import CreateLine
from demo_app.jobs._live import LiveJob
from demo_app.jobs._manifest import APP_VERSION, job_manifest, shared_manifest
from demo_app.jobs._messages import Ending
from demo_app.jobs._places import Admitted, PlaceCounts, SharedPlaces, admitted
from demo_app.jobs._preflight import Previews
from demo_app.jobs._quote import quote
from demo_app.jobs._refusals import (
    BadOptions,
    CannotAfford,
    JobRefused,
    LineFull,
    ModelNotOffered,
    ModelUnavailable,
    OwnerBusy,
    StudioBusy,
)
from demo_app.jobs._retention import prune
from demo_app.jobs._retry import retry_inputs
from demo_app.jobs._runner import JobRunner
from demo_app.jobs._store import JobRecord, JobStore
from demo_app.jobs._sweeper import StatusSweeper
from demo_app.jobs._types import JobNotFound, JobSnapshot, JobStatus, LineView, ProgressSource, Quote
from demo_app.jobs._upstream import offer
from demo_app.replicate import Prediction, ReplicateClient
from demo_app.settings import Settings
from demo_app.webhooks import Receipt, WebhookLinks

log = logging.getLogger(__name__)

RETENTION_SWEEP_S = 3600.0
REFUSED_KEPT_PER_OWNER = 5
"""Refused jobs live in memory only, so a caller can read why; at most this many per owner."""
CPU_SLOTS = 2
"""CPU-heavy steps (media checks, video probes) at once: they share the cores with the page."""
TYPICAL_AUDIO_S = 10.0
"""The clip length the line's first run-time estimate assumes, before any run is measured."""
HAND_OFF_WAIT_S = 5.0
"""How long a stopping replica tries to hand its leases back; past it they simply run out."""

UnavailableReason = Callable[[str], str | None]
"""Why a model may not start now (its schema no longer fits), or None; see `SchemaWatch`."""


def _always_available(model_id: str) -> str | None:
    return None


class JobManager:
    """Start, watch, cancel and list jobs; recover them after a restart. Made by `open()`."""

    def __init__(
        self,
        *,
        settings: Settings,
        client: ReplicateClient,
        ledger: Ledger,
        media_workers: media.MediaWorkers,
        store: JobStore,
        observer: Callable[[JobSnapshot], None] | None = None,
        unavailable: UnavailableReason = _always_available,
        links: WebhookLinks | None = None,
    ) -> None:
        self._settings = settings
        self._unavailable = unavailable
        self._ledger = ledger
        self._store = store
        self._observer = observer
        self.media = media_workers
        self._cpu_slots = asyncio.Semaphore(CPU_SLOTS)
        self._previews = Previews(settings.data_dir / "previews")
        self._jobs: dict[str, LiveJob] = {r.job_id: LiveJob(r) for r in store.all()}
        self._running: set[str] = set()
        self._open_per_owner: dict[str, set[str]] = {}
        self._refused: dict[str, deque[str]] = {}
        self._sweeper: asyncio.Task[None] | None = None
        leases = store.leases
        self._places = SharedPlaces(leases.database, leases.holder, leases.lease_s) if leases else None
        self._line = CreateLine(
            client.pacing.creates,
            places=settings.max_jobs_total,
            occupied=self._occupied,
            typical_run_s=get_model(current_offer().default).typical_run_s(TYPICAL_AUDIO_S),
            places_shared=self._places,
        )
        self._statuses = StatusSweeper(client, settings, self._followed)
        self._status_sweep: asyncio.Task[None] | None = None
        self._leases = store.leases
        self._feed: JobFeed | None = None
        self._leasing: asyncio.Task[None] | None = None
        self._claim_now = asyncio.Event()
        self._refreshing: dict[str, asyncio.Task[None]] = {}
        self._stale: set[str] = set()
        self._runner = JobRunner(
            JobContext(
                settings=settings,
                store=store,
                client=client,
                ledger=ledger,
                media=media_workers,
                cpu_slots=self._cpu_slots,
                followers=self._occupied,
                line=self._line,
                deletions=UploadDeletions(client, store),
                observer=self._observe,
                links=links,
                sweep_every=self._statuses.every,
                pushing_progress=self._pushing_progress,
            )
        )

    @classmethod
    async def open(
        cls,
        *,
        settings: Settings,
        client: ReplicateClient,
        ledger: Ledger,
        media_workers: media.MediaWorkers,
        observer: Callable[[JobSnapshot], None] | None = None,
        unavailable: UnavailableReason = _always_available,
        links: WebhookLinks | None = None,
        store: JobStore | None = None,
    ) -> JobManager:
        """Load the job records, resume every unsettled job, release orphaned holds.

        With `links`, predictions push their changes to this app (see `receive`). `store`: where
        the records live (default: `jobs.json` in the data directory); closed with the manager."""
        (settings.data_dir / "videos").mkdir(parents=True, exist_ok=True)
        store = store or JobStore(settings.data_dir / "jobs.json")
        jobs = cls(
            settings=settings,
            client=client,
            ledger=ledger,
            media_workers=media_workers,
            store=store,
            observer=observer,
            unavailable=unavailable,
            links=links,
        )
        if jobs._leases is not None:
            leases = jobs._leases
            jobs._feed = JobFeed(leases.database, leases.holder, jobs._heard, jobs._resync)
            await jobs._feed.start()
        await jobs._recover()
        if jobs._leases is not None:
            jobs._leasing = asyncio.create_task(jobs._keep_leases(), name="jobs-leases")
        if jobs._places is not None:
            jobs._places.start_keeping(jobs._followed_places)
        jobs._sweeper = asyncio.create_task(jobs._sweep_forever(), name="jobs-retention")
        jobs._status_sweep = asyncio.create_task(jobs._statuses.run(), name="jobs-status-sweep")
        return jobs

    async def aclose(self) -> None:
        """Stop following (without settling anything): a restart will carry the jobs on. On
        PostgreSQL the followers stop first, then their leases are handed to the other replicas."""
        if self._feed is not None:
            await self._feed.aclose()
        tasks = [job.task for job in self._jobs.values() if job.task is not None and not job.task.done()]
        tasks += [task for task in (self._sweeper, self._status_sweep, self._leasing) if task is not None]
        tasks += self._refreshing.values()
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        await self._hand_off()
        await self._line.aclose()
        if self._places is not None:
            await self._places.aclose()
        await self._runner.aclose()
        self._store.close()

    async def _recover(self) -> None:
        if self._leases is None:
            resumable = [job for job in self._jobs.values() if not job.record.settled]
        else:
            resumable = [self._take_over(claim) for claim in await self._leases.claim_expired()]
        for job in resumable:
            r = job.record
            if r.line_joined_at is not None and r.create_sent_at is None:
                self._line.keep_place(job, r.line_joined_at.timestamp())
        for job in resumable:
            log.info("resuming job %s (%s)", job.record.job_id, job.record.status.value)
            self._follow(job, self._runner.resume(job))
        # Ended jobs whose uploads were still to delete when the process stopped, oldest first
        # (past the bound, the oldest are the ones given up: the nearest to expiring anyway).
        for job in sorted(self._jobs.values(), key=lambda job: job.record.created_at):
            if job.record.settled:
                self._runner.delete_uploads(job)
        live = {job_id for job_id, job in self._jobs.items() if not job.record.settled}
        # Another replica's job is written just after its hold: a young hold may be one of those.
        young = utc_now().timestamp() - (self._leases.lease_s if self._leases is not None else 0.0)
        for hold in await self._ledger.open_holds():
            if hold.ref not in live and (self._leases is None or hold.created_at.timestamp() < young):
                log.warning("releasing orphaned hold %s of %s", hold.ref, hold.owner)
                await self._ledger.release(hold.ref, reason="No job could continue this hold after a restart")

    # ---- the public surface --------------------------------------------------------------

    async def start(
        self,
        owner: str,
        image_path: str,
        audio_path: str,
        model_id: str,
        options: dict[str, Any] | None = None,
        choices: InputChoices | None = None,
    ) -> JobSnapshot:
        """Admit the job and return its first snapshot at once; the rest runs in the background.

        `choices` are the pre-flight's answers (face, framing, trim): without them a picture with
        no face or several, or a clip too long for the model, is refused before any hold.

        Everything that can be refused cheaply is refused here (a `JobRefused`), before any media
        work and without writing anything: the model (offered, and its schema still fitting), its
        options, a full create line, the studio's and the owner's running jobs, and a balance that
        cannot pay even the model's shortest run.
        """
        try:
            spec = get_model(model_id)
        except UnknownModel as exc:
            raise ModelNotOffered(model_id, str(exc)) from None
        reason = self._unavailable(model_id)
        if reason is not None:
            raise ModelUnavailable(model_id, reason)
        try:
            checked = spec.validate_options(options or {})
        except OptionError as exc:
            raise BadOptions(str(exc)) from None
        available = (await self._ledger.balance(owner)).available
        floor = spec.hold_for(media.DEFAULT_MIN_SECONDS, checked)
        poor = CannotAfford(available, floor, spec.title) if available < floor else None
        record = JobRecord(
            job_id=secrets.token_urlsafe(16),
            owner=owner,
            model=model_id,
            options=checked,
            created_at=utc_now(),
            source_image=image_path,
            source_audio=audio_path,
            message=say.CHECKING,
            app_version=APP_VERSION,
            choices=choices or InputChoices(),
        )
        await self._admit(owner, [admitted(record.job_id, owner, None)], poor)
        job = LiveJob(record)
        self._jobs[record.job_id] = job
        self._follow(job, self._runner.run(job))
        return job.snapshot()

    async def start_comparison(
        self, owner: str, image_path: str, audio_path: str, model_ids: Sequence[str]
    ) -> ComparisonSnapshot:
        """Start one job per model on the same inputs, each with its model's default options.

        Admitted as one: any refusal (a model, the inputs, the sum of the holds against the
        balance, the limits) refuses all before anything starts; it counts once against the
        owner's job limit. Then each member runs, holds and settles on its own.
        """
        specs = members_of(compared_models(model_ids), self._unavailable)
        members = await judge_inputs(
            specs,
            self.media,
            self._cpu_slots,
            image_path,
            audio_path,
            max_bytes=self._settings.max_upload_bytes,
        )
        available = (await self._ledger.balance(owner)).available
        needed = sum(member.hold for member in members)
        titles = [member.spec.title for member in members]
        poor = CannotAffordComparison(available, needed, titles) if available < needed else None
        group_id = secrets.token_urlsafe(16)
        job_ids = [secrets.token_urlsafe(16) for _member in members]
        await self._admit(owner, [admitted(job_id, owner, group_id) for job_id in job_ids], poor)
        started = []
        for job_id, member in zip(job_ids, members, strict=True):
            record = JobRecord(
                job_id=job_id,
                owner=owner,
                model=member.spec.id,
                options=member.options,
                created_at=utc_now(),
                source_image=image_path,
                source_audio=audio_path,
                message=say.CHECKING,
                group_id=group_id,
            )
            job = LiveJob(record)
            self._jobs[record.job_id] = job
            self._follow(job, self._runner.run(job))
            started.append(job.snapshot())
        return ComparisonSnapshot(group_id, tuple(started))

    def comparison(self, owner: str, group_id: str) -> ComparisonSnapshot:
        """The comparison's latest state (JobNotFound for another owner's or a missing one)."""
        members = [
            job.snapshot()
            for job in self._jobs.values()
            if job.record.group_id == group_id and job.record.owner == owner
        ]
        if not members:
            raise JobNotFound("No such comparison for you. Check the comparison id.")
        return ComparisonSnapshot(group_id, members_in_order(members))

    def open_jobs(self, owner: str) -> int:
        """The owner's running jobs as their limit counts them (a comparison once); with several
        replicas, those this replica follows (the limit itself counts every replica's)."""
        return open_units(self._open_per_owner.get(owner, ()), self._group_of)

    async def _admit(self, owner: str, jobs: list[Admitted], refusal: JobRefused | None) -> None:
        """Refuse the start (a full line, a busy studio or owner, then `refusal`), or take its
        places: from this process's counts, or on PostgreSQL from every replica's, in one step
        with the other replicas' starts. No await between the check and the caller's `_follow`
        in-process, so two starts here can never both take the last place."""
        if self._places is not None:
            await self._places.admit(owner, jobs, lambda counts: self._decide(counts, len(jobs), refusal))
            return
        waiting = self._line.outlook().waiting
        self._decide(PlaceCounts(self._occupied(), waiting, self.open_jobs(owner)), len(jobs), refusal)

    def _decide(self, counts: PlaceCounts, jobs: int, refusal: JobRefused | None) -> None:
        """The refusal `jobs` more jobs meet at `counts`, in the order a visitor should read them."""
        if counts.waiting >= self._settings.max_line:
            raise LineFull(counts.waiting, self._line.eta_at(counts.waiting + 1))
        if counts.occupied + jobs > self._settings.max_jobs_total:
            raise StudioBusy(counts.occupied)
        if counts.mine >= self._settings.max_jobs_per_owner:
            raise OwnerBusy(counts.mine, self._settings.max_jobs_per_owner)
        if refusal is not None:
            raise refusal

    async def retry(self, owner: str, job_id: str) -> JobSnapshot:
        """Start a new job from the kept face, voice, model and options of the owner's job
        `job_id` (it failed, timed out or was canceled); refused like `start`, or with
        `NothingToRetry` when that job cannot be repeated."""
        record = self._owned(owner, job_id).record
        image_path, audio_path = await asyncio.to_thread(retry_inputs, record)
        return await self.start(owner, image_path, audio_path, record.model, record.options, record.choices)

    async def receive(self, job_id: str, prediction: Prediction) -> Receipt:
        """A verified webhook's prediction for `job_id`: its follower is woken if it is news."""
        job = self._jobs.get(job_id)
        if job is None and self._leases is not None:
            doc = await self._leases.read(job_id)
            job = self._adopt(JobRecord.model_validate(doc)) if doc is not None else None
        if job is None:
            return Receipt.UNKNOWN_JOB
        if job.record.settled:
            return Receipt.FINISHED
        if job_id not in self._running and self._feed is not None:
            self._feed.announce(job_id, "news")  # its follower is another replica: it reads it now
            return Receipt.APPLIED
        if job.task is None or job.task.done():
            return Receipt.FINISHED
        return offer(job, prediction)

    def snapshot(self, owner: str, job_id: str) -> JobSnapshot:
        """The job's latest snapshot; no upstream request."""
        return self._owned(owner, job_id).snapshot()

    async def look_up(self, owner: str, job_id: str) -> JobSnapshot:
        """Like `snapshot`, but a job another replica started just now is read from the database."""
        return (await self._found(owner, job_id)).snapshot()

    def record(self, owner: str, job_id: str) -> JobRecord:
        """A copy of the job's record (for its manifest); no upstream request."""
        return self._owned(owner, job_id).record.model_copy(deep=True)

    async def subscribe(self, owner: str, job_id: str) -> AsyncIterator[JobSnapshot]:
        """The current snapshot, then each change (never a copy on a timer), ending with the terminal one."""
        job = await self._found(owner, job_id)
        async for snap in job.watch():
            yield snap

    async def wait(self, owner: str, job_id: str, *, timeout_s: float | None = None) -> JobSnapshot:
        """The job's final snapshot once it is settled (TimeoutError past `timeout_s`)."""
        job = await self._found(owner, job_id)
        await asyncio.wait_for(job.settled.wait(), timeout=timeout_s)
        return job.snapshot()

    async def cancel(self, owner: str, job_id: str) -> JobSnapshot:
        """Stop the job upstream and release its hold; a finished job is left as it is.

        Answers within `cancel_wait_s` even if settling is slow (a full disk): the job settles later.
        """
        job = await self._found(owner, job_id)
        if not job.record.settled:
            job.request_cancel()
            if self._leases is not None:
                await self._want_cancel(job_id)  # its follower, here or elsewhere, now or later
            elif job.task is None or job.task.done():
                await self._runner.end(job, Ending.CANCELED)
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(asyncio.shield(job.settled.wait()), self._settings.cancel_wait_s)
        return job.snapshot()

    def history(self, owner: str, limit: int = 50) -> list[JobSnapshot]:
        """The owner's jobs, newest first (refused attempts are not history)."""
        jobs = [
            job
            for job in self._jobs.values()
            if job.record.owner == owner and job.record.status is not JobStatus.REJECTED
        ]
        jobs.sort(key=lambda job: job.record.created_at, reverse=True)
        return [job.snapshot() for job in jobs[:limit]]

    def manifest(self, owner: str, job_id: str) -> dict[str, Any]:
        """The finished job's manifest (`_manifest`); JobNotFinished while it runs."""
        return job_manifest(self._owned(owner, job_id).record)

    def shared_manifest(self, owner: str, job_id: str) -> dict[str, Any]:
        """The manifest a shared video carries (no credits)."""
        return shared_manifest(self._owned(owner, job_id).record)

    def every_job(self) -> list[JobSnapshot]:
        """Every owner's jobs, newest first, refused attempts included (the owner's desk only)."""
        jobs = sorted(self._jobs.values(), key=lambda job: job.record.created_at, reverse=True)
        return [job.snapshot() for job in jobs]

    def active_job(self, owner: str) -> JobSnapshot | None:
        """The owner's newest running job outside any comparison, so a reloaded page can resume it."""
        running = [
            j
            for j in self._jobs.values()
            if j.record.owner == owner and not j.record.settled and j.record.group_id is None
        ]
        if not running:
            return None
        return max(running, key=lambda j: j.record.created_at).snapshot()

    async def quote(
        self,
        owner: str,
        model_id: str,
        image_path: str | None,
        audio_path: str | None,
        options: Mapping[str, Any] | None = None,
        choices: InputChoices | None = None,
    ) -> Quote:
        """What Generate would hold now, or every reason it cannot run yet; with the pre-flight's
        findings (the faces, the picture the model would receive, the clip against its limit)."""
        reason = self._unavailable(model_id)
        if reason is not None:
            return Quote(ready=False, reason=reason, estimate=None, audio_s=None, text=reason)
        async with self._previews.fresh() as preview_dir:
            return await quote(
                self._ledger,
                self.media,
                self._cpu_slots,
                owner,
                model_id,
                image_path,
                audio_path,
                options or {},
                choices=choices or InputChoices(),
                preview_dir=preview_dir,
                max_bytes=self._settings.max_upload_bytes,
            )

    def line(self) -> LineView:
        """How long the create line is and about how long a job started now would wait in it."""
        return self._line.outlook()

    @property
    def deletions(self) -> UploadDeletions:
        """Ended jobs' uploaded inputs waiting for the spare read budget (`waiting`, `drained`)."""
        return self._runner.ctx.deletions

    async def prune(self) -> None:
        """Forget jobs past their keep time and bound the videos' disk use, oldest first."""
        await prune(self._jobs, self._store, self._settings)

    # ---- internals -----------------------------------------------------------------------

    async def _sweep_forever(self) -> None:
        while True:
            try:
                await self.prune()
            except Exception:
                log.exception("retention sweep failed")
            await asyncio.sleep(RETENTION_SWEEP_S)

    def _follow(self, job: LiveJob, step: Coroutine[Any, Any, None]) -> None:
        """Give the job its one follower task, counted (studio-wide and per owner) while it runs."""
        job_id, owner = job.record.job_id, job.record.owner
        self._running.add(job_id)
        self._open_per_owner.setdefault(owner, set()).add(job_id)
        job.task = asyncio.create_task(step, name=f"job-{job_id}")
        job.task.add_done_callback(lambda _task: self._ended(owner, job_id))
        if self._feed is not None:
            job.echo = lambda: self._echo(job)

    def _followed(self) -> list[LiveJob]:
        return [self._jobs[job_id] for job_id in self._running if job_id in self._jobs]

    def _pushing_progress(self) -> int:
        """Followed predictions created with `logs` webhooks whose end is not known yet."""
        return sum(1 for job in self._followed() if job.progress_pushed and not job.ended_upstream)

    def _followed_places(self) -> list[Admitted]:
        """The places this replica keeps alive: its followed jobs that have not ended."""
        return [
            admitted(job.record.job_id, job.record.owner, job.record.group_id)
            for job in self._followed()
            if not job.record.terminal
        ]

    def _observe(self, snap: JobSnapshot) -> None:
        """Each transition: a settled job frees its owner's slot at once; keep only the owner's
        last few refused jobs; then tell the outside observer."""
        if snap.terminal:
            self._free_slot(snap.owner, snap.job_id)
            if self._places is not None:
                self._places.ended(snap.job_id)
        if snap.status is JobStatus.REJECTED:
            refused = self._refused.setdefault(snap.owner, deque())
            refused.append(snap.job_id)
            while len(refused) > REFUSED_KEPT_PER_OWNER:
                self._jobs.pop(refused.popleft(), None)
        if self._observer is not None:
            self._observer(snap)

    def _ended(self, owner: str, job_id: str) -> None:
        self._running.discard(job_id)
        job = self._jobs.get(job_id)
        if job is not None:
            job.echo = None
        self._free_slot(owner, job_id)
        self._line.forget(job_id)
        self._line.ran(job_id)
        self._line.place_freed()

    def _occupied(self) -> int:
        """Jobs holding a running place: every job with a follower but those waiting in the line."""
        return len(self._running) - self._line.not_running()

    def _free_slot(self, owner: str, job_id: str) -> None:
        open_jobs = self._open_per_owner.get(owner)
        if open_jobs is not None:
            open_jobs.discard(job_id)
            if not open_jobs:
                del self._open_per_owner[owner]

    def _group_of(self, job_id: str) -> str | None:
        job = self._jobs.get(job_id)
        return job.record.group_id if job is not None else None

    async def _found(self, owner: str, job_id: str) -> LiveJob:
        """Like `_owned`, but a job this replica has not heard of yet is looked up in the database."""
        if job_id not in self._jobs and self._leases is not None:
            doc = await self._leases.read(job_id)
            if doc is not None and job_id not in self._jobs:
                self._adopt(JobRecord.model_validate(doc))
        return self._owned(owner, job_id)

    def _owned(self, owner: str, job_id: str) -> LiveJob:
        job = self._jobs.get(job_id)
        if job is None or job.record.owner != owner:
            raise JobNotFound("No such job for you. Check the job id.")
        return job

    # ---- several replicas on one database ------------------------------------------------

    async def _keep_leases(self) -> None:
        """Every third of the lease: renew this replica's leases (stop following a job whose lease
        was lost, stop a job whose cancel is wanted), then take over the jobs whose lease ran out
        (their replica died) or was handed back (at once, when a stopping replica says so)."""
        assert self._leases is not None
        while True:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._claim_now.wait(), self._leases.lease_s / 3)
            self._claim_now.clear()
            try:
                renewal = await self._leases.renew(sorted(self._running))
                for job_id in renewal.lost:
                    log.warning("job %s: lease lost to another replica; it follows the job now", job_id)
                    lost = self._jobs.get(job_id)
                    if lost is not None and lost.task is not None:
                        lost.task.cancel()
                for job_id in renewal.cancel_wanted:
                    self._cancel_followed(job_id)
                for claim in await self._leases.claim_expired():
                    if claim.record["job_id"] in self._running:
                        continue
                    job = self._take_over(claim)
                    log.info("taking over job %s (%s)", job.record.job_id, job.record.status.value)
                    self._follow(job, self._runner.resume(job))
            except Exception:
                log.exception("keeping job leases failed; trying again")

    def _take_over(self, claim: Claimed) -> LiveJob:
        """A job this replica just claimed, with the cancel it may carry, ready to resume."""
        job = self._adopt(JobRecord.model_validate(claim.record))
        if claim.cancel_wanted:
            job.request_cancel()
        return job

    def _cancel_followed(self, job_id: str) -> None:
        """A cancel reached this replica for a job it follows: its follower stops it."""
        job = self._jobs.get(job_id)
        if job is not None and job_id in self._running:
            job.request_cancel()

    async def _want_cancel(self, job_id: str) -> None:
        """Keep the cancel on the job's row and announce it; if the database cannot take it now,
        only a follower on this replica stops the job."""
        assert self._leases is not None
        try:
            await self._leases.want_cancel(job_id)
        except psycopg.Error as exc:
            log.warning("job %s: the cancel could not be kept (%s)", job_id, type(exc).__name__)

    async def _hand_off(self) -> None:
        """Give this replica's leases back (its followers have stopped) so another replica
        takes the jobs over at once; if the database does not answer in time, they run out."""
        if self._leases is None:
            return
        try:
            async with asyncio.timeout(HAND_OFF_WAIT_S):
                handed = await self._leases.hand_off()
        except (psycopg.Error, TimeoutError) as exc:
            log.warning("jobs not handed off (%s): their leases run out instead", type(exc).__name__)
            return
        if handed:
            log.info("handed %d jobs to the other replicas", len(handed))

    def _adopt(self, record: JobRecord) -> LiveJob:
        """Take the database's latest record of a job this replica does not follow (now)."""
        self._store.adopt(record)
        job = self._jobs.get(record.job_id)
        if job is None:
            job = self._jobs[record.job_id] = LiveJob(record)
            self._line.place_elsewhere(job)
        else:
            job.record = record
        if record.settled:
            job.settled.set()
            if record.status is JobStatus.SUCCEEDED:
                job.progress = 1.0
        return job

    def _echo(self, job: LiveJob) -> None:
        """A followed job's viewers were woken: the other replicas' viewers hear it too."""
        assert self._feed is not None
        source = job.progress_source.value if job.progress_source is not None else None
        log_tail = job.record.log_tail[-LOG_CHARS:]
        self._feed.announce(job.record.job_id, "progress", progress=job.progress, source=source, log=log_tail)

    def _heard(self, message: dict[str, Any]) -> None:
        """Another replica's message about a job (see `_feed`)."""
        job_id, kind = message["job"], message.get("kind")
        job = self._jobs.get(job_id)
        if kind == "handoff":
            self._claim_now.set()  # a replica stopped: take its jobs over now, not at the next round
        elif job_id in self._running:
            if kind == "cancel":
                self._cancel_followed(job_id)
            elif job is not None and kind == "news":
                job.read_wanted = True
                job.news.set()
        elif kind == "saved":
            self._refresh(job_id)
        elif kind == "progress" and job is not None and not job.record.settled:
            progress, source, logs = message.get("progress"), message.get("source"), message.get("log")
            if isinstance(progress, int | float):
                job.progress = float(progress)
            if source in {s.value for s in ProgressSource}:
                job.progress_source = ProgressSource(source)
            if isinstance(logs, str):
                job.record.log_tail = logs[-LOG_CHARS:]
            job.publish()

    def _refresh(self, job_id: str) -> None:
        """Read the job's record again (one read at a time per job; a change meanwhile reads again)."""
        if job_id in self._refreshing:
            self._stale.add(job_id)
            return
        self._refreshing[job_id] = asyncio.create_task(self._reread(job_id), name=f"job-refresh-{job_id}")

    async def _reread(self, job_id: str) -> None:
        assert self._leases is not None
        try:
            while True:
                self._stale.discard(job_id)
                doc = await self._leases.read(job_id)
                if doc is not None and job_id not in self._running:
                    job = self._adopt(JobRecord.model_validate(doc))
                    job.publish()
                if job_id not in self._stale:
                    return
        except Exception:
            log.exception("job %s: reading its record failed", job_id)
        finally:
            self._refreshing.pop(job_id, None)

    def _resync(self) -> None:
        """The feed reconnected: messages may have been lost; read every unfinished job again, and
        look for jobs handed back meanwhile (a missed cancel is found by the next renewal)."""
        self._claim_now.set()
        for job_id, job in list(self._jobs.items()):
            if not job.record.settled and job_id not in self._running:
                self._refresh(job_id)
