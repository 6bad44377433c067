"""What the engine was asked and when, and when each prediction changed: a load-test diagnostic.

Not part of Replicate's API: `GET /_engine/stats` (token required) answers the request times by
kind — `create`, `read` (every other API call: gets, lists, cancels, files) and `delivery`
(output downloads) — and every known prediction's timeline: when its status changed and when
each log line was printed. A benchmark on the same machine compares these with when its
visitors saw each change. Times are the engine clock's, as seconds since the epoch (the wall
clock at time scale 1); the last `keep` requests of each kind are kept (an hour at
Replicate's limits).
"""

from __future__ import annotations

from collections import deque
from typing import TYPE_CHECKING, Any, Literal

from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from demo_app.engine._clock import Clock
from demo_app.engine._predictions import PredictionRecord
from demo_app.engine._routes import CREATES, GET_OUTPUT, Route

if TYPE_CHECKING:
    from demo_app.engine._runtime import Runtime

RequestKind = Literal["create", "read", "delivery"]


def kind_of(route: Route) -> RequestKind | None:
    """How Replicate's rate limits count a request (None: not an API call, e.g. this endpoint)."""
    if route in CREATES:
        return "create"
    if route == GET_OUTPUT:
        return "delivery"
    return "read" if route[1].startswith("/v1/") else None


class RequestLog:
    """When each request arrived, by kind, for the last `keep` of each kind."""

    def __init__(self, clock: Clock, keep: int = 200_000) -> None:
        self._clock = clock
        self._times: dict[RequestKind, deque[float]] = {
            kind: deque(maxlen=keep) for kind in ("create", "read", "delivery")
        }

    def record(self, route: Route) -> None:
        kind = kind_of(route)
        if kind is not None:
            self._times[kind].append(self._clock.now().timestamp())

    def to_json(self) -> dict[str, list[float]]:
        return {kind: list(times) for kind, times in self._times.items()}


def timeline_json(record: PredictionRecord) -> dict[str, Any]:
    """One prediction's changes as epoch seconds: status moments, and when an answer first showed
    each status; each log line with when it was printed and first shown (None: not yet)."""
    lines = record.logs.splitlines()
    shown: list[float | None] = [moment.timestamp() for moment in record.lines_shown]
    shown += [None] * (len(lines) - len(shown))
    return {
        "id": record.id,
        "status": record.status.value,
        "created_at": record.created_at.timestamp(),
        "started_at": record.started_at.timestamp() if record.started_at else None,
        "completed_at": record.completed_at.timestamp() if record.completed_at else None,
        "status_shown": {status: moment.timestamp() for status, moment in record.status_shown.items()},
        "logs_pushed": record.logs_pushed,
        "logs": [
            [moment.timestamp(), line, seen]
            for moment, line, seen in zip(record.log_times, lines, shown, strict=False)
        ],
    }


async def get_stats(runtime: Runtime, request: Request) -> Response:
    return JSONResponse(
        {
            "requests": runtime.request_log.to_json(),
            "predictions": [timeline_json(record) for record in list(runtime.predictions.values())],
        }
    )
