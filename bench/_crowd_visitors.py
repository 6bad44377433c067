"""The crowd: visitors arriving at a steady rate, each uploading the sample files and calling
`/generate` over Gradio's browser queue protocol, then watching its stream to the end.

Each visitor keeps what it saw and when (`time.time()` at arrival of each message; the engine's
clock is the same machine's): the job's status and log-based progress per update, the job and
prediction ids, and how it ended. Streamed values after the first are diffs, applied as
`gradio_client` does. Each visitor keeps its own cookies, as a browser does (one connection pool
for all): behind a balancer its SERVERID cookie keeps its upload, join and stream on one replica.
"""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import httpx
from gradio_client.utils import apply_diff

from bench._queue import FACE, MODEL, VOICE, event_messages, fn_index, upload_async
from demo_app.visitors import KeyRing

STREAM_TIMEOUT = httpx.Timeout(60.0, read=600.0)


@dataclass(frozen=True)
class Frame:
    """One update a visitor received: when, the job's status, and its progress from the logs."""

    at: float
    status: str
    progress: float | None
    made_at: float | None = None
    """When the app took the snapshot: its `created_at` plus its `elapsed_s` (to 0.1 s)."""


@dataclass
class Visit:
    index: int
    owner: str
    joined_at: float = 0.0
    job_id: str | None = None
    prediction_id: str | None = None
    frames: list[Frame] = field(default_factory=list)
    final_status: str | None = None
    final_words: str = ""
    """What the last update said (the error, else the message): why a job did not succeed."""
    error: str | None = None
    served_by: str = ""
    """The replica the balancer kept this visitor on (its SERVERID cookie); "" when reached directly."""

    @property
    def done(self) -> bool:
        return self.error is None and self.final_status == "succeeded"

    def saw(self, at: float, snapshot: dict[str, Any]) -> None:
        self.job_id = snapshot.get("job_id") or self.job_id
        self.prediction_id = snapshot.get("prediction_id") or self.prediction_id
        self.final_words = str(snapshot.get("error") or snapshot.get("message") or "")
        from_logs = snapshot.get("progress_source") == "logs"
        progress = snapshot.get("progress") if from_logs else None
        self.frames.append(Frame(at, str(snapshot.get("status")), progress, _made_at(snapshot)))


def _made_at(snapshot: dict[str, Any]) -> float | None:
    """When the app took `snapshot` (epoch seconds), told by its creation time and elapsed seconds."""
    try:
        created = datetime.fromisoformat(str(snapshot["created_at"])).timestamp()
        return created + float(snapshot["elapsed_s"])
    except (KeyError, TypeError, ValueError):
        return None


@dataclass
class Crowd:
    visits: list[Visit]
    began: float
    ended: float
    client_lag_ms: list[float]
    """The driver's own event-loop lag: arrival times are late by about this much."""


async def visit(http: httpx.AsyncClient, fn: int, key: str, files: tuple[bytes, bytes], one: Visit) -> None:
    """Upload, call /generate, follow every update to the end; any failure is the visit's error."""
    try:
        image, audio = await upload_async(http, *files)
        one.joined_at = time.time()
        value: Any = None
        async for at, message in event_messages(
            http, fn, [key, image, audio, MODEL, "{}", "{}"], f"crowd{one.index:05d}"
        ):
            kind = message.get("msg")
            if kind == "process_generating":
                data = message["output"]["data"][0]
                value = data if value is None else apply_diff(value, data)
                one.saw(at, value)
            elif kind == "process_completed":
                output = message.get("output") or {}
                if not message.get("success"):
                    one.error = str(output.get("error") or "failed without a message")
                    return
                final = (output.get("data") or [None])[0]
                if isinstance(final, dict):
                    if not one.frames or final != value:
                        one.saw(at, final)
                    one.final_status = str(final.get("status"))
    except (httpx.HTTPError, RuntimeError, KeyError, ValueError) as exc:
        one.error = f"{_stage(one)}: {type(exc).__name__}: {exc}"
    finally:
        one.served_by = http.cookies.get("SERVERID") or ""


def _stage(one: Visit) -> str:
    """Where a visit failed, told by what it had got by then."""
    if not one.joined_at:
        return "upload"
    return f"after {len(one.frames)} updates" if one.frames else "join or stream, before any update"


async def _ticker(lags: list[float], stop: asyncio.Event, period_s: float = 0.1) -> None:
    while not stop.is_set():
        asked = time.perf_counter()
        await asyncio.sleep(period_s)
        lags.append(max(0.0, time.perf_counter() - asked - period_s) * 1000)


async def drive(url: str, key_secret: str, visitors: int, rate: float) -> Crowd:
    """`visitors` visitors, joining `rate` per second, each through to the end of their job."""
    keys = KeyRing(key_secret.encode())
    files = (FACE.read_bytes(), VOICE.read_bytes())
    limits = httpx.Limits(max_connections=None, max_keepalive_connections=visitors + 10, keepalive_expiry=2.0)
    async with httpx.AsyncHTTPTransport(limits=limits) as pool:

        def browser() -> httpx.AsyncClient:
            """A visitor's own cookie jar on the shared pool (closing the pool closes it)."""
            return httpx.AsyncClient(base_url=url, timeout=STREAM_TIMEOUT, transport=pool)

        fn = await fn_index(browser(), "generate")
        visits = [Visit(i, f"browser:crowd-{i:05d}") for i in range(visitors)]
        stop, lags = asyncio.Event(), list[float]()
        ticker = asyncio.create_task(_ticker(lags, stop))
        began = time.time()
        tasks = []
        for one in visits:
            await asyncio.sleep(max(0.0, began + one.index / rate - time.time()))
            tasks.append(asyncio.create_task(visit(browser(), fn, keys.key_for(one.owner), files, one)))
        await asyncio.gather(*tasks)
        ended = time.time()
        stop.set()
        await ticker
    return Crowd(visits, began, ended, lags)
