"""Webhooks as Replicate sends them: signed deliveries of the prediction's JSON, to loopback only.

A create may name a `webhook` and a `webhook_events_filter` (`start`, `output`, `logs`,
`completed`; all four when absent). Each event POSTs the prediction as `GET` would show it,
signed the Standard Webhooks way (`webhook-id`, `webhook-timestamp`, `webhook-signature:
v1,<base64 HMAC-SHA256 of id.timestamp.body>`) with the key `GET /v1/webhooks/default/secret`
returns. `logs` and `output` are throttled to one per 500 ms (the newest state is sent);
`start` and `completed` always go; only the final one is retried, after a non-2xx or a broken
connection, with backoff. The scenario's `WebhookScript` may lose, repeat, delay, reorder or
mis-sign deliveries; an `aborted` prediction sends no `completed`. This engine refuses any
webhook address that is not on a loopback host.
"""

from __future__ import annotations

import asyncio
import base64
import functools
import hashlib
import hmac
import json
import logging
import secrets
import time
from collections import Counter
from collections.abc import Callable, Coroutine
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

import httpx

from demo_app.engine._clock import Clock
from demo_app.engine._predictions import PredictionRecord, RecordStatus
from demo_app.engine._problems import Problem
from demo_app.engine._scenarios import WebhookScript

logger = logging.getLogger(__name__)

EVENTS = ("start", "output", "logs", "completed")
STATUS_EVENTS = ("start", "completed")
THROTTLE_S = 0.5
"""Least clock time between two `logs`/`output` deliveries of one prediction."""
FINAL_RETRIES_S = (1.0, 2.0, 4.0)
"""Waits (clock seconds) before each retry of the final delivery."""
SEND_TIMEOUT_S = 5.0
SENDS_AT_ONCE = 16
"""Deliveries in flight at once in each lane (`start`/`completed`, and `logs`/`output`), and the
client's pool keeps as many connections. The rest wait their turn here: waiting inside
httpcore's pool instead, every assignment pass walks all waiting requests (encode/httpcore#1035),
and with a thousand predictions pushing logs that backlog took the engine's whole core while the
app's reads went unanswered. Few connections, because each pass also asks every connection of
the pool whether it expired (a socket poll each): with 128 a lane, a crowd's deliveries queued
here for seconds; a loopback receiver answers 16 at once faster than a crowd's 500 a second.
A backlog of logs never holds a start or an end back."""
KEEPALIVE_S = 2.0
"""How long an idle connection to a receiver is reused: well under uvicorn's 5 s, so the receiver
never closes one as a delivery is sent on it (which lost that delivery with a `ReadError`)."""


@dataclass(frozen=True)
class WebhookTarget:
    """Where and what a prediction pushes; `base_url` builds the URLs inside its JSON."""

    url: str
    events: frozenset[str]
    base_url: str


def webhook_target(body: dict[str, object], base_url: str) -> WebhookTarget | None:
    """The create body's webhook, checked; Problem(422) for one this engine will not send to."""
    url = body.get("webhook")
    if url is None:
        return None
    if not isinstance(url, str):
        raise Problem(422, "Invalid webhook", "webhook must be a URL string.")
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not _loopback(parts.hostname or ""):
        raise Problem(
            422,
            "Invalid webhook",
            "This engine sends webhooks to loopback addresses only (http://127.0.0.1:PORT/...).",
        )
    wanted = body.get("webhook_events_filter")
    if wanted is None:
        return WebhookTarget(url, frozenset(EVENTS), base_url)
    if not isinstance(wanted, list) or not all(isinstance(e, str) and e in EVENTS for e in wanted):
        detail = f"webhook_events_filter lists events from: {', '.join(EVENTS)}."
        raise Problem(422, "Invalid webhook_events_filter", detail)
    return WebhookTarget(url, frozenset(wanted), base_url)


def _loopback(host: str) -> bool:
    return host == "localhost" or host == "::1" or host.startswith("127.")


@dataclass(frozen=True)
class Body:
    """A delivery's JSON and what of the record it shows (noted as seen once it is answered 2xx)."""

    content: bytes
    record: PredictionRecord
    status: str
    lines: int


