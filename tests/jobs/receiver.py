"""The app's webhook route served by uvicorn on 127.0.0.1, on the test's own event loop (where the
job manager lives), so the engine delivers over real HTTP as Replicate would."""

from __future__ import annotations

import asyncio
import contextlib
import socket
from collections.abc import AsyncIterator

import uvicorn
from starlette.applications import Starlette
from starlette.types import ASGIApp

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


@contextlib.asynccontextmanager
async def serve_receiver(max_body_bytes: int) -> AsyncIterator[Receiver]:
    """The app's webhook route alone; set `inbox` once the services are open."""
    holder: list[Receiver] = []

    async def current() -> WebhookInbox | None:
        return holder[0].inbox

    app = Starlette(routes=[webhook_route(current, max_body_bytes=max_body_bytes)])
    async with serve_on_loop(app) as port:
        holder.append(Receiver(port))
        yield holder[0]


@contextlib.asynccontextmanager
async def serve_on_loop(app: ASGIApp) -> AsyncIterator[int]:
    """Serve `app` on 127.0.0.1 (a free port, yielded) on the running event loop."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.bind(("127.0.0.1", 0))
    ready = asyncio.Event()
    server = _Server(uvicorn.Config(app, lifespan="off", log_level="warning"), ready)
    task = asyncio.create_task(server.serve(sockets=[sock]))
    await ready.wait()
    try:
        yield sock.getsockname()[1]
    finally:
        server.should_exit = True
        await task
        sock.close()
