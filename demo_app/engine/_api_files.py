"""HTTP handlers for files: the Files API, the engine's output URLs, and the web page.

Uploads are multipart (`content`, optional `filename`, `type`, `metadata`), as Replicate's
`POST /v1/files`; too large answers 413 with Replicate's wording.
"""

from __future__ import annotations

import asyncio
import html
import json
from typing import Any

from starlette.datastructures import UploadFile
from starlette.requests import Request
from starlette.responses import FileResponse, HTMLResponse, JSONResponse, Response

from demo_app.engine._api_predictions import base_url
from demo_app.engine._files import TooLarge
from demo_app.engine._outputs import OutputState
from demo_app.engine._problems import Problem, invalid_request, not_found
from demo_app.engine._runtime import Runtime

_MULTIPART_SLACK = 64 * 1024
"""Room for multipart boundaries and small fields on top of the file itself."""


async def create_file(runtime: Runtime, request: Request) -> Response:
    limit = runtime.max_upload_bytes
    declared = request.headers.get("content-length")
    if declared is not None and declared.isdigit() and int(declared) > limit + _MULTIPART_SLACK:
        raise _too_large(limit)
    form = await request.form()
    content = form.get("content")
    if not isinstance(content, UploadFile):
        raise invalid_request("Invalid upload", 'Send the file as the multipart field "content".')
    name = _text(form.get("filename")) or content.filename or "file"
    content_type = _text(form.get("type")) or content.content_type or "application/octet-stream"
    metadata = _metadata(_text(form.get("metadata")))
    try:
        stored = await asyncio.to_thread(
            runtime.files.save,
            content.file,
            name=name,
            content_type=content_type,
            metadata=metadata,
            max_bytes=limit,
        )
    except TooLarge:
        raise _too_large(limit) from None
    finally:
        await form.close()
    runtime.stored()
    return JSONResponse(stored.to_json(base_url(request)), 201)


async def list_files(runtime: Runtime, request: Request) -> Response:
    base = base_url(request)
    return JSONResponse(
        {"next": None, "previous": None, "results": [f.to_json(base) for f in runtime.files.live()]}
    )


async def get_file(runtime: Runtime, request: Request) -> Response:
    return JSONResponse(runtime.files.require(request.path_params["file_id"]).to_json(base_url(request)))


async def delete_file(runtime: Runtime, request: Request) -> Response:
    if not runtime.files.delete(request.path_params["file_id"]):
        raise not_found(f"File {request.path_params['file_id']} was not found.")
    return Response(status_code=204)


async def download_file(runtime: Runtime, request: Request) -> Response:
    stored = runtime.files.require(request.path_params["file_id"])
    return FileResponse(stored.path, media_type=stored.content_type, filename=stored.name)


async def get_output(runtime: Runtime, request: Request) -> Response:
    state, output = runtime.outputs.lookup(request.path_params["token"], request.path_params["name"])
    if state is OutputState.EXPIRED:
        raise Problem(
            410,
            "Gone",
            "This output URL has expired and its file was deleted. Run the prediction again for a new one.",
        )
    if output is None:
        raise not_found("There is no output at this URL.")
    return FileResponse(output.path, media_type=output.content_type)


async def web_page(runtime: Runtime, request: Request) -> Response:
    """A small read-only page for `urls.web`: status, logs and the video."""
    record = runtime.get(request.path_params["prediction_id"])
    body = record.to_json(base_url(request))
    video = body["output"][0] if isinstance(body["output"], list) else body["output"]
    player = f'<video src="{html.escape(video)}" controls></video>' if isinstance(video, str) else ""
    error = f" — {html.escape(record.error)}" if record.error else ""
    return HTMLResponse(
        f"<!doctype html><title>Prediction {record.id}</title><h1>{html.escape(record.model.id)}</h1>"
        f"<p>Status: <b>{record.status.value}</b>{error}</p>{player}<pre>{html.escape(record.logs)}</pre>"
    )


def _too_large(limit: int) -> Problem:
    return Problem(
        413, "Request Entity Too Large", f"Files must be less than {limit // (1024 * 1024)}MB in size"
    )


def _text(value: Any) -> str | None:
    return value if isinstance(value, str) and value else None


def _metadata(raw: str | None) -> dict[str, Any]:
    if raw is None:
        return {}
    try:
        value = json.loads(raw)
    except json.JSONDecodeError:
        raise invalid_request("Invalid metadata", "metadata must be a JSON object.") from None
    if not isinstance(value, dict):
        raise invalid_request("Invalid metadata", "metadata must be a JSON object.")
    return value
