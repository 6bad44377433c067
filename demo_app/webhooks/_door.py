"""The webhook address answered in plain ASGI, in front of the app's routing.

While jobs run, deliveries are the app's most frequent requests (Replicate sends `logs` up to twice
a second per prediction). Through Starlette's `Request`, routing and `Response`, and Gradio's
router behind them, one cost about as much again as checking and folding it (`bench/webhooks.py`),
so `WebhookDoor` takes the webhook path before all of that; the checks are the inbox's, in the
same order: the address, then the body with its cap (Starlette sets none), then the signature.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from starlette.types import ASGIApp, Receive, Scope, Send

from demo_app.webhooks._inbox import WebhookInbox
from demo_app.webhooks._links import ROUTE_PATH

InboxSource = Callable[[], Awaitable[WebhookInbox | None]]
"""The app's inbox once its services are open; None while they are not (or webhooks are off)."""

PREFIX = ROUTE_PATH.split("{", 1)[0]
NOT_OURS = "This webhook address was not issued by this app."


class WebhookEndpoint:
    """ASGI app answering `POST /webhooks/replicate/{job_id}/{tag}` with one sentence."""

    def __init__(self, inbox: InboxSource, *, max_body_bytes: int) -> None:
        self._inbox = inbox
        self._max_body_bytes = max_body_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["method"] != "POST":
            await _answer(send, 405, "Webhooks are delivered with POST.", allow=b"POST")
            return
        parts = _route_path(scope)[len(PREFIX) :].split("/")
        if len(parts) != 2 or not all(parts):
            await _answer(send, 404, NOT_OURS)
            return
        job_id, tag = parts
        inbox = await self._inbox()
        if inbox is None:
            await _answer(send, 503, "This app is not receiving webhooks now.")
            return
        if not inbox.is_ours(job_id, tag):
            await _answer(send, 403, NOT_OURS)
            return
        headers = _headers(scope)
        declared = headers.get("content-length", "")
        cap = self._max_body_bytes
        too_large = f"The webhook body is larger than {cap} bytes."
        if declared.isdigit() and int(declared) > cap:
            await _answer(send, 413, too_large)
            return
        try:
            body = await _read_capped(receive, cap)
        except _CutOff:
            await _answer(send, 400, "The webhook body was cut off.")
            return
        if body is None:
            await _answer(send, 413, too_large)
            return
        answer = await inbox.deliver(job_id, tag, headers, body)
        await _answer(send, answer.status, answer.text)


class WebhookDoor:
    """ASGI middleware: the webhook path goes to `WebhookEndpoint`, every other request to `app`."""

    def __init__(self, app: ASGIApp, *, inbox: InboxSource, max_body_bytes: int) -> None:
        self._app = app
        self._endpoint = WebhookEndpoint(inbox, max_body_bytes=max_body_bytes)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and _route_path(scope).startswith(PREFIX):
            await self._endpoint(scope, receive, send)
        else:
            await self._app(scope, receive, send)


class _CutOff(Exception):
    """The sender went away before the body was whole."""


def _route_path(scope: Scope) -> str:
    """The path below the app's root path (behind a proxy that adds one)."""
    path: str = scope["path"]
    root: str = scope.get("root_path", "")
    return path[len(root) :] if root and path.startswith(root) else path


def _headers(scope: Scope) -> dict[str, str]:
    """Header names (ASGI gives them in lower case) to their first value, as Starlette reads them."""
    headers: dict[str, str] = {}
    for name, value in scope["headers"]:
        headers.setdefault(name.decode("latin-1"), value.decode("latin-1"))
    return headers


async def _read_capped(receive: Receive, max_bytes: int) -> bytes | None:
    """The whole body, or None as soon as it passes `max_bytes`; _CutOff on a disconnect."""
    chunks: list[bytes] = []
    size = 0
    while True:
        message = await receive()
        if message["type"] != "http.request":
            raise _CutOff
        chunk: bytes = message.get("body", b"")
        size += len(chunk)
        if size > max_bytes:
            return None
        chunks.append(chunk)
        if not message.get("more_body", False):
            return b"".join(chunks)


async def _answer(send: Send, status: int, text: str, *, allow: bytes | None = None) -> None:
    body = text.encode()
    headers = [(b"content-type", b"text/plain; charset=utf-8"), (b"content-length", str(len(body)).encode())]
    if allow is not None:
        headers.append((b"allow", allow))
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": body})
