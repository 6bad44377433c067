"""What the page's events do: each handler asks the job manager, the ledger or the catalog.

The job manager owns every job. A handler that follows a job only watches it: if the tab
closes, the page reloads or Gradio cancels the handler, the job and its credits are untouched.

A visitor may run as many jobs at once as `LIPSYNC_MAX_JOBS_PER_OWNER` allows, from the page as
from the API (the job manager refuses past it with a sentence). The page has one run panel: it
follows the newest job started in this tab, and the follower of an older one stops watching.

Every event can be called by anyone with any arguments (a private event still answers its
fn_index), so each handler speaks in sentences (`speaks`) and takes files only through the
upload policy.
"""

from __future__ import annotations

import asyncio
import secrets
from collections.abc import AsyncIterator, Sequence
from pathlib import Path
from typing import Any, Protocol

import gradio as gr

from demo_app.arguments import BadArgument, browser_key_text, job_id_text, model_text
from demo_app.catalog import CATALOG
from demo_app.jobs import BadChoices, JobNotFound, JobRefused, JobSnapshot, NothingToRetry, Quote, fold
from demo_app.presenters import (
    balance_html,
    credits_summary_html,
    holds_rows,
    model_info,
    more_credits_html,
    more_credits_text,
    quote_html,
    statement_rows,
)
from demo_app.services import Services
from demo_app.ui._compare_view import history_entry_rows
from demo_app.ui._latest import LatestCalls, tab_of
from demo_app.ui._options import ModelInputs
from demo_app.ui._preflight import INPUT_COUNT, choices_of, panel_updates, unchanged
from demo_app.ui._run import RunFrames, idle_frame
from demo_app.ui._sentences import refusal, speaks
from demo_app.uploads import NotAnUpload, UploadPolicy
from demo_app.visitors import Visitors

FIRST_CHECK_WAIT_S = 5.0
"""How long the model line and `/models` wait, at most, for the schema check that runs at start."""

HISTORY_LIMIT = 50
TITLES = {model_id: spec.title for model_id, spec in CATALOG.items()}


class ServicesSource(Protocol):
    """Where handlers get the services opened in the server's lifespan."""

    async def get(self) -> Services: ...


def _refuse(message: str, title: str = "Cannot start") -> gr.Error:
    """A modal the visitor reads; no traceback in the log for an expected refusal."""
    return refusal(message, title)


