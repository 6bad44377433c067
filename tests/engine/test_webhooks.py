"""The engine's webhooks: signed as Replicate signs them (checked with the official client's own
validator), sent only to loopback, filtered, throttled, the final one retried; and the webhook
scenarios do what their names say."""

from __future__ import annotations

import asyncio
import json
from collections import Counter
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
from replicate.webhook import InvalidSignatureError, Webhooks, WebhookSigningSecret
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from demo_app.engine import Engine
from demo_app.engine._clock import ScaledClock
from demo_app.engine._hosted_models import hosted_by_name
from demo_app.engine._predictions import PredictionRecord, RecordStatus
from demo_app.engine._scenarios import WebhookScript, WebhooksLost
from demo_app.engine._webhooks import EVENTS, WebhookSender, WebhookTarget
from tests.conftest import EngineFactory
from tests.engine.fakes import ManualClock, quick_render
from tests.engine.helpers import WAN_PATH, record, wan_input
from tests.jobs.receiver import serve_on_loop

Api = Callable[..., httpx.AsyncClient]


@dataclass
class Hook:
    """A loopback receiver that keeps every delivery and answers the final ones from `finals`."""

    url: str = ""
    deliveries: list[tuple[dict[str, str], bytes]] = field(default_factory=list)
    finals: list[int] = field(default_factory=list)
    """Answers to the final deliveries, in turn (then 200)."""
    acknowledged: int = 0
    """Final deliveries answered 2xx."""
    _changed: asyncio.Event = field(default_factory=asyncio.Event)

    def bodies(self) -> list[dict[str, Any]]:
        return [json.loads(body) for _, body in self.deliveries]

    def arrived(self) -> None:
        changed, self._changed = self._changed, asyncio.Event()
        changed.set()

    async def until(self, condition: Callable[[Hook], bool]) -> None:
        """Return once `condition(self)` holds, re-checked at each delivery."""
        while not condition(self):
            await self._changed.wait()


@pytest.fixture
async def hook() -> AsyncIterator[Hook]:
    kept = Hook()

    async def receive(request: Request) -> Response:
        body = await request.body()
        kept.deliveries.append((dict(request.headers), body))
        status = 200
        if json.loads(body)["status"] in ("succeeded", "failed", "canceled"):
            status = kept.finals.pop(0) if kept.finals else 200
            kept.acknowledged += status == 200
        kept.arrived()
        return Response(status_code=status)

    async with serve_on_loop(Starlette(routes=[Route("/hook", receive, methods=["POST"])])) as port:
        kept.url = f"http://127.0.0.1:{port}/hook"
        yield kept


async def start(client: httpx.AsyncClient, voice: Path, hook: Hook, events: list[str] | None = None) -> str:
    body: dict[str, Any] = {"input": await wan_input(client, voice), "webhook": hook.url}
    if events is not None:
        body["webhook_events_filter"] = events
    response = await client.post(WAN_PATH, json=body)
    assert response.status_code == 201, response.text
    return str(response.json()["id"])


async def secret(client: httpx.AsyncClient) -> WebhookSigningSecret:
    response = await client.get("/v1/webhooks/default/secret")
    assert response.status_code == 200
    key = response.json()["key"]
    assert key.startswith("whsec_")
    return WebhookSigningSecret(key=key)


async def test_every_event_is_signed_as_replicate_signs_it(
    engine_factory: EngineFactory, api: Api, voice: Path, hook: Hook
) -> None:
    engine = await engine_factory("normal", renderer=quick_render)
    client = api(engine)
    prediction_id = await start(client, voice, hook)
    await hook.until(lambda h: h.acknowledged >= 1)
    signing = await secret(client)
    for headers, body in hook.deliveries:
        Webhooks.validate(headers=headers, body=body.decode(), secret=signing, tolerance=300)
    statuses = [body["status"] for body in hook.bodies()]
    assert statuses[0] == "processing" and statuses[-1] == "succeeded"
    assert all(body["id"] == prediction_id for body in hook.bodies())
    final = hook.bodies()[-1]
    assert final["output"].startswith(Engine.base_url) and final == record(engine, prediction_id).to_json(
        Engine.base_url
    )
    ids = [headers["webhook-id"] for headers, _ in hook.deliveries]
    assert len(set(ids)) == len(ids)
    await engine.runtime.webhooks.drained()
    ended = record(engine, prediction_id)
    assert ended.completed_at is not None and ended.status_shown["succeeded"] >= ended.completed_at, (
        "seen once the delivery was answered"
    )


