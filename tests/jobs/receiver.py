"""The app's webhook route served by uvicorn on 127.0.0.1, on the test's own event loop (where the
job manager lives), so the engine delivers over real HTTP as Replicate would."""

from __future__ import annotations

import asyncio
import contextlib
import socket
from collections.abc import AsyncIterator

import uvicorn
from starlette.applications import Starlette

from demo_app.webhooks import WebhookInbox, webhook_route


class _Server(uvicorn.Server):
    def __init__(self, config: uvicorn.Config, ready: asyncio.Event) -> None:
        super().__init__(config)
        self._ready = ready

    async def startup(self, sockets: list[socket.socket] | None = None) -> None:
        try:
            await super().startup(sockets=sockets)
        finally:
            self._ready.set()


class Receiver:
    """Where the route is served (`base_url`) and the inbox it hands deliveries to (set later)."""

    def __init__(self, port: int) -> None:
        self.base_url = f"http://127.0.0.1:{port}"
        self.inbox: WebhookInbox | None = None

    async def current(self) -> WebhookInbox | None:
        return self.inbox


@contextlib.asynccontextmanager
async def serve_receiver(max_body_bytes: int) -> AsyncIterator[Receiver]:
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.bind(("127.0.0.1", 0))
    receiver = Receiver(sock.getsockname()[1])
    app = Starlette(routes=[webhook_route(receiver.current, max_body_bytes=max_body_bytes)])
    ready = asyncio.Event()
    server = _Server(uvicorn.Config(app, lifespan="off", log_level="warning"), ready)
    task = asyncio.create_task(server.serve(sockets=[sock]))
    await ready.wait()
    try:
        yield receiver
    finally:
        server.should_exit = True
        await task
        sock.close()
