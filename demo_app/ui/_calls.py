"""What the API does, once for both of its doors: the `gradio_client` endpoints and the MCP tools.

Each call checks its arguments' shape, admits the caller by key, asks the services and answers
plain values; anything the caller must fix is `Refused` with one sentence and a heading. How a
door carries the key (first argument, or a header), the files (Gradio uploads, or `data:` and
https links) and the refusals (a `gr.Error`, or an MCP tool error) is the door's business.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import replace
from typing import Any

from demo_app.arguments import api_key_text, job_id_text, model_text, options_from_json
from demo_app.catalog import offered
from demo_app.jobs import BadChoices, JobNotFinished, JobNotFound, JobRefused, JobSnapshot
from demo_app.services import Services
from demo_app.shares import CannotShare
from demo_app.ui._contract import credits_json
from demo_app.ui._contract_models import models_json
from demo_app.ui._handlers import FIRST_CHECK_WAIT_S, ServicesSource
from demo_app.ui._preflight_api import choices_from_json, preflight_refusal
from demo_app.ui._sentences import Refused
from demo_app.ui._share import share_url
from demo_app.uploads import NotAnUpload, UploadPolicy
from demo_app.visitors import ForgedKey, Visitors


class ApiCalls:
    """The API's operations, bound to the services, the visitors service and the upload policy."""

    def __init__(self, handle: ServicesSource, visitors: Visitors, uploads: UploadPolicy) -> None:
        self._handle = handle
        self._visitors = visitors
        self._uploads = uploads

    async def services(self) -> Services:
        """The opened services (waits for them at start)."""
        return await self._handle.get()

    async def models(self) -> dict[str, Any]:
        """Every offered model: limits, options, price rule and availability.

        Just after start the schemas may still be being read: the answer waits for that first
        check a little (`FIRST_CHECK_WAIT_S`), then tells what it knows (`schema_checked_at`)."""
        services = await self._handle.get()
        await services.models.checked_within(FIRST_CHECK_WAIT_S)
        return models_json(offered().values(), services.models.availability)

    async def owner(self, api_key: Any) -> str:
        """The key's owner; a forged key is refused before anything else."""
        try:
            return await self._visitors.caller(api_key_text(api_key))
        except ForgedKey as exc:
            raise Refused(str(exc), title="Invalid API key") from None

    async def start(
        self,
        owner: str,
        image: Any,
        audio: Any,
        model: Any,
        options_json: Any,
        preflight_json: Any = "{}",
        *,
        how_to_send: str,
    ) -> JobSnapshot:
        """Start a job from two uploaded file arguments; `how_to_send` ends the sentence that
        refuses anything else (it differs per door). A face problem or a too-long clip is refused
        before any hold unless `preflight_json` answers it (`_preflight_api`)."""
        services = await self._handle.get()
        options = options_from_json(options_json)
        image_path = self.uploaded(image, "image", how_to_send)
        audio_path = self.uploaded(audio, "audio", how_to_send)
        model_id = model_text(model)
        try:
            choices = choices_from_json(preflight_json)
        except BadChoices as exc:
            raise Refused(str(exc), title="Bad pre-flight choices") from None
        quote = await services.jobs.quote(owner, model_id, image_path, audio_path, options, choices)
        refused = preflight_refusal(quote, model_id) if model_id in offered() else None
        if refused is not None:
            raise Refused(str(refused), title="Check the inputs")
        try:
            return await services.jobs.start(owner, image_path, audio_path, model_id, options, choices)
        except JobRefused as exc:
            raise Refused(str(exc), title="Cannot start") from None

    async def status(self, owner: str, job_id: Any) -> JobSnapshot:
        """The job's latest snapshot (asks nothing upstream)."""
        services = await self._handle.get()
        try:
            return services.jobs.snapshot(owner, job_id_text(job_id))
        except JobNotFound as exc:
            raise Refused(str(exc), title="No such job") from None

    async def follow(
        self, owner: str, job_id: Any, *, shown: JobSnapshot | None = None
    ) -> AsyncIterator[JobSnapshot]:
        """The job's current snapshot, then each one in which more than `elapsed_s` changed (the
        caller's own clock counts on from it), ending with the terminal one; a snapshot equal
        to `shown` (what the caller already has) is not repeated."""
        services = await self._handle.get()
        last = _timeless(shown) if shown is not None else None
        try:
            async for snap in services.jobs.subscribe(owner, job_id_text(job_id)):
                if _timeless(snap) != last:
                    last = _timeless(snap)
                    yield snap
        except JobNotFound as exc:
            raise Refused(str(exc), title="No such job") from None

    async def cancel(self, owner: str, job_id: Any) -> JobSnapshot:
        """Cancel the job (upstream too); its final snapshot tells the credits returned."""
        services = await self._handle.get()
        try:
            return await services.jobs.cancel(owner, job_id_text(job_id))
        except JobNotFound as exc:
            raise Refused(str(exc), title="No such job") from None

    async def credits(self, owner: str) -> dict[str, Any]:
        """Balance, held and available credits, open holds and the ledger statement."""
        return credits_json(owner, await self._visitors.account(owner))

    async def manifest(self, owner: str, job_id: Any) -> dict[str, Any]:
        """The finished job's manifest (refused while the job runs)."""
        services = await self._handle.get()
        try:
            return services.jobs.manifest(owner, job_id_text(job_id))
        except JobNotFound as exc:
            raise Refused(str(exc), title="No such job") from None
        except JobNotFinished as exc:
            raise Refused(str(exc), title="Not finished") from None

    async def share(self, owner: str, job_id: Any, headers: dict[str, str]) -> dict[str, Any]:
        """A share link of the succeeded job's video; `headers` tell the address the caller used."""
        services = await self._handle.get()
        try:
            share = await services.shares.share(owner, job_id_text(job_id))
        except JobNotFound as exc:
            raise Refused(str(exc), title="No such job") from None
        except CannotShare as exc:
            raise Refused(str(exc), title="Cannot share") from None
        url = share_url(services.settings, headers, share.token)
        return {"job_id": share.job_id, "shared": True, "share_url": url}

    async def unshare(self, owner: str, job_id: Any) -> dict[str, Any]:
        """Stop the job's share link."""
        services = await self._handle.get()
        try:
            await services.shares.unshare(owner, job_id_text(job_id))
        except JobNotFound as exc:
            raise Refused(str(exc), title="No such job") from None
        return {"job_id": job_id_text(job_id), "shared": False, "share_url": None}

    def uploaded(self, value: Any, what: str, how_to_send: str) -> str:
        """The path of a file the caller uploaded; anything else is refused."""
        try:
            path = self._uploads.path_of(value, what)
        except NotAnUpload:
            path = None
        if path is None:
            raise Refused(f"Send the {what} {how_to_send}.", title="Missing input")
        return path


def _timeless(snap: JobSnapshot) -> JobSnapshot:
    """The snapshot without its elapsed time, which changes by itself."""
    return replace(snap, elapsed_s=0.0)
