"""An ASGI guard in front of Gradio: no caller makes the server fetch, or send it unbounded bodies.

Gradio acts on a request before any handler of ours runs, and some of what it does is unsafe in
public (Gradio 6.31):

- A file dict whose `path` is an `https://` link is *downloaded* while the event's inputs are
  prepared (private addresses are blocked, the body is read whole, without a size cap), and
  `GET /gradio_api/file=https://…` streams any public URL back to the caller.
- A file dict with `meta` whose path lies outside the upload folder, a `meta` that is not an
  object, or a file dict of the wrong shape fails inside Gradio, and the caller reads only
  "The upstream Gradio app has raised an exception".
- Bodies of `/upload` (many files of up to `max_file_size` each), `/queue/join` and the call
  routes have no limit, and uploads no quota.

So the guard reads every event body itself, within a byte limit, and refuses before Gradio sees it
when the JSON is too deep or unreadable, when any file dict carries a link, or when a file dict
that Gradio would check is malformed or outside the upload folder. Those refusals are HTTP 422 in
the shape of a Gradio validation error, which `gradio_client` shows as the sentence itself.
Uploads must declare their length, which must fit one file and the sender's quota.
`/proxy=` (for apps loaded with `gr.load`, which this app does not do) and `/process_recording`
(webcam video editing, which the page does not offer) are closed.

Handlers still judge each file argument with `UploadPolicy`: the guard only makes sure nothing
is fetched and that what Gradio itself refuses is refused in a sentence.
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from gradio.data_classes import FileData
from pydantic import ValidationError
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from demo_app.uploads._inputs import FileInputs
from demo_app.uploads._policy import FILE_DATA_TYPE
from demo_app.uploads._quota import MIB, UploadQuota

API_SEGMENT = "/gradio_api/"
EVENT_ROUTES = ("queue/join", "run/", "api/", "call/", "stream/")
MULTIPART_OVERHEAD = 64 * 1024

LINKED = (
    "Files must be uploaded, not linked: send a local file with gradio_client.handle_file('path/to/file'); "
    "this server does not download links."
)
NOT_UPLOADED = (
    "Files must be ones you uploaded to this app: send them with gradio_client.handle_file('path/to/file'), "
    "or choose the file again on the page."
)
MALFORMED_FILE = (
    "A file argument is malformed: choose the file again on the page, or send it with "
    "gradio_client.handle_file('path/to/file')."
)
NO_FETCHING = "This server serves only its own files; it does not fetch links."
NOT_OFFERED = "This app does not offer that route."
NO_LENGTH = "Send the upload with a Content-Length header."


@dataclass(frozen=True)
class GuardLimits:
    """What one request may carry."""

    event_body_bytes: int
    """Body of one event call (queue/join, run, call): every argument together."""
    upload_bytes: int
    """One file (Gradio's `max_file_size`); an upload request may carry one file."""
    json_depth: int = 12
    """Nesting of an event body; the page's deepest argument (a file dict's meta) is four levels."""


class RequestGuard:
    """ASGI middleware; mount with `Middleware(RequestGuard, limits=..., quota=..., ...)`."""

    def __init__(
        self,
        app: ASGIApp,
        *,
        limits: GuardLimits,
        quota: UploadQuota,
        upload_folder: str,
        file_inputs: FileInputs,
        address: Callable[[dict[str, str], str | None], str | None],
    ) -> None:
        self._app = app
        self._file_inputs = file_inputs
        self._limits = limits
        self._quota = quota
        self._folder = os.path.abspath(upload_folder)
        self._real_folder = os.path.realpath(upload_folder)
        self._address = address

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or API_SEGMENT not in scope["path"]:
            await self._app(scope, receive, send)
            return
        route = scope["path"].split(API_SEGMENT, 1)[1]
        method = scope["method"]
        if route.startswith("proxy=") or (route.startswith(("file=", "file/")) and _is_link(route[5:])):
            await _answer(send, 403, NO_FETCHING)
        elif route.startswith("process_recording"):
            await _answer(send, 404, NOT_OFFERED)
        elif method == "POST" and route.rstrip("/") == "upload":
            await self._upload(scope, receive, send)
        elif method in ("POST", "PUT", "PATCH"):
            await self._event(scope, receive, send, route if route.startswith(EVENT_ROUTES) else None)
        else:
            await self._app(scope, receive, send)

    # ---- uploads ---------------------------------------------------------------------------

    async def _upload(self, scope: Scope, receive: Receive, send: Send) -> None:
        headers = _headers(scope)
        length = _content_length(headers)
        if length is None:
            await _answer(send, 411, NO_LENGTH)
            return
        limit = self._limits.upload_bytes + MULTIPART_OVERHEAD
        if length > limit:
            mb = f"{self._limits.upload_bytes / MIB:g}"
            await _answer(send, 413, f"The file is over the {mb} MB this app takes; send a smaller one.")
            return
        peer = scope["client"][0] if scope.get("client") else None
        refusal = self._quota.admit(self._address(headers, peer), length)
        if refusal is not None:
            await _answer(send, 429, refusal)
            return
        await self._app(scope, _capped(receive, length), send)

    # ---- event calls -----------------------------------------------------------------------

    async def _event(self, scope: Scope, receive: Receive, send: Send, route: str | None) -> None:
        """Any POST: a bounded body; for an event route (`route`), its arguments checked too."""
        limit = self._limits.event_body_bytes
        declared = _content_length(_headers(scope))
        body = None if declared is not None and declared > limit else await _read_body(receive, limit)
        if body is None:
            kb = f"{limit / 1024:g}"
            await _refuse(send, "request", f"The request is larger than the {kb} KB an event may carry.")
            return
        if route is not None and body:
            problem = self._inspect(body, route)
            if problem is not None:
                await _refuse(send, *problem)
                return
        await self._app(scope, _replay(body, receive), send)

    def _inspect(self, body: bytes, route: str) -> tuple[str, str] | None:
        """(argument, sentence) for the first problem in an event body, or None."""
        try:
            document = json.loads(body)
        except (ValueError, RecursionError):
            return "request", (
                f"The request could not be read: send JSON with at most {self._limits.json_depth} levels "
                "of nesting and numbers of at most 4,300 digits."
            )
        return self._walk(document) or self._file_shapes(document, route)

    def _file_shapes(self, document: Any, route: str) -> tuple[str, str] | None:
        """The event's file arguments against Gradio's own models of them (it validates them before
        any handler runs, and fails with its generic error)."""
        if not isinstance(document, dict) or not isinstance(document.get("data"), list):
            return None
        data = document["data"]
        api_name = route.split("/")[1] if route.count("/") >= 1 else None
        for file_input in self._file_inputs.of(document.get("fn_index"), api_name):
            value = data[file_input.position] if file_input.position < len(data) else None
            if value is None:
                continue
            try:
                file_input.model.model_validate(value, context={"validate_meta": True})
            except ValidationError:
                return file_input.label, MALFORMED_FILE
        return None

    def _walk(self, document: Any) -> tuple[str, str] | None:
        """Depth and file dicts anywhere in the body."""
        stack: list[tuple[Any, int, str]] = [(document, 0, "request")]
        while stack:
            node, depth, argument = stack.pop()
            if depth > self._limits.json_depth:
                return argument, f"The arguments are nested more than {self._limits.json_depth} levels deep."
            if isinstance(node, dict):
                problem = self._file_problem(node)
                if problem is not None:
                    return argument, problem
                children = list(node.items())
                if depth == 0:
                    stack.extend(
                        (item, 2, f"argument {i + 1}") for i, item in enumerate(_as_list(node.get("data")))
                    )
                    children = [(k, v) for k, v in children if k != "data"]
                stack.extend((value, depth + 1, argument if depth else str(key)) for key, value in children)
            elif isinstance(node, list):
                stack.extend((item, depth + 1, argument) for item in node)
        return None

    def _file_problem(self, node: dict[str, Any]) -> str | None:
        path = node.get("path")
        if isinstance(path, str) and _is_link(path):
            return LINKED
        if "meta" not in node:
            return None
        meta = node["meta"]
        if not isinstance(meta, dict):
            return MALFORMED_FILE
        if meta.get("_type") != FILE_DATA_TYPE or not isinstance(path, str):
            return None
        try:
            FileData.model_validate(node)
        except ValidationError:
            return MALFORMED_FILE
        if "\x00" in path or not self._in_upload_folder(path):
            return NOT_UPLOADED
        return None

    def _in_upload_folder(self, path: str) -> bool:
        written, real = os.path.abspath(path), os.path.realpath(path)
        return _inside(written, self._folder) and _inside(real, self._real_folder)


def _is_link(text: str) -> bool:
    lowered = text.strip().lower()
    return "://" in lowered or lowered.startswith(("http:", "https:", "data:", "ftp:", "file:"))


def _inside(path: str, folder: str) -> bool:
    return path != folder and os.path.commonpath([path, folder]) == folder


def _as_list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else [value]


def _headers(scope: Scope) -> dict[str, str]:
    return {key.decode("latin-1").lower(): value.decode("latin-1") for key, value in scope["headers"]}


def _content_length(headers: dict[str, str]) -> int | None:
    text = headers.get("content-length", "")
    return int(text) if text.isdigit() and len(text) < 19 else None


async def _read_body(receive: Receive, limit: int) -> bytes | None:
    """The whole body, or None as soon as it passes `limit` bytes."""
    chunks: list[bytes] = []
    size = 0
    while True:
        message = await receive()
        if message["type"] != "http.request":
            return b"".join(chunks)
        chunk = message.get("body", b"")
        size += len(chunk)
        if size > limit:
            return None
        chunks.append(chunk)
        if not message.get("more_body", False):
            return b"".join(chunks)


def _replay(body: bytes, receive: Receive) -> Receive:
    """A `receive` that hands the buffered body over once, then the connection's own messages."""
    sent = False

    async def replay() -> Message:
        nonlocal sent
        if not sent:
            sent = True
            return {"type": "http.request", "body": body, "more_body": False}
        return await receive()

    return replay


def _capped(receive: Receive, limit: int) -> Receive:
    """A `receive` that ends the body (as a disconnect) once it passes the length it declared."""
    seen = 0

    async def capped() -> Message:
        nonlocal seen
        message = await receive()
        if message["type"] == "http.request":
            seen += len(message.get("body", b""))
            if seen > limit:
                return {"type": "http.disconnect"}
        return message

    return capped


async def _answer(send: Send, status: int, sentence: str) -> None:
    await _send_json(send, status, {"error": sentence, "detail": sentence})


async def _refuse(send: Send, argument: str, sentence: str) -> None:
    """422 shaped like a Gradio validation error, so `gradio_client` raises it with the sentence."""
    detail = [{"__type__": "validate", "is_valid": False, "parameter_name": argument, "message": sentence}]
    await _send_json(send, 422, {"error": sentence, "detail": detail})


async def _send_json(send: Send, status: int, content: dict[str, Any]) -> None:
    body = json.dumps(content).encode("utf-8")
    headers = [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())]
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": body})
