"""The API researchers call with `gradio_client`: models, start, status, generate, cancel, credits.

`/models` is public: it lists what the page shows anyone. Every other endpoint takes the caller's
API key first (shown on the Credits tab of the page). All answer plain JSON values. A key the
server did not sign is refused; a job id of another owner looks exactly like a missing one. Files
travel as `gradio_client.handle_file(path)`: an image or audio argument must be a file the caller
uploaded (`UploadPolicy`). Any argument, of any JSON type, gets a sentence back when it is wrong
(`speaks`).
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import replace
from typing import Any

import gradio as gr

from demo_app.arguments import api_key_text, job_id_text, model_text, options_from_json
from demo_app.catalog import DEFAULT_MODEL, offered
from demo_app.jobs import BadChoices, JobNotFound, JobRefused, JobSnapshot
from demo_app.services import Services
from demo_app.ui._contract import credits_json, snapshot_json
from demo_app.ui._contract_models import models_json
from demo_app.ui._handlers import FIRST_CHECK_WAIT_S, ServicesSource
from demo_app.ui._preflight_api import choices_from_json, preflight_refusal
from demo_app.ui._sentences import refusal as _refuse
from demo_app.ui._sentences import speaks
from demo_app.uploads import NotAnUpload, UploadPolicy
from demo_app.visitors import ForgedKey, Visitors


class ApiEndpoints:
    """The six named endpoints, bound to the services, the visitors service and the upload policy."""

    def __init__(self, handle: ServicesSource, visitors: Visitors, uploads: UploadPolicy) -> None:
        self._handle = handle
        self._visitors = visitors
        self._uploads = uploads

    def register(self) -> None:
        """Add the endpoints to the Blocks being built (call inside `with demo:`)."""
        gr.api(self.models, api_name="models", concurrency_limit=None)
        gr.api(self.start, api_name="start", concurrency_limit=None)
        gr.api(self.status, api_name="status", concurrency_limit=None)
        gr.api(self.generate, api_name="generate", concurrency_limit=None)
        gr.api(self.cancel, api_name="cancel", concurrency_limit=None)
        gr.api(self.credits, api_name="credits", concurrency_limit=None)

    @speaks
    async def models(self) -> dict[str, Any]:
        """Every offered model: limits, options, price rule (credits) and availability with its reason.

        Just after start the schemas may still be being read: the answer waits for that first
        check a little (`FIRST_CHECK_WAIT_S`), then tells what it knows (`schema_checked_at`)."""
        services = await self._handle.get()
        await services.models.checked_within(FIRST_CHECK_WAIT_S)
        return models_json(offered().values(), services.models.availability)

    @speaks
    async def start(
        self,
        api_key: str,
        image: dict[str, Any],
        audio: dict[str, Any],
        model: str = DEFAULT_MODEL,
        options_json: str = "{}",
        preflight_json: str = "{}",
    ) -> dict[str, Any]:
        """Start a job and return its first snapshot at once (job_id, status, ...); poll /status.

        A picture with no face or several, or a clip too long for the model, is refused at once
        (nothing held) unless `preflight_json` answers it (use_anyway, face, framing, trim)."""
        services, owner = await self._caller(api_key)
        snap = await self._start(services, owner, image, audio, model, options_json, preflight_json)
        return snapshot_json(snap)

    @speaks
    async def status(self, api_key: str, job_id: str) -> dict[str, Any]:
        """The job's latest snapshot (asks nothing upstream); `video` is the file once it succeeded."""
        services, owner = await self._caller(api_key)
        try:
            snap = services.jobs.snapshot(owner, job_id_text(job_id))
        except JobNotFound as exc:
            raise _refuse(str(exc), title="No such job") from None
        return snapshot_json(snap)

    @speaks
    async def generate(
        self,
        api_key: str,
        image: dict[str, Any],
        audio: dict[str, Any],
        model: str = DEFAULT_MODEL,
        options_json: str = "{}",
        preflight_json: str = "{}",
    ) -> AsyncIterator[dict[str, Any]]:
        """Start a job and stream its snapshots until it ends; the last one carries the video.

        A snapshot is sent when something in it changed other than `elapsed_s` (the caller's own
        clock counts on from it); Gradio's SSE heartbeat keeps a quiet connection alive. The
        pre-flight is /start's.
        """
        services, owner = await self._caller(api_key)
        first = await self._start(services, owner, image, audio, model, options_json, preflight_json)
        yield snapshot_json(first)
        last = _timeless(first)
        async for snap in services.jobs.subscribe(owner, first.job_id):
            if _timeless(snap) != last:
                last = _timeless(snap)
                yield snapshot_json(snap)

    @speaks
    async def cancel(self, api_key: str, job_id: str) -> dict[str, Any]:
        """Cancel the job (upstream too) and return its final snapshot with the credits returned."""
        services, owner = await self._caller(api_key)
        try:
            snap = await services.jobs.cancel(owner, job_id_text(job_id))
        except JobNotFound as exc:
            raise _refuse(str(exc), title="No such job") from None
        return snapshot_json(snap)

    @speaks
    async def credits(self, api_key: str) -> dict[str, Any]:
        """Balance, held and available credits, open holds and the ledger statement, line by line."""
        owner = await self._owner(api_key)
        return credits_json(owner, await self._visitors.account(owner))

    # ---- helpers -----------------------------------------------------------------------

    async def _owner(self, api_key: Any) -> str:
        """The key's owner; a forged key is refused before anything else."""
        try:
            return await self._visitors.caller(api_key_text(api_key))
        except ForgedKey as exc:
            raise _refuse(str(exc), title="Invalid API key") from None

    async def _caller(self, api_key: Any) -> tuple[Services, str]:
        """The services and the key's owner."""
        owner = await self._owner(api_key)
        return await self._handle.get(), owner

    async def _start(
        self,
        services: Services,
        owner: str,
        image: Any,
        audio: Any,
        model: Any,
        options_json: Any,
        preflight_json: Any = "{}",
    ) -> JobSnapshot:
        options = options_from_json(options_json)
        image_path = self._uploaded(image, "image")
        audio_path = self._uploaded(audio, "audio")
        model_id = model_text(model)
        try:
            choices = choices_from_json(preflight_json)
        except BadChoices as exc:
            raise _refuse(str(exc), title="Bad pre-flight choices") from None
        quote = await services.jobs.quote(owner, model_id, image_path, audio_path, options, choices)
        refused = preflight_refusal(quote, model_id) if model_id in offered() else None
        if refused is not None:
            raise _refuse(str(refused), title="Check the inputs")
        try:
            return await services.jobs.start(owner, image_path, audio_path, model_id, options, choices)
        except JobRefused as exc:
            raise _refuse(str(exc), title="Cannot start") from None

    def _uploaded(self, value: Any, what: str) -> str:
        """The path of a file the caller uploaded with `handle_file`; anything else is refused."""
        try:
            path = self._uploads.path_of(value, what)
        except NotAnUpload:
            path = None
        if path is None:
            raise _refuse(
                f"Send the {what} as a file you upload: gradio_client.handle_file('path/to/file'); "
                "links and paths on the server are not accepted.",
                title="Missing input",
            )
        return path


def _timeless(snap: JobSnapshot) -> JobSnapshot:
    """The snapshot without its elapsed time, which changes by itself."""
    return replace(snap, elapsed_s=0.0)
