"""The share routes served beside the Gradio app: the page, its video and its manifest.

They never touch the Gradio page or its load event, so opening a link admits no visitor and
grants nothing. The video is streamed from our storage by these routes (Range requests
included), not through Gradio's file route, so a revoke stops it on the next request.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from pathlib import Path

from starlette.requests import Request
from starlette.responses import FileResponse, HTMLResponse, JSONResponse, PlainTextResponse, Response
from starlette.routing import Route

from demo_app.shares._desk import ShareDesk, SharedVideo
from demo_app.shares._view import NOT_SHARED, not_shared_page, shared_page

SHARE_PREFIX = "/share"
DeskSource = Callable[[], Awaitable[ShareDesk | None]]
"""The app's share desk once its services are open; None while they are not."""

PRIVATE = {
    "Cache-Control": "no-store",
    "Referrer-Policy": "no-referrer",
    "X-Robots-Tag": "noindex",
    "X-Content-Type-Options": "nosniff",
}
PAGE_POLICY = (
    "default-src 'none'; media-src 'self'; style-src 'unsafe-inline'; base-uri 'none'; form-action 'none'"
)


def share_path(token: str) -> str:
    """The path of a share link's page (the app's address goes in front)."""
    return f"{SHARE_PREFIX}/{token}"


def share_routes(desk: DeskSource) -> list[Route]:
    """`GET /share/{token}`, `/share/{token}/video.mp4` and `/share/{token}/manifest.json`."""

    async def opened(request: Request) -> SharedVideo | None:
        shares = await desk()
        if shares is None:
            return None
        shared = await shares.open(request.path_params["token"])
        if shared is None or not await asyncio.to_thread(Path(shared.video_path).is_file):
            return None
        return shared

    async def page(request: Request) -> Response:
        shared = await opened(request)
        headers = PRIVATE | {"Content-Security-Policy": PAGE_POLICY}
        if shared is None:
            return HTMLResponse(not_shared_page(), 404, headers=headers)
        return HTMLResponse(shared_page(shared, request.path_params["token"]), headers=headers)

    async def video(request: Request) -> Response:
        shared = await opened(request)
        if shared is None:
            return PlainTextResponse(NOT_SHARED, 404, headers=PRIVATE)
        return FileResponse(shared.video_path, media_type="video/mp4", headers=PRIVATE)

    async def manifest(request: Request) -> Response:
        shared = await opened(request)
        if shared is None:
            return PlainTextResponse(NOT_SHARED, 404, headers=PRIVATE)
        return JSONResponse(shared.manifest, headers=PRIVATE)

    methods = ["GET", "HEAD"]
    return [
        Route(SHARE_PREFIX + "/{token}", page, methods=methods),
        Route(SHARE_PREFIX + "/{token}/video.mp4", video, methods=methods),
        Route(SHARE_PREFIX + "/{token}/manifest.json", manifest, methods=methods),
    ]
