"""Launch the Gradio app with its services opened inside the server's own lifespan.

Gradio runs its server (and every async handler) on an event loop of its own; the httpx
client, the ledger's lock and the job followers must live on that loop, so they are opened
in the ASGI lifespan that Gradio passes through `app_kwargs`. So is the sweeper of Gradio's
cache, and the MCP server's session manager (its routes sit beside Gradio's); the webhook door and
the request guard go in front of Gradio's routes as middleware, through the same door.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import logging
from collections.abc import AsyncIterator
from typing import Any

import gradio as gr
from gradio.utils import get_upload_folder
from starlette.middleware import Middleware

from demo_app.admin import AdminAccess, AdminDesk, admin_routes
from demo_app.agents import mcp_door
from demo_app.collector import FullCollections
from demo_app.heap import freeze_startup_objects, keep_heap_small
from demo_app.loop_lag import record_loop_lag
from demo_app.services import Services, open_services
from demo_app.settings import Settings
from demo_app.shares import ShareDesk, share_routes
from demo_app.stopping import serve_until_stopped
from demo_app.ui import (
    GRADIO_OPTIONAL_IMPORTS,
    build_ui,
    check_progress_rarely,
    mark_absent,
    use_lean_sessions,
    visitors_of,
)
from demo_app.uploads import (
    MIB,
    CacheSweeper,
    FileInputs,
    GuardLimits,
    RequestGuard,
    Sweep,
    UploadPolicy,
    UploadQuota,
)
from demo_app.visitors import visitor_address
from demo_app.webhooks import WebhookDoor, WebhookInbox

log = logging.getLogger(__name__)


STARTUP_WAIT_S = 60.0
"""How long an early request waits for start-up (recovering jobs, opening the ledger)."""


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
        """The services; waits for start-up to finish if a visitor is early (not for ever)."""
        if self._services is None:
            try:
                await asyncio.wait_for(self._ready.wait(), STARTUP_WAIT_S)
            except TimeoutError:
                message = "The studio is starting or stopping; try again in a minute."
                raise ServicesUnavailable(message) from None
        assert self._services is not None
        return self._services


class ServicesUnavailable(RuntimeError):
    """A request arrived while the services were not open (start-up or shutdown)."""


def build_app(settings: Settings, handle: ServicesHandle | None = None) -> tuple[gr.Blocks, dict[str, Any]]:
    """The Blocks and the `launch()` keyword arguments that make it behave as intended; `handle`
    receives the services its lifespan opens (a benchmark serving the app itself reads them there)."""
    handle = handle if handle is not None else ServicesHandle()
    folder = get_upload_folder()
    uploads = UploadPolicy(folder)
    quota = UploadQuota(
        per_address_bytes=int(settings.upload_mb_per_address_per_hour * MIB),
        disk_bytes=int(settings.max_upload_disk_mb * MIB),
    )
    visitors = visitors_of(settings, handle)
    demo = build_ui(handle, settings, uploads, visitors)
    door = mcp_door(handle, visitors, uploads, demo.upload_file_set, quota, settings)

    @contextlib.asynccontextmanager
    async def lifespan(app: Any) -> AsyncIterator[None]:
        use_lean_sessions(app)
        sweeper = _cache_sweeper(demo, uploads, settings)
        on_sweep = functools.partial(_counted, quota)
        sweeping = asyncio.create_task(sweeper.run(settings.cache_sweep_every_s, on_sweep), name="sweeper")
        background = [sweeping]
        if settings.loop_lag_log is not None:
            background.append(asyncio.create_task(record_loop_lag(settings.loop_lag_log), name="loop-lag"))
        try:
            async with open_services(settings) as services, door.running():
                handle.set(services)
                log.info("start-up done; %d objects left out of garbage collection", freeze_startup_objects())
                try:
                    async with FullCollections().running():
                        yield
                finally:
                    handle.set(None)
            log.info("services closed")
        finally:
            for task in background:
                task.cancel()
            await asyncio.gather(*background, return_exceptions=True)
            sweeper.close()

    guard = Middleware(
        RequestGuard,
        limits=GuardLimits(
            event_body_bytes=settings.max_event_kb * 1024,
            upload_bytes=settings.max_upload_bytes,
        ),
        quota=quota,
        upload_folder=folder,
        file_inputs=FileInputs(demo.fns.values()),
        address=lambda headers, peer: visitor_address(headers, peer, settings.trusted_proxy_hops),
    )
    demo.queue(default_concurrency_limit=None, max_size=settings.max_waiting_visitors)
    check_progress_rarely(demo)
    mark_absent(GRADIO_OPTIONAL_IMPORTS)
    max_webhook = settings.webhook_max_body_kb * 1024
    launch_kwargs: dict[str, Any] = {
        "server_name": settings.server_name,
        "server_port": settings.server_port,
        "show_error": False,
        "ssr_mode": False,
        # Every waiting visitor holds one queue slot for the whole run (async, no thread).
        "max_threads": settings.max_waiting_visitors + 100,
        "max_file_size": settings.max_upload_bytes,
        "allowed_paths": [
            str((settings.data_dir / "videos").resolve()),
            str((settings.data_dir / "previews").resolve()),  # the pre-flight's pictures
        ],
        "app_kwargs": {
            "lifespan": lifespan,
            # Deliveries are answered before Gradio's routing, the busiest requests while jobs run.
            "middleware": [
                Middleware(WebhookDoor, inbox=functools.partial(_inbox, handle), max_body_bytes=max_webhook),
                guard,
            ],
            "routes": [
                *share_routes(functools.partial(_share_desk, handle)),
                *door.routes,
                *admin_routes(AdminDesk(handle.get), AdminAccess.from_settings(settings)),
            ],
        },
        "footer_links": ["api", "gradio"],
        "run_history": False,  # faces and voices stay out of the browser's run list
    }
    return demo, launch_kwargs


async def _inbox(handle: ServicesHandle) -> WebhookInbox | None:
    """The webhook inbox once the services are open (None before, after, or with webhooks off)."""
    try:
        return (await handle.get()).webhooks
    except ServicesUnavailable:
        return None


async def _share_desk(handle: ServicesHandle) -> ShareDesk | None:
    """The share desk once the services are open (None before or after)."""
    try:
        return (await handle.get()).shares
    except ServicesUnavailable:
        return None


def _cache_sweeper(demo: gr.Blocks, uploads: UploadPolicy, settings: Settings) -> CacheSweeper:
    """The sweeper of this app's files in Gradio's cache; examples and kept files stay."""

    def keep() -> set[str]:
        kept = {path for block in list(demo.blocks.values()) for path in list(block.keep_in_cache)}
        return kept | uploads.examples

    return CacheSweeper(
        uploads.folder,
        tracked=demo.temp_file_sets,
        uploads=demo.upload_file_set,
        keep=keep,
        upload_age_s=settings.upload_keep_s,
        copy_age_s=settings.cache_copy_keep_s,
        orphan_age_s=settings.cache_orphan_age_s,
        max_bytes=int(settings.max_upload_disk_mb * MIB),
    )


def _counted(quota: UploadQuota, sweep: Sweep) -> None:
    quota.counted(sweep.kept_bytes)
    if sweep.removed:
        log.info("removed %d files from Gradio's cache", len(sweep.removed))


def launch(settings: Settings, **overrides: Any) -> gr.Blocks:
    """Build and launch; `overrides` (e.g. prevent_thread_lock=True) go to `launch()`.

    Without prevent_thread_lock, serve until SIGINT or SIGTERM and stop within seconds
    (`stopping`); with it, return at once and the caller closes the app."""
    keep_heap_small()
    demo, kwargs = build_app(settings)
    kwargs.update(overrides)
    if kwargs.get("prevent_thread_lock"):
        demo.launch(**kwargs)
        return demo
    demo.launch(**kwargs, prevent_thread_lock=True)
    serve_until_stopped(demo)
    return demo
