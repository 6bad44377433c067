"""The webhook route served beside the Gradio app (and alone, in job tests): POST only, its body
read with a cap while it streams (Starlette sets none), before anything else is done with it."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from starlette.requests import ClientDisconnect, Request
from starlette.responses import PlainTextResponse, Response
from starlette.routing import Route

from demo_app.webhooks._inbox import WebhookInbox
from demo_app.webhooks._links import ROUTE_PATH

InboxSource = Callable[[], Awaitable[WebhookInbox | None]]
"""The app's inbox once its services are open; None while they are not (or webhooks are off)."""


class BodyTooLarge(Exception):
    """The body passed the cap while it was being read."""


def webhook_route(inbox: InboxSource, *, max_body_bytes: int) -> Route:
    """`POST /webhooks/replicate/{job_id}/{tag}` answering each delivery with one sentence."""

    async def receive(request: Request) -> Response:
        target = await inbox()
        if target is None:
            return PlainTextResponse("This app is not receiving webhooks now.", 503)
        job_id, tag = request.path_params["job_id"], request.path_params["tag"]
        if not target.is_ours(job_id, tag):
            return PlainTextResponse("This webhook address was not issued by this app.", 403)
        try:
            body = await read_capped(request, max_body_bytes)
        except BodyTooLarge:
            return PlainTextResponse(f"The webhook body is larger than {max_body_bytes} bytes.", 413)
        except ClientDisconnect:
            return PlainTextResponse("The webhook body was cut off.", 400)
        answer = await target.deliver(job_id, tag, request.headers, body)
        return PlainTextResponse(answer.text, answer.status)

    return Route(ROUTE_PATH, receive, methods=["POST"])


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
