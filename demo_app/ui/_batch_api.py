"""The batch endpoints: `/batch_start`, `/batch_status`, `/batch_results`, `/batch_cancel`.

Each takes the caller's API key first, as the other endpoints do. Faces and clips travel as lists
of `gradio_client.handle_file(path)`: one face for every clip, or one face per clip.
"""

from __future__ import annotations

from typing import Any

import gradio as gr

from demo_app.arguments import BadArgument, api_key_text, job_id_text, model_text, options_from_json
from demo_app.batches import MAX_ITEMS, Batches, BatchNotFound, BatchRefused, BatchView, pairs_of, shown_name
from demo_app.catalog import DEFAULT_MODEL
from demo_app.services import Services
from demo_app.ui._batch_contract import batch_json, zip_file
from demo_app.ui._handlers import ServicesSource
from demo_app.ui._sentences import refusal, speaks
from demo_app.uploads import NotAnUpload, UploadPolicy
from demo_app.visitors import ForgedKey, Visitors


class BatchEndpoints:
    """The four batch endpoints, bound to the services, the visitors service and the upload policy."""

    def __init__(self, handle: ServicesSource, visitors: Visitors, uploads: UploadPolicy) -> None:
        self._handle = handle
        self._visitors = visitors
        self._uploads = uploads

    def register(self) -> None:
        """Add the endpoints to the Blocks being built (call inside `with demo:`)."""
        gr.api(self.batch_start, api_name="batch_start", concurrency_limit=None)
        gr.api(self.batch_status, api_name="batch_status", concurrency_limit=None)
        gr.api(self.batch_results, api_name="batch_results", concurrency_limit=None)
        gr.api(self.batch_cancel, api_name="batch_cancel", concurrency_limit=None)

    @speaks
    async def batch_start(
        self,
        api_key: str,
        images: list[dict[str, Any]],
        audios: list[dict[str, Any]],
        model: str = DEFAULT_MODEL,
        options_json: str = "{}",
    ) -> dict[str, Any]:
        """Check every item, then return the batch at once (batch_id, items); poll /batch_status.

        One face for all clips, or one per clip; at most 20 clips. A bad item refuses the whole
        batch, naming it, before anything is held; each item is held as it starts."""
        owner = await self._owner(api_key)
        model_id, options = model_text(model), options_from_json(options_json)
        faces = self._files(images, "face image")
        clips = self._files(audios, "audio clip")
        batches = await self._batches()
        try:
            pairs = pairs_of(faces, clips, [_name(clip) for clip in audios])
            view = await batches.start(owner, pairs, model_id, options)
        except BatchRefused as exc:
            raise refusal(str(exc), title="Cannot start") from None
        return batch_json(view)

    @speaks
    async def batch_status(self, api_key: str, batch_id: str) -> dict[str, Any]:
        """Each item's status, job id, credits and error (asks nothing upstream)."""
        owner = await self._owner(api_key)
        return batch_json(await _view(await self._batches(), owner, batch_id))

    @speaks
    async def batch_results(self, api_key: str, batch_id: str) -> dict[str, Any]:
        """One zip: `item-NN.mp4` and its manifest `item-NN.json` for each item that succeeded so far."""
        owner = await self._owner(api_key)
        batches = await self._batches()
        archive = await batches.results(owner, (await _view(batches, owner, batch_id)).batch_id)
        if archive is None:
            raise refusal(
                "No item of this batch has a video yet; ask again once one succeeded.", "No results yet"
            )
        return zip_file(archive)

    @speaks
    async def batch_cancel(self, api_key: str, batch_id: str) -> dict[str, Any]:
        """Cancel the running items (their holds come back) and drop the ones not started."""
        owner = await self._owner(api_key)
        batches = await self._batches()
        return batch_json(await batches.cancel(owner, (await _view(batches, owner, batch_id)).batch_id))

    # ---- helpers -----------------------------------------------------------------------

    async def _owner(self, api_key: Any) -> str:
        try:
            return await self._visitors.caller(api_key_text(api_key))
        except ForgedKey as exc:
            raise refusal(str(exc), title="Invalid API key") from None

    async def _batches(self) -> Batches:
        services: Services = await self._handle.get()
        assert services.batches is not None
        return services.batches

    def _files(self, values: Any, what: str) -> list[str]:
        """The uploads' paths: a list of 1 to `MAX_ITEMS` files sent with `handle_file`."""
        if not isinstance(values, list) or not 0 < len(values) <= MAX_ITEMS:
            raise refusal(
                f"Send the {what}s as a list of 1 to {MAX_ITEMS} files: "
                "[gradio_client.handle_file('path'), ...].",
                title="Missing input",
            )
        paths = []
        for number, value in enumerate(values, start=1):
            try:
                path = self._uploads.path_of(value, what)
            except NotAnUpload:
                path = None
            if path is None:
                raise refusal(
                    f"Item {number}: send the {what} as a file you upload: gradio_client.handle_file("
                    "'path/to/file'); links and paths on the server are not accepted.",
                    title="Missing input",
                )
            paths.append(path)
        return paths


def _name(value: dict[str, Any]) -> str:
    """The clip's name as the caller's file had it, for showing."""
    name = value.get("orig_name") or value.get("path") or "clip"
    return shown_name(name if isinstance(name, str) else "clip")


async def _view(batches: Batches, owner: str, batch_id: Any) -> BatchView:
    """The caller's batch; a malformed id, a missing batch and another owner's look the same."""
    try:
        return await batches.view(owner, job_id_text(batch_id))
    except (BatchNotFound, BadArgument):
        raise refusal(
            "No such batch for you. Check the batch id /batch_start returned.", "No such batch"
        ) from None
