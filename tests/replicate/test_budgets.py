"""The read and create budgets on the built-in engine over HTTP: a burst of calls of every kind
at once, each request stamped as it leaves for the engine and counted again where it arrives.

Each budget runs on its own virtual clock (minutes of pacing in milliseconds), and a request is
stamped with its budget's clock; the requests themselves are real.
"""

from __future__ import annotations

import asyncio
import wave
from pathlib import Path

import httpx
import pytest

from demo_app.engine import CREATES, Engine
from demo_app.replicate import Pacing, Prediction, ReplicateClient, Status, TokenBucket
from tests.conftest import ENGINE_TOKEN, EngineFactory
from tests.replicate.test_pacing import most_in_any_minute
from tests.virtual_time import VirtualTime

ROOT = Path(__file__).resolve().parents[2]
FACE = ROOT / "assets" / "sample-face.png"
WAN = "wan-video/wan-2.2-s2v"
READS_PER_MIN = 60
CREATES_PER_MIN = 12


class Stamped(httpx.AsyncBaseTransport):
    """The engine's transport, noting the (virtual) moment and the kind of each request sent."""

    def __init__(self, inner: httpx.AsyncBaseTransport, reads: VirtualTime, creates: VirtualTime) -> None:
        self.inner, self.reads, self.creates = inner, reads, creates
        self.sent: dict[str, list[float]] = {"create": [], "cancel": [], "poll": [], "other read": []}
        self.order: list[str] = []
        """The kind of every request, in the order they left."""

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        kind = _kind(request)
        self.sent[kind].append((self.creates if kind == "create" else self.reads).now)
        self.order.append("delete" if request.method == "DELETE" else kind)
        return await self.inner.handle_async_request(request)


def _kind(request: httpx.Request) -> str:
    path = request.url.path
    if request.method == "POST" and path.endswith("/predictions"):
        return "create"
    if path.endswith("/cancel"):
        return "cancel"
    if request.method == "GET" and path.startswith("/v1/predictions/"):
        return "poll"
    return "other read"


@pytest.fixture
def voice(tmp_path: Path) -> Path:
    """Half a second of the sample voice: small enough to go inline."""
    dest = tmp_path / "voice.wav"
    with wave.open(str(ROOT / "assets" / "sample-voice.wav")) as src, wave.open(str(dest), "wb") as dst:
        dst.setparams(src.getparams())
        dst.writeframes(src.readframes(src.getframerate() // 2))
    return dest


async def test_a_burst_of_every_kind_of_call_stays_within_both_budgets(
    engine_factory: EngineFactory, voice: Path
) -> None:
    engine = await engine_factory("stall")
    read_clock, create_clock = VirtualTime(), VirtualTime()
    wire = Stamped(engine.transport(), read_clock, create_clock)
    pacing = Pacing(
        reads=TokenBucket(READS_PER_MIN, clock=read_clock, sleep=read_clock.sleep),
        creates=TokenBucket(CREATES_PER_MIN, clock=create_clock, sleep=create_clock.sleep),
    )
    client = ReplicateClient(Engine.base_url, ENGINE_TOKEN, transport=wire, pacing=pacing)
    try:
        inputs = {
            "image": (await client.file_input(FACE, content_type="image/png")).url,
            "audio": (await client.file_input(voice, content_type="audio/wav")).url,
            "prompt": "A person talking.",
        }
        first = [await client.create_prediction(model=WAN, input=inputs) for _ in range(3)]

        async def page() -> int:
            pages = client.list_predictions()
            item = await anext(pages)
            await pages.aclose()
            return 1 if item else 0

        polls = [client.get_prediction(first[n % 3].id) for n in range(240)]
        others = [client.create_prediction(model=WAN, input=inputs) for _ in range(30)]
        uploads = [client.upload_file(FACE, content_type="image/png") for _ in range(8)]
        lists = [page() for _ in range(6)]
        burst = asyncio.gather(*polls, *others, *uploads, *lists)
        await asyncio.sleep(0)  # the burst is queued before the cancels arrive
        canceled = await asyncio.gather(*(client.cancel_prediction(p.id) for p in first))
        results = await burst
    finally:
        await client.aclose()

    # Nothing dropped: every call answered, and the engine saw each request exactly once.
    assert len(results) == 240 + 30 + 8 + 6 and all(r for r in results)
    assert all(isinstance(p, Prediction) for p in canceled)
    arrived_creates = sum(count for route, count in engine.requests.items() if route in CREATES)
    assert arrived_creates == len(wire.sent["create"]) == 33
    arrived_reads = sum(count for route, count in engine.requests.items() if route not in CREATES)
    reads = wire.sent["poll"] + wire.sent["cancel"] + wire.sent["other read"]
    assert arrived_reads == len(reads) == 1 + 240 + 8 + 6 + 3

    # Never above either budget in any sliding minute (the burst took minutes on the clock).
    assert read_clock.now > 4 * 60 and create_clock.now > 2 * 60
    assert most_in_any_minute(wire.sent["create"]) <= CREATES_PER_MIN
    assert most_in_any_minute(reads) <= READS_PER_MIN
    # The cancels did not wait behind the polls queued before them.
    assert max(wire.sent["cancel"]) < sorted(wire.sent["poll"])[10]


async def test_deletes_wait_for_every_poll_and_a_cancel_goes_first(engine_factory: EngineFactory) -> None:
    """Deletes of uploaded files are the read budget's spare calls: queued with a burst of polls,
    they are sent after every poll, a cancel goes before both, and every file is deleted."""
    engine = await engine_factory("stall")
    read_clock, create_clock = VirtualTime(), VirtualTime()
    wire = Stamped(engine.transport(), read_clock, create_clock)
    pacing = Pacing(
        reads=TokenBucket(READS_PER_MIN, clock=read_clock, sleep=read_clock.sleep),
        creates=TokenBucket(CREATES_PER_MIN, clock=create_clock, sleep=create_clock.sleep),
    )
    client = ReplicateClient(Engine.base_url, ENGINE_TOKEN, transport=wire, pacing=pacing)
    try:
        files = [await client.upload_file(FACE, content_type="image/png") for _ in range(6)]
        inputs = {"image": files[0].urls.get, "audio": files[1].urls.get, "prompt": "A person talking."}
        running = await client.create_prediction(model=WAN, input=inputs)
        deletes = [asyncio.create_task(client.delete_file(f.id)) for f in files]
        polls = [asyncio.create_task(client.get_prediction(running.id)) for _ in range(30)]
        await asyncio.sleep(0)  # the deletes and the polls wait before the cancel arrives
        canceled = await client.cancel_prediction(running.id)
        await asyncio.gather(*deletes, *polls)
    finally:
        await client.aclose()
    async with httpx.AsyncClient(
        base_url=Engine.base_url,
        transport=engine.transport(),
        headers={"Authorization": f"Bearer {ENGINE_TOKEN}"},
    ) as raw:
        left = (await raw.get("/v1/files")).json()["results"]

    assert canceled.status is Status.CANCELED
    burst = wire.order[7:]  # after the six uploads and the create
    assert burst.index("cancel") < burst.index("poll")
    last_poll = len(burst) - 1 - burst[::-1].index("poll")
    assert burst.index("delete") > last_poll, burst
    assert burst.count("delete") == 6 and burst.count("poll") == 30
    assert left == []
