"""The API as MCP tools: models, start, status, follow, cancel, credits.

Every tool but `models` acts as the owner of the API key in the request's `X-Api-Key` header;
the key is never a tool argument, so an agent's model neither sees it nor can repeat it. Each
tool does what the `gradio_client` endpoint of the same name does (`ApiCalls`), and answers
the same JSON, except that `video` is a link to download the MP4. A refusal is a tool error
whose text is one sentence saying what to fix. `follow` reports MCP progress while it waits.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Awaitable
from pathlib import Path
from typing import Annotated, Any
from urllib.parse import quote

from mcp.server.mcpserver import Context, MCPServer
from mcp_types import CallToolResult, TextContent, ToolAnnotations
from pydantic import Field

from demo_app.agents._files import ToolFiles
from demo_app.agents._progress import ProgressSteps
from demo_app.arguments import BadArgument, options_from_json
from demo_app.catalog import DEFAULT_MODEL, offered
from demo_app.jobs import JobSnapshot, JobStatus
from demo_app.settings import Settings
from demo_app.ui import SOMETHING_WENT_WRONG, ApiCalls, Refused, snapshot_json
from demo_app.uploads import MIB
from demo_app.visitors import visitor_address

log = logging.getLogger(__name__)

KEY_HEADER = "x-api-key"
NO_KEY = (
    "Send your API key in the X-Api-Key request header of the MCP connection; copy it from the Credits tab "
    "of the app."
)
BAD_KEY = (
    "This API key is not valid; copy your key from the Credits tab of the app into the X-Api-Key header."
)
HOW_TO_SEND = "as a data: URI or a public https link"

JobId = Annotated[str, Field(description="The job_id that `start` returned.", max_length=64)]

COSTS = (
    "Cost: starting holds credits for the job's price (the model's rule in `models`, usually per second "
    "of audio); success charges the actual cost, never more than the hold, and returns the rest; a "
    "failure, time-out or cancel returns the whole hold."
)
SNAPSHOT = (
    "A snapshot: job_id, model, status (queued, rejected, uploading, starting, processing, downloading, "
    "succeeded, failed, canceled, timed_out), terminal, progress (0..1 or null), message (one sentence), "
    "error, held/charged/returned credits, queue_position, eta_s, and video: an https link to the MP4 "
    "once succeeded, else null."
)


class LipsyncTools:
    """The tools, bound to the API's operations, the file intake and the settings."""

    def __init__(self, calls: ApiCalls, files: ToolFiles, settings: Settings) -> None:
        self._calls = calls
        self._files = files
        self._settings = settings

    def register(self, server: MCPServer[Any]) -> None:
        """Add the six tools to `server`, each with what an agent needs to use it."""
        mb = f"{self._settings.max_upload_bytes / MIB:g}"
        reads = ToolAnnotations(read_only_hint=True, open_world_hint=False)
        server.add_tool(
            self.models,
            name="models",
            description=(
                "List the lip-sync models this app offers, with each model's id, limits (max_audio_s, "
                "image sides and sizes), options (names, kinds, ranges: the keys `start` takes in "
                "`options`), price rule in credits, and whether it can run now (with the reason if not). "
                "Free; needs no key."
            ),
            annotations=reads,
        )
        server.add_tool(
            self.start,
            name="start",
            description=(
                "Start a lip-sync video job: a face picture and a voice recording in, an MP4 of the face "
                "speaking out. Answers at once with the job's first snapshot; then call `follow` (waits, "
                f"with progress) or `status`. Each file is a data: URI or a public https link, at most {mb} "
                "MB; the picture must be PNG, JPEG or WebP with one clear face, the recording WAV, MP3, "
                "FLAC, M4A, OGG or WebM no longer than the model's max_audio_s. " + COSTS
            ),
            annotations=ToolAnnotations(destructive_hint=False, idempotent_hint=False, open_world_hint=True),
        )
        server.add_tool(
            self.status,
            name="status",
            description="The job's latest snapshot, at once (asks nothing upstream). " + SNAPSHOT,
            annotations=reads,
        )
        server.add_tool(
            self.follow,
            name="follow",
            description=(
                "Wait for the job to end, sending progress notifications (status, percent when the model "
                "reports one, the job's sentence) while it runs; answers the final snapshot. Calling it "
                "again after a dropped connection is safe. " + SNAPSHOT
            ),
            annotations=reads,
        )
        server.add_tool(
            self.cancel,
            name="cancel",
            description=(
                "Cancel the job (on the model too) and answer its final snapshot: the hold is returned "
                "unless the video was already paid for. A finished job is left as it is."
            ),
            annotations=ToolAnnotations(destructive_hint=True, idempotent_hint=True, open_world_hint=False),
        )
        server.add_tool(
            self.credits,
            name="credits",
            description=(
                "Your credits: balance, held (by running jobs), available, the open holds, and the ledger "
                "statement line by line. " + COSTS
            ),
            annotations=reads,
        )

    async def models(self) -> CallToolResult:
        """Every offered model."""
        return await _answer(self._calls.models())

    async def start(
        self,
        image: Annotated[str, Field(description="The face picture: a data: URI or a public https link.")],
        audio: Annotated[str, Field(description="The voice recording: a data: URI or a public https link.")],
        ctx: Context,
        model: Annotated[
            str, Field(description=f"A model id from `models`; one of {', '.join(offered())}.")
        ] = DEFAULT_MODEL,
        options: Annotated[
            dict[str, str | int | float | bool | None] | None,
            Field(description='The model\'s options by name, e.g. {"prompt": "a calm host", "seed": 7}.'),
        ] = None,
        preflight_json: Annotated[
            str,
            Field(
                description=(
                    "Answers to the pre-flight, as a JSON object (every field optional): "
                    '{"use_anyway": true} sends a picture with no face found, {"face": N} picks face N '
                    '(numbered left to right) of a group photo, {"framing": "whole"} sends the whole '
                    'picture instead of a square on that face, {"trim": [start_s, end_s]} sends only '
                    "that part of a clip longer than the model takes (the price follows the part sent). "
                    "Without it such inputs are refused, nothing held, with a sentence saying which to pass."
                )
            ),
        ] = "{}",
    ) -> CallToolResult:
        """Start a job."""

        async def start() -> dict[str, Any]:
            owner = await self._owner(ctx)
            options_json = json.dumps(options or {})
            options_from_json(options_json)  # refused before any file is read
            address = self._address(ctx)
            image_file = await self._files.receive(image, "image", address)
            audio_file = await self._files.receive(audio, "audio", address)
            snap = await self._calls.start(
                owner, image_file, audio_file, model, options_json, preflight_json, how_to_send=HOW_TO_SEND
            )
            return self._snapshot(snap, ctx)

        return await _answer(start())

    async def status(self, job_id: JobId, ctx: Context) -> CallToolResult:
        """The job's latest snapshot."""

        async def status() -> dict[str, Any]:
            owner = await self._owner(ctx)
            return self._snapshot(await self._calls.status(owner, job_id), ctx)

        return await _answer(status())

    async def follow(self, job_id: JobId, ctx: Context) -> CallToolResult:
        """Wait for the job's end, reporting progress."""

        async def follow() -> dict[str, Any]:
            owner = await self._owner(ctx)
            steps = ProgressSteps()
            last: JobSnapshot | None = None
            async for snap in self._calls.follow(owner, job_id):
                last = snap
                note = steps.note(snap)
                await ctx.report_progress(note.progress, note.total, note.message)
            assert last is not None, "a job's watch ends with its terminal snapshot"
            return self._snapshot(last, ctx)

        return await _answer(follow())

    async def cancel(self, job_id: JobId, ctx: Context) -> CallToolResult:
        """Cancel the job."""

        async def cancel() -> dict[str, Any]:
            owner = await self._owner(ctx)
            return self._snapshot(await self._calls.cancel(owner, job_id), ctx)

        return await _answer(cancel())

    async def credits(self, ctx: Context) -> CallToolResult:
        """The caller's credits."""

        async def credits() -> dict[str, Any]:
            return await self._calls.credits(await self._owner(ctx))

        return await _answer(credits())

    # ---- helpers -----------------------------------------------------------------------

    async def _owner(self, ctx: Context) -> str:
        """The owner of the request's X-Api-Key; no key, or a key of the wrong shape or forged, is refused."""
        key = (ctx.headers or {}).get(KEY_HEADER)
        if not key:
            raise Refused(NO_KEY, title="Missing API key")
        try:
            return await self._calls.owner(key)
        except (BadArgument, Refused):
            raise Refused(BAD_KEY, title="Invalid API key") from None

    def _snapshot(self, snap: JobSnapshot, ctx: Context) -> dict[str, Any]:
        """The API's snapshot with `video` as a link the caller downloads (Gradio's file route)."""
        answer = snapshot_json(snap)
        if answer["video"] is not None and snap.status is JobStatus.SUCCEEDED and snap.video_path:
            path = quote(str(Path(snap.video_path).resolve()))
            answer["video"] = f"{self._base_url(ctx)}/gradio_api/file={path}"
        return answer

    def _address(self, ctx: Context) -> str:
        """The caller's network address, as the upload quota counts it (behind the trusted proxies)."""
        client = getattr(ctx.request_context.request, "client", None)
        peer = getattr(client, "host", None) if client is not None else None
        return visitor_address(ctx.headers or {}, peer, self._settings.trusted_proxy_hops)

    def _base_url(self, ctx: Context) -> str:
        """This app's public address, else the one the request came to."""
        public = self._settings.webhook_base_url
        if public is not None:
            return public
        request = ctx.request_context.request
        return str(getattr(request, "base_url", "")).rstrip("/")


async def _answer(work: Awaitable[dict[str, Any]]) -> CallToolResult:
    """The tool's JSON, or a tool error with one sentence; the traceback of a fault stays in the log."""
    try:
        payload = await work
    except (Refused, BadArgument) as exc:
        return CallToolResult(content=[TextContent(type="text", text=str(exc))], is_error=True)
    except Exception:
        log.exception("an MCP tool failed")
        return CallToolResult(content=[TextContent(type="text", text=SOMETHING_WENT_WRONG)], is_error=True)
    return CallToolResult(
        content=[TextContent(type="text", text=json.dumps(payload))], structured_content=payload
    )