async def test_the_filter_is_honoured_and_the_final_event_retried(
    engine_factory: EngineFactory, api: Api, voice: Path, hook: Hook
) -> None:
    engine = await engine_factory("normal", time_scale=50.0, renderer=quick_render)
    client = api(engine)
    hook.finals = [500, 404]
    await start(client, voice, hook, ["completed"])
    await hook.until(lambda h: h.acknowledged == 1)
    sent = engine.runtime.webhooks.sent
    assert sent["completed 500"] == 1 and sent["completed 404"] == 1 and sent["start 200"] == 0
    assert [body["status"] for body in hook.bodies()] == ["succeeded"] * 3
    assert len({headers["webhook-id"] for headers, _ in hook.deliveries}) == 1


async def test_webhooks_go_to_loopback_only(engine_factory: EngineFactory, api: Api, voice: Path) -> None:
    engine = await engine_factory("normal", renderer=quick_render)
    client = api(engine)
    for url, events in (("https://example.com/hook", None), ("http://127.0.0.1:9/hook", ["everything"])):
        body: dict[str, Any] = {"input": await wan_input(client, voice), "webhook": url}
        if events is not None:
            body["webhook_events_filter"] = events
        response = await client.post(WAN_PATH, json=body)
        assert response.status_code == 422
    assert not engine.runtime.predictions


async def test_duplicated_deliveries_share_their_id(
    engine_factory: EngineFactory, api: Api, voice: Path, hook: Hook
) -> None:
    engine = await engine_factory("webhooks_duplicated", renderer=quick_render)
    client = api(engine)
    await start(client, voice, hook, ["start", "completed"])
    await hook.until(lambda h: h.acknowledged == 2)
    ids = [headers["webhook-id"] for headers, _ in hook.deliveries]
    assert len(ids) == 4 and len(set(ids)) == 2


async def test_badly_signed_deliveries_fail_the_official_check(
    engine_factory: EngineFactory, api: Api, voice: Path, hook: Hook
) -> None:
    engine = await engine_factory("webhooks_badly_signed", renderer=quick_render)
    client = api(engine)
    await start(client, voice, hook, ["completed"])
    await hook.until(lambda h: h.acknowledged >= 1)
    headers, body = hook.deliveries[0]
    with pytest.raises(InvalidSignatureError):
        Webhooks.validate(headers=headers, body=body.decode(), secret=await secret(client), tolerance=300)


async def test_lost_deliveries_never_arrive(
    engine_factory: EngineFactory, api: Api, voice: Path, hook: Hook
) -> None:
    engine = await engine_factory(WebhooksLost(), renderer=quick_render)
    client = api(engine)
    prediction_id = await start(client, voice, hook)
    await record(engine, prediction_id).settled.wait()
    assert engine.runtime.webhooks.sent["completed lost"] == 1
    assert hook.deliveries == []


