"""HTTP handlers for predictions: create (by model, by version), get, cancel, list.

Each handler takes the runtime and the request and returns a response or raises `Problem`.
Status codes follow Replicate: 201 on create (202 when `Prefer: wait` ran out before the
prediction finished), 200 otherwise, 404 for an unknown model or prediction, 422 for a
refused input or header.
"""

from __future__ import annotations

import json
from dataclasses import asdict
from datetime import datetime
from typing import Any
from urllib.parse import urlencode

from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from demo_app.engine._clock import wait_event
from demo_app.engine._headers import parse_cancel_after, parse_prefer_wait
from demo_app.engine._hosted_models import (
    HOSTED_MODELS,
    HostedModel,
    InvalidField,
    hosted_by_name,
    hosted_by_version,
    problem_detail,
    validate_input,
)
from demo_app.engine._pagination import Cursor, paginate
from demo_app.engine._problems import Problem, invalid_request
from demo_app.engine._runtime import Runtime
from demo_app.engine._webhooks import webhook_target


def base_url(request: Request) -> str:
    return str(request.base_url).rstrip("/")


async def create_by_model(runtime: Runtime, request: Request) -> Response:
    owner, name = request.path_params["owner"], request.path_params["name"]
    model = hosted_by_name(owner, name)
    if model is None:
        served = ", ".join(HOSTED_MODELS)
        raise Problem(404, "Not found", f"Model {owner}/{name} was not found. This engine serves: {served}.")
    if not model.official:
        raise Problem(
            404,
            "Not found",
            f"{model.id} is not an official model: create its predictions at POST /v1/predictions "
            f'with "version": "{model.version}".',
        )
    return await _create(runtime, request, model, await _json_body(request))


async def create_by_version(runtime: Runtime, request: Request) -> Response:
    body = await _json_body(request)
    version = body.get("version")
    if not isinstance(version, str) or not version:
        raise _invalid_input([InvalidField("required", "version", "version is required")])
    model = hosted_by_version(version)
    if model is None:
        raise invalid_request(
            "Invalid version or not permitted", f"Version {version!r} does not exist on this engine."
        )
    return await _create(runtime, request, model, body)


async def get_prediction(runtime: Runtime, request: Request) -> Response:
    record = runtime.get(request.path_params["prediction_id"])
    record.shown(runtime.clock.now())
    return JSONResponse(record.to_json(base_url(request)))


async def cancel_prediction(runtime: Runtime, request: Request) -> Response:
    record = runtime.cancel(request.path_params["prediction_id"])
    record.shown(runtime.clock.now())
    return JSONResponse(record.to_json(base_url(request)))


async def list_predictions(runtime: Runtime, request: Request) -> Response:
    query = request.query_params
    filters = {key: query[key] for key in ("created_after", "created_before") if key in query}
    try:
        cursor = Cursor.decode(query["cursor"]) if "cursor" in query else None
    except ValueError as exc:
        raise invalid_request("Invalid cursor", str(exc)) from None
    records = runtime.newest_first(
        created_after=_instant(filters, "created_after"), created_before=_instant(filters, "created_before")
    )
    page = paginate(records, cursor, runtime.page_size)
    base = base_url(request)
    now = runtime.clock.now()
    for record in page.results:
        # A list page is read for statuses (Replicate's does not always carry logs): only a
        # prediction's own answers and its webhooks count as having shown its log lines.
        record.shown(now, logs=False)

    def link(target: Cursor | None) -> str | None:
        if target is None:
            return None
        return f"{base}/v1/predictions?{urlencode({**filters, 'cursor': target.encode()})}"

    return JSONResponse(
        {
            "next": link(page.next),
            "previous": link(page.previous),
            "results": [record.to_json(base) for record in page.results],
        }
    )


async def webhook_secret(runtime: Runtime, request: Request) -> Response:
    """`GET /v1/webhooks/default/secret`: the key this engine signs its webhooks with."""
    return JSONResponse({"key": runtime.webhooks.secret})


async def _create(runtime: Runtime, request: Request, model: HostedModel, body: dict[str, Any]) -> Response:
    values = body.get("input")
    if not isinstance(values, dict):
        given = "null" if values is None else type(values).__name__
        raise _invalid_input(
            [InvalidField("invalid_type", "input", f"Invalid type. Expected: object, given: {given}")]
        )
    try:
        cancel_after = request.headers.get("cancel-after")
        cancel_after_s = parse_cancel_after(cancel_after) if cancel_after is not None else None
        wait_s = parse_prefer_wait(request.headers.get("prefer", ""))
    except ValueError as exc:
        raise invalid_request("Invalid header", str(exc)) from None
    if runtime.scenario.script.reject_input:
        raise _invalid_input(
            [InvalidField("format", f"input.{model.image_field}", "Does not match format 'uri'")]
        )
    model = runtime.scenario.served(model)
    problems = validate_input(model, values)[1]
    if problems:
        raise _invalid_input(problems)
    webhook = webhook_target(body, base_url(request))
    record = runtime.create(
        model, values, cancel_after_s=cancel_after_s, own_host=request.url.netloc, webhook=webhook
    )
    status, headers = 201, {}
    if wait_s is not None:
        headers["Preference-Applied"] = f"wait={wait_s}"
        finished = await wait_event(record.settled, runtime.clock, wait_s)
        status = 201 if finished else 202
    base = base_url(request)
    headers["Location"] = f"{base}/v1/predictions/{record.id}"
    record.shown(runtime.clock.now())
    return JSONResponse(record.to_json(base), status, headers=headers)


async def _json_body(request: Request) -> dict[str, Any]:
    try:
        body = json.loads(await request.body() or b"null")
    except (json.JSONDecodeError, UnicodeDecodeError):
        raise invalid_request("Invalid JSON", "The request body is not valid JSON.") from None
    if not isinstance(body, dict):
        raise invalid_request(
            "Invalid request body", 'The request body must be a JSON object with an "input" object.'
        )
    return body


def _invalid_input(problems: list[InvalidField]) -> Problem:
    return Problem(
        422,
        "Input validation failed",
        problem_detail(problems),
        extra={"invalid_fields": [asdict(p) for p in problems]},
    )


def _instant(filters: dict[str, str], key: str) -> datetime | None:
    if key not in filters:
        return None
    try:
        moment = datetime.fromisoformat(filters[key])
    except ValueError:
        raise invalid_request(
            f"Invalid {key}", f"{key} must be an ISO 8601 date-time, got {filters[key]!r}."
        ) from None
    if moment.tzinfo is None:
        raise invalid_request(f"Invalid {key}", f"{key} needs a time zone (e.g. 2025-01-01T00:00:00Z).")
    return moment
