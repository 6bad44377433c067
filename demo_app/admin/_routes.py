"""The admin routes served beside the app (never Gradio endpoints: not in the API page, not MCP tools).

Every request carries `Authorization: Bearer <LIPSYNC_ADMIN_KEY>`; without the key set on the
app every route answers 403, without the right key 401, each with one sentence. A change also
names its admin in `X-Admin-Name` (recorded as "<name> (admin key)"). Bodies are small JSON,
read with a cap before anything else; answers are JSON, never cached.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Awaitable, Callable
from typing import Any

from starlette.requests import ClientDisconnect, Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from demo_app.admin._access import Admin, AdminAccess, NotAnAdmin
from demo_app.admin._desk import AdminDesk, DeskRefused
from demo_app.admin._http import NAME_HEADER, PREFIX
from demo_app.admin._json import account_json, balance_json, job_json, spend_json
from demo_app.credits import CreditsError
from demo_app.webhooks import BodyTooLarge, read_capped

log = logging.getLogger(__name__)

MAX_BODY_BYTES = 4096
CLOSED = "The admin routes are closed on this app: set LIPSYNC_ADMIN_KEY and restart it."
NO_KEY = "Send the admin key as the header 'Authorization: Bearer <LIPSYNC_ADMIN_KEY>'."
WRONG_KEY = "That is not this app's admin key; check LIPSYNC_ADMIN_KEY."
FAILED = "Something went wrong on the app's side; its log says what."

Handler = Callable[[Request, Admin | None], Awaitable[Any]]


def admin_routes(desk: AdminDesk, access: AdminAccess) -> list[Route]:
    """`GET spend|jobs|failures|statement`, `POST jobs/{job_id}/cancel|grant|take` under `/admin/api`."""

    async def spend(request: Request, admin: Admin | None) -> Any:
        return spend_json(await desk.spend())

    async def jobs(request: Request, admin: Admin | None) -> Any:
        return {"jobs": [job_json(snap) for snap in await desk.running()]}

    async def failures(request: Request, admin: Admin | None) -> Any:
        return {"jobs": [job_json(snap) for snap in await desk.failures()]}

    async def statement(request: Request, admin: Admin | None) -> Any:
        return account_json(await desk.statement(request.query_params.get("owner")))

    async def cancel(request: Request, admin: Admin | None) -> Any:
        snap = await desk.cancel(request.path_params["job_id"])
        log.info("job %s of %s canceled by %s", snap.job_id, snap.owner, admin.label if admin else "?")
        return job_json(snap)

    async def grant(request: Request, admin: Admin | None) -> Any:
        body = await _body(request)
        assert admin is not None
        return balance_json(await desk.grant(admin, *_change(body)))

    async def take(request: Request, admin: Admin | None) -> Any:
        body = await _body(request)
        assert admin is not None
        return balance_json(await desk.take(admin, *_change(body)))

    def route(path: str, handler: Handler, method: str) -> Route:
        return Route(PREFIX + path, _guarded(access, handler, changes=method == "POST"), methods=[method])

    return [
        route("/spend", spend, "GET"),
        route("/jobs", jobs, "GET"),
        route("/failures", failures, "GET"),
        route("/statement", statement, "GET"),
        route("/jobs/{job_id}/cancel", cancel, "POST"),
        route("/grant", grant, "POST"),
        route("/take", take, "POST"),
    ]


Endpoint = Callable[[Request], Awaitable[Response]]


def _guarded(access: AdminAccess, handler: Handler, *, changes: bool) -> Endpoint:
    """`handler` behind the key; every refusal and failure one sentence with its status."""

    async def endpoint(request: Request) -> Response:
        if not access.has_key:
            return _answer({"error": CLOSED}, 403)
        scheme, _, key = request.headers.get("authorization", "").partition(" ")
        if scheme.lower() != "bearer" or not key.strip():
            return _answer({"error": NO_KEY}, 401, challenge=True)
        if not access.key_opens(key.strip()):
            return _answer({"error": WRONG_KEY}, 401, challenge=True)
        try:
            admin = access.key_holder(key.strip(), request.headers.get(NAME_HEADER)) if changes else None
        except NotAnAdmin as exc:
            return _answer({"error": f"{exc} Send it in the X-Admin-Name header."}, 400)
        try:
            return _answer(await handler(request, admin), 200)
        except (DeskRefused, _BadBody) as exc:
            return _answer({"error": str(exc)}, 400)
        except CreditsError as exc:
            return _answer({"error": exc.message}, 409)
        except Exception:
            log.exception("admin route %s failed", request.url.path)
            return _answer({"error": FAILED}, 500)

    return endpoint


class _BadBody(ValueError):
    """The body is not a small JSON object."""


async def _body(request: Request) -> dict[str, Any]:
    try:
        raw = await read_capped(request, MAX_BODY_BYTES)
        body = json.loads(raw)
    except BodyTooLarge:
        raise _BadBody(f"The body is larger than {MAX_BODY_BYTES} bytes.") from None
    except (ClientDisconnect, ValueError):
        raise _BadBody('Send a JSON object: {"owner": …, "credits": …, "reason": …}.') from None
    if not isinstance(body, dict):
        raise _BadBody('Send a JSON object: {"owner": …, "credits": …, "reason": …}.')
    return body


def _change(body: dict[str, Any]) -> tuple[Any, Any, Any]:
    """The owner, credits and reason of a grant or take (checked by the desk)."""
    return body.get("owner"), body.get("credits"), body.get("reason")


def _answer(content: Any, status: int, *, challenge: bool = False) -> Response:
    headers = {"Cache-Control": "no-store"}
    if challenge:
        headers["WWW-Authenticate"] = 'Bearer realm="lipsync-studio-admin"'
    return JSONResponse(content, status, headers=headers)
