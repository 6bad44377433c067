"""The webhook route for an app of its own (job tests), and a capped body read for other routes.

The app itself answers webhooks in front of its routing (`WebhookDoor`); a Starlette app that serves
nothing else mounts the same endpoint as a route.
"""

from __future__ import annotations

from starlette.requests import Request
from starlette.routing import Route

from demo_app.webhooks._door import InboxSource, WebhookEndpoint
from demo_app.webhooks._links import ROUTE_PATH


class BodyTooLarge(Exception):
    """The body passed the cap while it was being read."""


def webhook_route(inbox: InboxSource, *, max_body_bytes: int) -> Route:
    """`POST /webhooks/replicate/{job_id}/{tag}` answering each delivery with one sentence."""
    return Route(ROUTE_PATH, WebhookEndpoint(inbox, max_body_bytes=max_body_bytes), methods=["POST"])


async def read_capped(request: Request, max_bytes: int) -> bytes:
    """The body, refused (BodyTooLarge) as soon as it passes `max_bytes`, declared or streamed."""
    declared = request.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > max_bytes:
        raise BodyTooLarge
    chunks: list[bytes] = []
    size = 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > max_bytes:
            raise BodyTooLarge
        chunks.append(chunk)
    return b"".join(chunks)