class PageHandlers:
    """The page's event handlers, bound to the services, the visitors service and the option inputs."""

    def __init__(
        self,
        handle: ServicesSource,
        visitors: Visitors,
        model_inputs: ModelInputs,
        uploads: UploadPolicy,
    ) -> None:
        self._handle = handle
        self._visitors = visitors
        self._model_inputs = model_inputs
        self._uploads = uploads
        self._followed: dict[tuple[str, str], str] = {}
        """Per owner and browser tab (session hash): the job its run panel follows now."""
        self._quotes = LatestCalls()

    # ---- who is visiting --------------------------------------------------------------

    @speaks
    async def load(
        self, browser_key: str | None, profile: gr.OAuthProfile | None, request: gr.Request
    ) -> tuple[Any, ...]:
        """Admit the visitor (the grant comes once) and show their balance and API key."""
        username = profile.username if profile is not None else None
        visitor = await self._visitors.admit(username, browser_key_text(browser_key), request)
        stored = visitor.browser_key if visitor.browser_key is not None else gr.skip()
        return stored, visitor.owner, visitor.api_key, balance_html(visitor.balance)

    # ---- before a run -------------------------------------------------------------------

    @speaks
    async def preflight(
        self, request: gr.Request, owner: str | None, model_id: str, image: Any, audio: Any, *values: Any
    ) -> list[Any]:
        """The live estimate for the options and pre-flight choices, Generate enabled only when
        the job could start, and the pre-flight panel: faces to choose from, the picture the model
        will receive, the part of a too-long clip to send. An answer that a newer call of the same
        tab has overtaken changes nothing (`_latest`)."""
        answered = await self._quotes.answer(
            tab_of(request), self._estimate(owner, model_id, image, audio, values)
        )
        if answered is None:
            return [gr.skip(), gr.skip(), *unchanged()]
        estimate, generate, found = answered
        if found is None:
            return [estimate, generate, *unchanged()]
        quote, image_path, audio_path = found
        return [estimate, generate, *panel_updates(quote, values[:INPUT_COUNT], image_path, audio_path)]

    async def ask_estimate(self) -> str:
        """A new token for `CreateTab.estimate_asked`: the page's one estimate event runs again
        (after a run ends, when nothing the estimate reads has changed but the owner's job count)."""
        return secrets.token_hex(8)

    async def _estimate(
        self, owner: str | None, model_id: str, image: Any, audio: Any, values: Sequence[Any]
    ) -> tuple[str, Any, tuple[Quote, str | None, str | None] | None]:
        """The estimate's text, Generate, and what the estimate found (None before the visitor is known)."""
        if owner is None:
            return quote_html(None), gr.Button(interactive=False), None
        model_id = model_text(model_id)
        image_path, audio_path = self._upload(image, "face image"), self._upload(audio, "audio clip")
        chosen, option_values = values[:INPUT_COUNT], values[INPUT_COUNT:]
        services = await self._handle.get()
        options = self._model_inputs.collect(model_id, option_values) if option_values else {}
        try:
            choices = choices_of(chosen, image_path, audio_path)
        except BadChoices as exc:
            return (
                quote_html(Quote(False, str(exc), None, None, str(exc))),
                gr.Button(interactive=False),
                None,
            )
        quote = await services.jobs.quote(owner, model_id, image_path, audio_path, options, choices)
        found = quote, image_path, audio_path
        if _at_job_limit(services, owner):
            return quote_html(quote, busy=True), gr.Button(interactive=False), found
        text = quote_html(quote, line=services.jobs.line())
        if await _short_of_credits(services, owner, quote):
            text = f"{text}\n\n{more_credits_text(owner)}"
        return text, gr.Button(interactive=quote.ready), found

    @speaks
    async def choose_model(self, model_id: str) -> list[Any]:
        """The model's one-line description and typical time (and why it cannot run now, if it
        cannot), its prompt and its options."""
        return [await self.about_model(model_id), *self._model_inputs.show(model_id)]

    @speaks
    async def about_model(self, model_id: str) -> str:
        """The line about the model, with the reason it is unavailable when its schema no longer fits."""
        model_id = model_text(model_id)
        services = await self._handle.get()
        await services.models.checked_within(FIRST_CHECK_WAIT_S)
        built_in = not services.settings.uses_replicate
        return model_info(model_id, services.models.unavailable_reason(model_id), built_in=built_in)

    # ---- a run ------------------------------------------------------------------------------

    @speaks
    async def generate(
        self,
        request: gr.Request,
        owner: str | None,
        image: Any,
        audio: Any,
        model_id: str,
        *values: Any,
    ) -> AsyncIterator[tuple[Any, ...]]:
        """Start a job and follow it to its end (or until this tab starts a newer one)."""
        if owner is None:
            raise _refuse("The page is still loading; press Generate again in a second.")
        model_id = model_text(model_id)
        image, audio = self._upload(image, "face image"), self._upload(audio, "audio clip")
        if not image or not audio:
            raise _refuse("Add a face image and an audio clip first.", title="Missing input")
        services = await self._handle.get()
        chosen, option_values = values[:INPUT_COUNT], values[INPUT_COUNT:]
        options = self._model_inputs.collect(model_id, option_values)
        try:
            choices = choices_of(chosen, image, audio)
            snap = await services.jobs.start(owner, image, audio, model_id, options, choices)
        except (JobRefused, BadChoices) as exc:
            raise _refuse(str(exc)) from None
        async for frame in self._follow(services, owner, snap, tab_of(request)):
            yield frame

    @speaks
    async def retry(
        self,
        request: gr.Request,
        owner: str | None,
        job_id: str | None,
        image: Any,
        audio: Any,
        model_id: str,
        *values: Any,
    ) -> AsyncIterator[tuple[Any, ...]]:
        """Try again: the followed job's own face, voice, model, options and pre-flight choices,
        kept on the server (a reload empties the page's inputs); when they are no longer kept,
        the page's inputs and choices."""
        if owner is None:
            raise _refuse("The page is still loading; press Try again in a second.")
        services = await self._handle.get()
        reason = "Add a face image and an audio clip first."
        if isinstance(job_id, str) and job_id:
            try:
                snap = await services.jobs.retry(owner, job_id_text(job_id))
            except NothingToRetry as exc:
                reason = str(exc)
            except (JobNotFound, BadArgument):
                pass
            except JobRefused as exc:
                raise _refuse(str(exc)) from None
            else:
                async for frame in self._follow(services, owner, snap, tab_of(request)):
                    yield frame
                return
        if image is None or audio is None:
            raise _refuse(reason, title="Cannot try again")
        async for frame in self.generate(request, owner, image, audio, model_id, *values):
            yield frame

    @speaks
    async def resume(self, owner: str | None, request: gr.Request) -> AsyncIterator[tuple[Any, ...]]:
        """After a (re)load: follow the visitor's running job, if there is one."""
        if owner is None:
            yield idle_frame()
            return
        services = await self._handle.get()
        active = services.jobs.active_job(owner)
        if active is None:
            yield idle_frame()
            return
        async for frame in self._follow(services, owner, active, tab_of(request)):
            yield frame

    @speaks
    async def cancel(self, owner: str | None, job_id: str | None) -> AsyncIterator[Any]:
        """Ask the job manager to cancel; the followed job's panel then shows the credits returned."""
        if owner is None or job_id is None:
            yield gr.Button(visible=False)
            return
        yield gr.Button(value="Canceling…", interactive=False)
        services = await self._handle.get()
        try:
            await services.jobs.cancel(owner, job_id)
        except JobNotFound as exc:
            raise _refuse(str(exc), title="Cannot cancel") from None
        yield gr.Button(value="Cancel", visible=False, interactive=True)

    def _upload(self, value: Any, what: str) -> str | None:
        """The path of a file the visitor uploaded (None if none); a file the server does not have
        (removed after a while, or never uploaded) asks the visitor to choose it again."""
        try:
            return self._uploads.path_of(value, what)
        except NotAnUpload:
            raise _refuse(
                f"Choose the {what} again: the server no longer has the file on the page.",
                title="Choose the file again",
            ) from None

    async def _follow(
        self, services: Services, owner: str, first: JobSnapshot, tab: str
    ) -> AsyncIterator[tuple[Any, ...]]:
        """Frames of `first` until it ends, or until `tab` follows a newer job (then nothing more)."""
        panel = (owner, tab)
        self._followed[panel] = first.job_id
        frames = RunFrames(lambda: _balance_html(services, owner))
        try:
            async for snap in services.jobs.subscribe(owner, first.job_id):
                frame = await frames.frame(snap)
                if self._followed.get(panel) != first.job_id:
                    # Gradio sends an event's last frame again when it ends: a frame that changes
                    # nothing keeps that from drawing this older job over the newer one.
                    yield idle_frame()
                    return
                if frame is not None:
                    yield frame
        finally:
            if self._followed.get(panel) == first.job_id:
                del self._followed[panel]

    # ---- history and credits -------------------------------------------------------------------

    @speaks
    async def history(self, owner: str | None) -> list[list[str]]:
        """The visitor's jobs, newest first."""
        if owner is None:
            return []
        services = await self._handle.get()
        return history_entry_rows(fold(services.jobs.history(owner, limit=HISTORY_LIMIT)), TITLES)

    @speaks
    async def history_video(self, owner: str | None, evt: gr.SelectData) -> tuple[Any, Any]:
        """The video of the job whose row was clicked (from our storage, long after Replicate's link)."""
        row = evt.row_value if isinstance(evt.row_value, Sequence) else None
        if owner is None or not row:
            return None, gr.DownloadButton(visible=False)
        services = await self._handle.get()
        try:
            snap = services.jobs.snapshot(owner, job_id_text(row[-1]))
        except (JobNotFound, BadArgument):
            return None, gr.DownloadButton(visible=False)
        path = snap.video_path if snap.video_path and await _exists(snap.video_path) else None
        return path, gr.DownloadButton(value=path, visible=path is not None)

    @speaks
    async def credits(self, owner: str | None) -> tuple[str, list[list[Any]], list[list[Any]], str]:
        """Balance, this visitor's open holds and the ledger statement, line by line."""
        if owner is None:
            return "", [], [], ""
        account = await self._visitors.account(owner)
        return (
            credits_summary_html(account.balance) + more_credits_html(owner),
            holds_rows(account.open_holds),
            statement_rows(account.statement),
            balance_html(account.balance),
        )


def _at_job_limit(services: Services, owner: str) -> bool:
    """True when the owner runs as many jobs as `max_jobs_per_owner` allows (Generate would be refused)."""
    return services.jobs.open_jobs(owner) >= services.settings.max_jobs_per_owner


async def _exists(path: str) -> bool:
    return await asyncio.to_thread(Path(path).is_file)


async def _short_of_credits(services: Services, owner: str, quote: Quote) -> bool:
    """True when the balance cannot pay the estimate (the visitor then reads how to get more)."""
    if quote.ready or quote.estimate is None:
        return False
    return (await services.ledger.balance(owner)).available < quote.estimate


async def _balance_html(services: Services, owner: str) -> str:
    return balance_html(await services.ledger.balance(owner))
