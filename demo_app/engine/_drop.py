"""A dropped connection, scripted: the server sends the status line and headers, then hangs up.

Under uvicorn, an exception after the response has started makes it close the socket, so a
client really sees a connection cut mid-response (`httpx.RemoteProtocolError`). In-process,
`httpx.ASGITransport` re-raises the app's exception, and `EngineTransport` turns it into the
same `httpx.RemoteProtocolError`, so both paths look alike to the client.
"""

from __future__ import annotations

import logging

import httpx
from starlette.responses import Response
from starlette.types import Receive, Scope, Send


class ScriptedDrop(Exception):
    """Raised by the app to cut the connection; never a bug."""


class DropAfterHeaders(Response):
    """Sends `response`'s status and headers, then drops the connection before the body."""

    def __init__(self, response: Response) -> None:
        self._inner = response

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        await send(
            {
                "type": "http.response.start",
                "status": self._inner.status_code,
                "headers": self._inner.raw_headers,
            }
        )
        raise ScriptedDrop("connection dropped by the scenario")


class EngineTransport(httpx.AsyncBaseTransport):
    """`httpx.ASGITransport` to the engine, with scripted drops surfacing as network errors."""

    def __init__(self, app: httpx._transports.asgi._ASGIApp) -> None:
        self._inner = httpx.ASGITransport(app=app)

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        try:
            return await self._inner.handle_async_request(request)
        except ScriptedDrop as exc:
            raise httpx.RemoteProtocolError(
                "Server disconnected without sending a response.", request=request
            ) from exc

    async def aclose(self) -> None:
        await self._inner.aclose()


class QuietDrops(logging.Filter):
    """Keeps uvicorn from logging a scripted drop as an application error."""

    def filter(self, record: logging.LogRecord) -> bool:
        exc = record.exc_info[1] if record.exc_info else None
        return not isinstance(exc, ScriptedDrop)