async def test_deliveries_wait_their_turn_in_the_engine_not_in_the_http_pool() -> None:
    """A backlog waits for one of the sender's few slots; held in httpx's pool instead, every
    queued request is walked at each assignment (quadratic), and it took the engine's core."""
    at_once, total = 3, 10
    seen = {"arrived": 0}
    changed = asyncio.Condition()

    async def receive(request: Request) -> Response:
        await request.body()
        async with changed:
            seen["arrived"] += 1
            batch_full = min(total, -(-seen["arrived"] // at_once) * at_once)
            changed.notify_all()
            await changed.wait_for(lambda: seen["arrived"] >= batch_full)  # held until its batch is in
        return Response(status_code=200)

    pool = CountingTransport(httpx.AsyncHTTPTransport(limits=httpx.Limits(max_connections=at_once)))
    sender = WebhookSender(ScaledClock(), WebhookScript(), at_once=at_once, transport=pool)
    sender.start()
    model = hosted_by_name("wan-video", "wan-2.2-s2v")
    assert model is not None
    async with serve_on_loop(Starlette(routes=[Route("/hook", receive, methods=["POST"])])) as port:
        target = WebhookTarget(f"http://127.0.0.1:{port}/hook", frozenset(EVENTS), Engine.base_url)
        for number in range(total):
            record = PredictionRecord(id=f"p{number}", model=model, input={}, created_at=datetime.now(UTC))
            sender.event(record, target, "start")
        await sender.drained()
        await sender.aclose()
    assert sender.sent["start 200"] == total
    assert pool.most == at_once, "never more requests handed to the pool than it has connections"


class CountingTransport(httpx.AsyncBaseTransport):
    """Passes requests on and counts the most that were inside the wrapped transport at once."""

    def __init__(self, inner: httpx.AsyncBaseTransport) -> None:
        self._inner = inner
        self._inside = 0
        self.most = 0

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        self._inside += 1
        self.most = max(self.most, self._inside)
        try:
            return await self._inner.handle_async_request(request)
        finally:
            self._inside -= 1

    async def aclose(self) -> None:
        await self._inner.aclose()


async def test_a_backlogged_prediction_sends_its_newest_logs_once_its_turn_comes() -> None:
    """A throttled `logs` delivery is built when a slot frees, not when it was due: with the
    receiver slow, later lines ride in that one delivery instead of queueing stale copies."""
    clock = ManualClock()
    bodies: list[dict[str, Any]] = []
    first_in, release = asyncio.Event(), asyncio.Event()

    async def receive(request: Request) -> Response:
        bodies.append(json.loads(await request.body()))
        if len(bodies) == 1:
            first_in.set()
            await release.wait()
        return Response(status_code=200)

    sender = WebhookSender(clock, WebhookScript(), at_once=1)
    sender.start()
    model = hosted_by_name("wan-video", "wan-2.2-s2v")
    assert model is not None
    record = PredictionRecord(id="p1", model=model, input={}, created_at=clock.now())
    record.status = RecordStatus.PROCESSING

    def prints(line: str) -> None:
        record.logs += line + "\n"
        record.log_times.append(clock.now())
        sender.event(record, target, "logs")

    async with serve_on_loop(Starlette(routes=[Route("/hook", receive, methods=["POST"])])) as port:
        target = WebhookTarget(f"http://127.0.0.1:{port}/hook", frozenset({"logs"}), Engine.base_url)
        prints("line 1")
        await first_in.wait()  # the one slot is taken
        prints("line 2")  # due in 0.5 s
        due = clock.now() + timedelta(seconds=0.5)
        await clock.sleeping_until(due)
        clock.advance(0.5)
        await asyncio.sleep(0)  # the due delivery now waits for the slot
        for number in range(3, 7):
            prints(f"line {number}")
        release.set()
        await asyncio.wait_for(sender.drained(), timeout=10)
        await sender.aclose()
    assert [body["logs"].count("\n") for body in bodies] == [1, 6]


async def test_a_backlog_of_logs_never_holds_a_start_back() -> None:
    clock = ManualClock()
    start_in, release = asyncio.Event(), asyncio.Event()
    logs_in = asyncio.Event()

    async def receive(request: Request) -> Response:
        body = json.loads(await request.body())
        if body["logs"]:
            logs_in.set()
            await release.wait()
        else:
            start_in.set()
        return Response(status_code=200)

    sender = WebhookSender(clock, WebhookScript(), at_once=1)
    sender.start()
    model = hosted_by_name("wan-video", "wan-2.2-s2v")
    assert model is not None
    busy, fresh = (
        PredictionRecord(id=name, model=model, input={}, created_at=clock.now()) for name in ("p1", "p2")
    )
    busy.status = fresh.status = RecordStatus.PROCESSING
    busy.logs, busy.log_times = "line 1\n", [clock.now()]
    async with serve_on_loop(Starlette(routes=[Route("/hook", receive, methods=["POST"])])) as port:
        target = WebhookTarget(f"http://127.0.0.1:{port}/hook", frozenset(EVENTS), Engine.base_url)
        sender.event(busy, target, "logs")
        await logs_in.wait()  # the logs lane's one slot is taken
        sender.event(fresh, target, "start")
        await asyncio.wait_for(start_in.wait(), timeout=10)
        release.set()
        await sender.drained()
        await sender.aclose()
    assert sender.sent == Counter({"logs 200": 1, "start 200": 1})
