"""Test doubles for the client: recorded bodies, a sleep recorder, a scripted mini-Replicate."""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx

RECORDED = Path("/work/shared/reference/replicate-recorded")
TOKEN = "r8_TestTokenThatMustNeverLeak0123456789"
API = "https://api.replicate.test"

Handler = Callable[[httpx.Request], httpx.Response]


def recorded(name: str) -> Any:
    """A recorded body (`*.json`) or exchange (`*.http.json`), parsed."""
    return json.loads((RECORDED / name).read_text(encoding="utf-8"))


class SleepRecorder:
    """Stands in for `asyncio.sleep`: keeps every wait asked for, spends none."""

    def __init__(self) -> None:
        self.waits: list[float] = []

    async def __call__(self, seconds: float) -> None:
        self.waits.append(seconds)


def prediction_body(pid: str = "p1", status: str = "starting", **fields: Any) -> dict[str, Any]:
    """A prediction object shaped like Replicate's."""
    body: dict[str, Any] = {
        "id": pid,
        "model": "wan-video/wan-2.2-s2v",
        "version": "hidden",
        "input": {},
        "logs": "",
        "error": None,
        "status": status,
        "data_removed": False,
        "created_at": datetime.now(UTC).isoformat(),
        "urls": {
            "get": f"{API}/v1/predictions/{pid}",
            "cancel": f"{API}/v1/predictions/{pid}/cancel",
            "web": f"https://replicate.test/p/{pid}",
        },
    }
    body.update(fields)
    return body


def problem(
    status: int, detail: str, title: str = "", headers: dict[str, str] | None = None
) -> httpx.Response:
    """An error response in Replicate's problem+json shape."""
    body: dict[str, Any] = {"detail": detail, "status": status}
    if title:
        body["title"] = title
    return httpx.Response(
        status, json=body, headers={"Content-Type": "application/problem+json", **(headers or {})}
    )


@dataclass(frozen=True)
class Fault:
    """What goes wrong with one create: `exc` raised and/or `status` answered; `creates` = it arrived."""

    creates: bool = False
    exc: type[Exception] | None = None
    status: int | None = None
    retry_after: str | None = None


REFUSED = Fault(exc=httpx.ConnectError)
DROPPED_AFTER_CREATE = Fault(creates=True, exc=httpx.RemoteProtocolError)
DROPPED_BEFORE_CREATE = Fault(exc=httpx.RemoteProtocolError)
TIMED_OUT_AFTER_CREATE = Fault(creates=True, exc=httpx.ReadTimeout)
THROTTLED = Fault(status=429, retry_after="2")
GATEWAY_ERROR = Fault(status=502)


class MiniReplicate:
    """Just enough of Replicate for create, get and list; faults are scripted per request kind."""

    def __init__(
        self,
        *,
        create_faults: list[Fault | None] | None = None,
        list_faults: list[Fault | None] | None = None,
    ) -> None:
        self.predictions: list[dict[str, Any]] = []  # oldest first
        self.calls: Counter[str] = Counter()
        self.create_faults = list(create_faults or [])
        self.list_faults = list(list_faults or [])
        self.page_size = 2
        self.list_has_input = False

    def add(self, input: dict[str, Any], created_at: datetime | None = None) -> dict[str, Any]:
        pid = f"p{len(self.predictions) + 1}"
        body = prediction_body(pid, input=input, created_at=(created_at or datetime.now(UTC)).isoformat())
        self.predictions.append(body)
        return body

    def __call__(self, request: httpx.Request) -> httpx.Response:
        path = request.url.path
        if request.method == "POST" and path.endswith("/predictions"):
            self.calls["create"] += 1
            fault = self.create_faults.pop(0) if self.create_faults else None
            body = None
            if fault is None or fault.creates:
                body = self.add(json.loads(request.content)["input"])
            return self._answer(request, fault, lambda: httpx.Response(201, json=body))
        if request.method == "GET" and path == "/v1/predictions":
            self.calls["list"] += 1
            fault = self.list_faults.pop(0) if self.list_faults else None
            return self._answer(request, fault, lambda: self._page(request))
        if request.method == "GET" and path.startswith("/v1/predictions/"):
            self.calls["get"] += 1
            pid = path.rsplit("/", 1)[1]
            for body in self.predictions:
                if body["id"] == pid:
                    return httpx.Response(200, json=body)
            return problem(404, "Prediction not found", "Not found")
        return problem(404, "No route", "Not found")

    @staticmethod
    def _answer(
        request: httpx.Request, fault: Fault | None, ok: Callable[[], httpx.Response]
    ) -> httpx.Response:
        if fault is not None and fault.exc is not None:
            raise fault.exc("scripted fault", request=request)  # type: ignore[call-arg]
        if fault is not None and fault.status is not None:
            headers = {"Retry-After": fault.retry_after} if fault.retry_after else None
            return problem(fault.status, "Scripted failure", headers=headers)
        return ok()

    def _page(self, request: httpx.Request) -> httpx.Response:
        """Newest first, `page_size` per page, `next` a full URL with a cursor (an offset here)."""
        newest_first = list(reversed(self.predictions))
        after = request.url.params.get("created_after")
        if after:
            since = datetime.fromisoformat(after)
            newest_first = [p for p in newest_first if datetime.fromisoformat(p["created_at"]) > since]
        offset = int(request.url.params.get("cursor", "0"))
        page = newest_first[offset : offset + self.page_size]
        more = offset + self.page_size < len(newest_first)
        next_url = str(request.url.copy_set_param("cursor", str(offset + self.page_size))) if more else None
        if not self.list_has_input:  # like the documented list example: summaries without input
            page = [{k: v for k, v in p.items() if k != "input"} for p in page]
        return httpx.Response(200, json={"next": next_url, "previous": None, "results": page})


class FakeResolver:
    """Answers DNS for the tests' made-up names: public by default, scripted otherwise."""

    PUBLIC = "93.184.216.34"

    def __init__(self, answers: dict[str, list[str]] | None = None) -> None:
        self.answers = answers or {}
        self.asked: list[str] = []

    async def __call__(self, host: str) -> list[str]:
        self.asked.append(host)
        if host.startswith("nxdomain."):
            raise OSError(f"{host} does not resolve")
        return self.answers.get(host, [self.PUBLIC])
