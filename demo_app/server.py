"""Launch the Gradio app with its services opened inside the server's own lifespan.

Gradio runs its server (and every async handler) on an event loop of its own; the httpx
client, the ledger's lock and the job followers must live on that loop, so they are opened
in the ASGI lifespan that Gradio passes through `app_kwargs`.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from typing import Any

import gradio as gr

from demo_app.services import Services, open_services
from demo_app.settings import Settings
from demo_app.ui import build_ui


class ServicesHandle:
    """Hands the services to event handlers once the lifespan has opened them."""

    def __init__(self) -> None:
        self._services: Services | None = None
        self._ready = asyncio.Event()

    def set(self, services: Services | None) -> None:
        """Publish (or withdraw, at shutdown) the opened services."""
        self._services = services
        if services is not None:
            self._ready.set()
        else:
            self._ready.clear()

    async def get(self) -> Services:
        """The services; waits for start-up to finish if a visitor is early."""
        if self._services is None:
            await self._ready.wait()
        assert self._services is not None
        return self._services


def build_app(settings: Settings) -> tuple[gr.Blocks, dict[str, Any]]:
    """The Blocks and the `launch()` keyword arguments that make it behave as intended."""
    handle = ServicesHandle()

    @contextlib.asynccontextmanager
    async def lifespan(_app: Any) -> AsyncIterator[None]:
        async with open_services(settings) as services:
            handle.set(services)
            try:
                yield
            finally:
                handle.set(None)

    demo = build_ui(handle, settings)
    demo.queue(default_concurrency_limit=None, max_size=settings.max_waiting_visitors)
    launch_kwargs: dict[str, Any] = {
        "server_name": settings.server_name,
        "server_port": settings.server_port,
        "show_error": False,
        "ssr_mode": False,
        # Every waiting visitor holds one queue slot for the whole run (async, no thread).
        "max_threads": settings.max_waiting_visitors + 100,
        "max_file_size": f"{settings.max_upload_mb}mb",
        "allowed_paths": [str((settings.data_dir / "videos").resolve())],
        "app_kwargs": {"lifespan": lifespan},
        "footer_links": ["api", "gradio"],
        "run_history": False,  # faces and voices stay out of the browser's run list
    }
    return demo, launch_kwargs


def launch(settings: Settings, **overrides: Any) -> gr.Blocks:
    """Build and launch; `overrides` (e.g. prevent_thread_lock=True) go to `launch()`."""
    demo, kwargs = build_app(settings)
    kwargs.update(overrides)
    demo.launch(**kwargs)
    return demo
