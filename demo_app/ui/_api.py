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
from typing import Any

import gradio as gr

from demo_app.catalog import DEFAULT_MODEL
from demo_app.ui._calls import ApiCalls
from demo_app.ui._contract import snapshot_json
from demo_app.ui._handlers import ServicesSource
from demo_app.ui._sentences import speaks
from demo_app.uploads import UploadPolicy
from demo_app.visitors import Visitors

HOW_TO_SEND = (
    "as a file you upload: gradio_client.handle_file('path/to/file'); "
    "links and paths on the server are not accepted"
)


class ApiEndpoints:
    """The named endpoints, bound to the services, the visitors service and the upload policy."""

    def __init__(self, handle: ServicesSource, visitors: Visitors, uploads: UploadPolicy) -> None:
        self._calls = ApiCalls(handle, visitors, uploads)

    def register(self) -> None:
        """Add the endpoints to the Blocks being built (call inside `with demo:`)."""
        gr.api(self.models, api_name="models", concurrency_limit=None)
        gr.api(self.start, api_name="start", concurrency_limit=None)
        gr.api(self.status, api_name="status", concurrency_limit=None)
        gr.api(self.generate, api_name="generate", concurrency_limit=None)
        gr.api(self.cancel, api_name="cancel", concurrency_limit=None)
        gr.api(self.credits, api_name="credits", concurrency_limit=None)
        gr.api(self.manifest, api_name="manifest", concurrency_limit=None)
        gr.api(self.share, api_name="share", concurrency_limit=None)
        gr.api(self.unshare, api_name="unshare", concurrency_limit=None)

    @speaks
    async def models(self) -> dict[str, Any]:
        """Every offered model: limits, options, price rule (credits) and availability with its reason.

        Just after start the schemas may still be being read: the answer waits for that first
        check a little, then tells what it knows (`schema_checked_at`)."""
        return await self._calls.models()

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
        owner = await self._calls.owner(api_key)
        snap = await self._calls.start(
            owner, image, audio, model, options_json, preflight_json, how_to_send=HOW_TO_SEND
        )
        return snapshot_json(snap)

    @speaks
    async def status(self, api_key: str, job_id: str) -> dict[str, Any]:
        """The job's latest snapshot (asks nothing upstream); `video` is the file once it succeeded."""
        owner = await self._calls.owner(api_key)
        return snapshot_json(await self._calls.status(owner, job_id))

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
        owner = await self._calls.owner(api_key)
        first = await self._calls.start(
            owner, image, audio, model, options_json, preflight_json, how_to_send=HOW_TO_SEND
        )
        yield snapshot_json(first)
        async for snap in self._calls.follow(owner, first.job_id, shown=first):
            yield snapshot_json(snap)

    @speaks
    async def cancel(self, api_key: str, job_id: str) -> dict[str, Any]:
        """Cancel the job (upstream too) and return its final snapshot with the credits returned."""
        owner = await self._calls.owner(api_key)
        return snapshot_json(await self._calls.cancel(owner, job_id))

    @speaks
    async def credits(self, api_key: str) -> dict[str, Any]:
        """Balance, held and available credits, open holds and the ledger statement, line by line."""
        owner = await self._calls.owner(api_key)
        return await self._calls.credits(owner)

    @speaks
    async def manifest(self, api_key: str, job_id: str) -> dict[str, Any]:
        """The finished job's manifest: model and version, options and seed, input hashes, times,
        credits and the app's version (refused while the job runs)."""
        owner = await self._calls.owner(api_key)
        return await self._calls.manifest(owner, job_id)

    @speaks
    async def share(self, api_key: str, job_id: str, request: gr.Request) -> dict[str, Any]:
        """A share link of the succeeded job's video: anyone with it sees the video, the model,
        the date and the manifest, nothing else."""
        owner = await self._calls.owner(api_key)
        return await self._calls.share(owner, job_id, dict(request.headers))

    @speaks
    async def unshare(self, api_key: str, job_id: str) -> dict[str, Any]:
        """Stop the job's share link: its page and video answer "no longer shared" from now on."""
        owner = await self._calls.owner(api_key)
        return await self._calls.unshare(owner, job_id)