class WebhookSender:
    """Sends every prediction's webhooks; one per engine."""

    def __init__(
        self,
        clock: Clock,
        script: WebhookScript,
        *,
        at_once: int = SENDS_AT_ONCE,
        transport: httpx.AsyncBaseTransport | None = None,
    ) -> None:
        self.secret = "whsec_" + base64.b64encode(secrets.token_bytes(24)).decode()
        self._key = base64.b64decode(self.secret.removeprefix("whsec_"))
        self._clock = clock
        self._script = script
        self._http: httpx.AsyncClient | None = None
        self._at_once = at_once
        self._transport = transport
        self._lanes = {status: asyncio.Semaphore(at_once) for status in (True, False)}
        """Send slots by whether the event is a status change (`start`, `completed`)."""
        self._tasks: set[asyncio.Task[None]] = set()
        self._throttled: dict[str, float] = {}
        self._pending: set[str] = set()
        self._count: Counter[str] = Counter()
        self.sent: Counter[str] = Counter()
        """Deliveries by event and answer, e.g. `logs 200`, `completed 401`, `start lost`."""

    def start(self) -> None:
        if self._http is None:
            pool = len(self._lanes) * self._at_once
            limits = httpx.Limits(
                max_connections=pool, max_keepalive_connections=pool, keepalive_expiry=KEEPALIVE_S
            )
            self._http = httpx.AsyncClient(
                timeout=SEND_TIMEOUT_S, follow_redirects=False, limits=limits, transport=self._transport
            )

    async def drained(self) -> None:
        """Return once every delivery under way has been answered (or given up): `sent` is final."""
        while self._tasks:
            await asyncio.gather(*list(self._tasks), return_exceptions=True)

    async def aclose(self) -> None:
        for task in list(self._tasks):
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        if self._http is not None:
            await self._http.aclose()
            self._http = None

    def event(self, record: PredictionRecord, target: WebhookTarget, kind: str) -> None:
        """A prediction changed: deliver `kind` if its filter asks for it (throttled for logs)."""
        if record.terminal:
            self._throttled.pop(record.id, None)
            self._count.pop(record.id, None)
        if kind not in target.events or (kind == "completed" and record.status is RecordStatus.ABORTED):
            return  # like Replicate's `completed`, which names succeeded, failed and canceled only
        if kind in self._script.lose:
            self.sent[f"{kind} lost"] += 1
            return
        if kind in ("logs", "output"):
            if record.id in self._pending:
                return  # the throttled delivery already scheduled sends the newest state
            wait = self._throttled.get(record.id, 0.0) + THROTTLE_S - self._clock.now().timestamp()
            self._pending.add(record.id)
            self._spawn(self._later(record, target, kind, max(0.0, wait)))
            return
        body = self._body(record, target)
        final = kind == "completed"
        self._spawn(self._deliver(target, kind, body, final=final, number=self._number(record)))

    async def _later(self, record: PredictionRecord, target: WebhookTarget, kind: str, wait: float) -> None:
        if wait:
            await self._clock.sleep(wait)
        number = self._number(record)
        build = functools.partial(self._newest, record, target)
        # Built when its turn to be sent comes, so a backlog sends the newest state (one waiting
        # delivery per prediction); built now if the scenario holds it back to arrive late.
        body = build() if self._held_back_s(number, final=False) else build
        if body is not None:
            await self._deliver(target, kind, body, final=False, number=number)

    def _newest(self, record: PredictionRecord, target: WebhookTarget) -> Body | None:
        """The record as it is now for a throttled delivery; None once it ended (`completed` says so)."""
        self._pending.discard(record.id)
        if record.terminal:
            return None
        self._throttled[record.id] = self._clock.now().timestamp()
        return self._body(record, target)

    def _number(self, record: PredictionRecord) -> int:
        """This delivery's place among the prediction's deliveries (0 first)."""
        number = self._count[record.id]
        if not record.terminal:
            self._count[record.id] += 1
        return number

    def _body(self, record: PredictionRecord, target: WebhookTarget) -> Body:
        content = json.dumps(record.to_json(target.base_url), separators=(",", ":")).encode()
        return Body(content, record, record.status.value, len(record.log_times))

    def _spawn(self, work: Coroutine[Any, Any, None]) -> None:
        task = asyncio.create_task(work)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    def _held_back_s(self, number: int, *, final: bool) -> float:
        """How long the scenario holds this delivery back (late, or overtaken by the next one)."""
        script = self._script
        return script.delay_s + (script.reorder_s if not final and number % 2 == 0 else 0.0)

    async def _deliver(
        self,
        target: WebhookTarget,
        kind: str,
        wanted: Body | Callable[[], Body | None],
        *,
        final: bool,
        number: int,
    ) -> None:
        delay = self._held_back_s(number, final=final)
        if delay:
            await self._clock.sleep(delay)
        webhook_id = "msg_" + secrets.token_urlsafe(12)
        body = wanted if isinstance(wanted, Body) else None
        for attempt in range(len(FINAL_RETRIES_S) + 1 if final else 1):
            if attempt:
                await self._clock.sleep(FINAL_RETRIES_S[attempt - 1])
            async with self._lanes[kind in STATUS_EVENTS]:  # signed at its turn, never stale
                if body is None:
                    body = wanted() if callable(wanted) else wanted
                    if body is None:
                        return
                content = body.content
                answers = [
                    await self._signed_post(target.url, webhook_id, content)
                    for _ in range(self._script.copies)
                ]
            for answer in answers:
                self.sent[f"{kind} {answer}"] += 1
            if any(isinstance(a, int) and 200 <= a < 300 for a in answers):
                body.record.shown_upto(body.status, body.lines, self._clock.now())
                body.record.logs_pushed += kind in ("logs", "output")
                return

    async def _signed_post(self, url: str, webhook_id: str, body: bytes) -> int | str:
        assert self._http is not None
        stamp = str(int(time.time()))
        key = secrets.token_bytes(len(self._key)) if self._script.bad_signature else self._key
        digest = hmac.new(key, f"{webhook_id}.{stamp}.".encode() + body, hashlib.sha256).digest()
        headers = {
            "content-type": "application/json",
            "webhook-id": webhook_id,
            "webhook-timestamp": stamp,
            "webhook-signature": "v1," + base64.b64encode(digest).decode(),
        }
        try:
            response = await self._http.post(url, content=body, headers=headers)
        except httpx.HTTPError as exc:
            logger.info("webhook to %s failed: %s %s", url, type(exc).__name__, exc)
            return "unreachable"
        return response.status_code
