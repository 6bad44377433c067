"""The client against the built-in engine over HTTP (in-process transport), scenario by scenario.

Each test asserts what could go wrong: how many requests reached the engine (its `requests`
counter), which waits the client asked for (recorded, not spent), which error type surfaced,
and what ended up on disk. Predictions are followed by polling, as the client is used: the
short pause between polls is the poll interval, not a wait for something an event could signal.
"""

from __future__ import annotations

import asyncio
import wave
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path
from typing import Any

import pytest

from demo_app.engine import GET_OUTPUT, Engine
from demo_app.replicate import (
    ConnectionDropped,
    InvalidInput,
    OutputUnavailable,
    Prediction,
    ReplicateClient,
    RetryPolicy,
    Status,
    Unauthorized,
    pick_video,
)
from tests.conftest import ENGINE_TOKEN, EngineFactory, LoopbackFactory
from tests.replicate.fakes import SleepRecorder

ENGINE_URL = Engine.base_url
ROOT = Path(__file__).resolve().parents[2]
FACE = ROOT / "assets" / "sample-face.png"
VOICE = ROOT / "assets" / "sample-voice.wav"
WAN = "wan-video/wan-2.2-s2v"
SADTALKER_VERSION = "3aa3dac9353cc4d6bd62a8f95957bd844003b401ca4e4a9b33baa574c549d376"

CREATE_BY_MODEL = ("POST", "/v1/models/{owner}/{name}/predictions")
CREATE_BY_VERSION = ("POST", "/v1/predictions")
LIST = ("GET", "/v1/predictions")
GET = ("GET", "/v1/predictions/{prediction_id}")
CANCEL = ("POST", "/v1/predictions/{prediction_id}/cancel")
UPLOAD = ("POST", "/v1/files")
MAX_VIDEO = 50_000_000

Open = Callable[..., Awaitable[tuple[Engine, ReplicateClient]]]


@pytest.fixture
async def on_engine(
    engine_factory: EngineFactory, sleeps: SleepRecorder, policy: RetryPolicy
) -> AsyncIterator[Open]:
    """Factory: a started engine with a scenario, and a client on its in-process transport."""
    clients: list[ReplicateClient] = []

    async def open_(
        scenario: str, *, client_token: str = ENGINE_TOKEN, **options: Any
    ) -> tuple[Engine, ReplicateClient]:
        engine = await engine_factory(scenario, **options)
        client = ReplicateClient(
            ENGINE_URL, client_token, transport=engine.transport(), retry=policy, sleep=sleeps
        )
        clients.append(client)
        return engine, client

    yield open_
    for client in clients:
        await client.aclose()


@pytest.fixture(scope="session")
def short_voice(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The first 0.6 s of the sample voice: small enough to go inline as a data: URL."""
    dest = tmp_path_factory.mktemp("voice") / "voice.wav"
    with wave.open(str(VOICE)) as reader, wave.open(str(dest), "wb") as writer:
        writer.setparams(reader.getparams())
        writer.writeframes(reader.readframes(int(reader.getframerate() * 0.6)))
    return dest


async def _inputs(
    client: ReplicateClient, voice: Path, *, inline_max_bytes: int = 256 * 1024
) -> dict[str, str]:
    """The sample face (uploaded: it is larger than the inline limit), the short voice and the
    prompt wan-2.2-s2v requires."""
    limit = inline_max_bytes
    return {
        "prompt": "A person talking.",
        "image": (await client.file_input(FACE, content_type="image/png", inline_max_bytes=limit)).url,
        "audio": (await client.file_input(voice, content_type="audio/wav", inline_max_bytes=limit)).url,
    }


async def _follow(client: ReplicateClient, prediction_id: str, *, within_s: float = 60.0) -> list[Prediction]:
    """Every state seen while polling until the prediction is terminal."""
    seen: list[Prediction] = []
    async with asyncio.timeout(within_s):
        while not seen or not seen[-1].is_terminal:
            if seen:
                await asyncio.sleep(0.02)
            seen.append(await client.get_prediction(prediction_id))
    return seen


def _names(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir() if not p.name.startswith("engine-"))


def _is_mp4(path: Path) -> bool:
    return path.read_bytes()[4:8] == b"ftyp"


async def test_normal_create_follow_download(
    on_engine: Open, short_voice: Path, tmp_path: Path, sleeps: SleepRecorder
) -> None:
    engine, client = await on_engine("normal")
    inputs = await _inputs(client, short_voice)
    assert inputs["image"].startswith(ENGINE_URL) and inputs["audio"].startswith("data:audio/wav;base64,")
    created = await client.create_prediction(model=WAN, input=inputs, cancel_after_s=600)
    assert created.status is Status.STARTING and created.input == inputs
    seen = await _follow(client, created.id)
    final = seen[-1]
    assert final.status is Status.SUCCEEDED
    fractions = [p.progress.fraction for p in seen if p.progress is not None]
    assert fractions == sorted(fractions) and fractions[-1] == 1.0
    assert final.predict_time is not None and final.completed_at is not None
    url = pick_video(final.output_urls)
    assert url is not None and url.startswith(ENGINE_URL)
    dest = tmp_path / "out" / "video.mp4"
    dest.parent.mkdir()
    size = await client.download(url, dest, max_bytes=MAX_VIDEO)
    assert size == dest.stat().st_size > 1000 and _is_mp4(dest)
    assert _names(dest.parent) == ["video.mp4"]
    assert engine.requests[UPLOAD] == 1 and engine.requests[CREATE_BY_MODEL] == 1
    assert engine.requests[GET] == len(seen)
    assert sleeps.waits == []


async def test_version_endpoint_with_uploaded_inputs(on_engine: Open, short_voice: Path) -> None:
    engine, client = await on_engine("normal")
    inputs = await _inputs(client, short_voice, inline_max_bytes=0)
    created = await client.create_prediction(
        version=SADTALKER_VERSION, input={"source_image": inputs["image"], "driven_audio": inputs["audio"]}
    )
    final = (await _follow(client, created.id))[-1]
    assert final.status is Status.SUCCEEDED and pick_video(final.output_urls) is not None
    assert engine.requests[UPLOAD] == 2 and engine.requests[CREATE_BY_VERSION] == 1


async def test_cold_start_stays_starting_then_runs(on_engine: Open, short_voice: Path) -> None:
    _engine, client = await on_engine("cold_start", time_scale=60.0)
    created = await client.create_prediction(model=WAN, input=await _inputs(client, short_voice))
    seen = await _follow(client, created.id)
    statuses = [p.status for p in seen]
    assert statuses[0] is Status.STARTING and statuses[-1] is Status.SUCCEEDED
    assert statuses.count(Status.STARTING) >= 2
    final = seen[-1]
    assert final.started_at is not None and final.created_at is not None
    assert (final.started_at - final.created_at).total_seconds() >= 29


async def test_slow_progress_is_seen_climbing(on_engine: Open, short_voice: Path) -> None:
    _engine, client = await on_engine("slow_progress", time_scale=100.0)
    created = await client.create_prediction(model=WAN, input=await _inputs(client, short_voice))
    seen = await _follow(client, created.id)
    fractions = [p.progress.fraction for p in seen if p.progress is not None]
    assert len(set(fractions)) >= 3
    assert fractions == sorted(fractions) and fractions[-1] == 1.0


async def test_failure_surfaces_the_error_text(
    on_engine: Open, short_voice: Path, sleeps: SleepRecorder
) -> None:
    _engine, client = await on_engine("failure")
    created = await client.create_prediction(model=WAN, input=await _inputs(client, short_voice))
    final = (await _follow(client, created.id))[-1]
    assert final.status is Status.FAILED and final.is_terminal
    assert final.error and "GPU memory" in final.error
    assert final.output_urls == [] and final.progress is not None and final.progress.fraction == 0.4
    assert sleeps.waits == []


async def test_upstream_cancel(on_engine: Open, short_voice: Path) -> None:
    engine, client = await on_engine("upstream_cancel")
    created = await client.create_prediction(model=WAN, input=await _inputs(client, short_voice))
    final = (await _follow(client, created.id))[-1]
    assert final.status is Status.CANCELED and final.output_urls == []
    assert engine.requests[CANCEL] == 0


async def test_aborted_by_its_deadline_before_starting(on_engine: Open, short_voice: Path) -> None:
    _engine, client = await on_engine("aborted")
    created = await client.create_prediction(
        model=WAN, input=await _inputs(client, short_voice), cancel_after_s=5
    )
    final = (await _follow(client, created.id))[-1]
    assert final.status is Status.ABORTED and final.is_terminal
    assert final.started_at is None and final.deadline is not None


async def test_stall_is_ended_by_a_cancel(on_engine: Open, short_voice: Path) -> None:
    engine, client = await on_engine("stall")
    created = await client.create_prediction(model=WAN, input=await _inputs(client, short_voice))
    running = await client.get_prediction(created.id)
    canceled = await client.cancel_prediction(created.id)
    assert canceled.status is Status.CANCELED
    assert (await client.get_prediction(created.id)).status is Status.CANCELED
    assert running.status in {Status.STARTING, Status.PROCESSING}
    assert engine.requests[CANCEL] == 1


async def test_stall_running_past_its_deadline_is_canceled(on_engine: Open, short_voice: Path) -> None:
    engine, client = await on_engine("stall")
    created = await client.create_prediction(
        model=WAN, input=await _inputs(client, short_voice), cancel_after_s=5
    )
    final = (await _follow(client, created.id))[-1]
    assert final.status is Status.CANCELED and final.started_at is not None
    assert engine.requests[CANCEL] == 0


async def test_rate_limit_burst_waits_as_told(
    on_engine: Open, short_voice: Path, sleeps: SleepRecorder
) -> None:
    engine, client = await on_engine("rate_limit_burst")
    created = await client.create_prediction(model=WAN, input=await _inputs(client, short_voice))
    assert engine.requests[CREATE_BY_MODEL] == 3 and engine.requests[LIST] == 0
    assert sleeps.waits == [1.0, 1.0]
    polled = await client.get_prediction(created.id)
    assert polled.id == created.id
    assert engine.requests[GET] == 3
    assert sleeps.waits == [1.0, 1.0, 1.0, 1.0]
    assert len([p async for p in client.list_predictions()]) == 1


async def test_server_error_burst_on_get_is_retried_with_backoff(
    on_engine: Open, short_voice: Path, sleeps: SleepRecorder
) -> None:
    engine, client = await on_engine("server_error_burst")
    created = await client.create_prediction(model=WAN, input=await _inputs(client, short_voice))
    assert engine.requests[CREATE_BY_MODEL] == 1 and sleeps.waits == []
    assert (await client.get_prediction(created.id)).id == created.id
    assert engine.requests[GET] == 3
    assert sleeps.waits == [0.5, 1.0]


async def test_drop_on_create_is_found_not_resent(
    on_engine: Open, short_voice: Path, sleeps: SleepRecorder
) -> None:
    engine, client = await on_engine("drop_on_create")
    inputs = await _inputs(client, short_voice)
    created = await client.create_prediction(model=WAN, input=inputs)
    assert created.input == inputs
    assert engine.requests[CREATE_BY_MODEL] == 1, "a create that arrived is never sent again"
    assert engine.requests[LIST] >= 1
    assert sleeps.waits == [0.5]
    listed = [p async for p in client.list_predictions()]
    assert [p.id for p in listed] == [created.id]


async def test_drop_on_get_is_retried(on_engine: Open, short_voice: Path, sleeps: SleepRecorder) -> None:
    engine, client = await on_engine("drop_on_get")
    created = await client.create_prediction(model=WAN, input=await _inputs(client, short_voice))
    assert (await client.get_prediction(created.id)).id == created.id
    assert engine.requests[GET] == 3
    assert sleeps.waits == [0.5, 1.0]


async def test_list_output(on_engine: Open, short_voice: Path, tmp_path: Path) -> None:
    _engine, client = await on_engine("list_output")
    created = await client.create_prediction(model=WAN, input=await _inputs(client, short_voice))
    final = (await _follow(client, created.id))[-1]
    assert isinstance(final.output, list) and len(final.output_urls) == 1
    url = pick_video(final.output_urls)
    assert url is not None
    assert await client.download(url, tmp_path / "v.mp4", max_bytes=MAX_VIDEO) > 1000
    assert _is_mp4(tmp_path / "v.mp4")


async def test_missing_output(on_engine: Open, short_voice: Path) -> None:
    _engine, client = await on_engine("missing_output")
    created = await client.create_prediction(model=WAN, input=await _inputs(client, short_voice))
    final = (await _follow(client, created.id))[-1]
    assert final.status is Status.SUCCEEDED and final.output is None
    assert final.output_urls == [] and pick_video(final.output_urls) is None


async def test_expired_output_is_unavailable(
    on_engine: Open, short_voice: Path, tmp_path: Path, sleeps: SleepRecorder
) -> None:
    _engine, client = await on_engine("expired_output")
    created = await client.create_prediction(model=WAN, input=await _inputs(client, short_voice))
    final = (await _follow(client, created.id))[-1]
    url = pick_video(final.output_urls)
    assert final.status is Status.SUCCEEDED and url is not None
    with pytest.raises(OutputUnavailable):
        await client.download(url, tmp_path / "v.mp4", max_bytes=MAX_VIDEO)
    assert _names(tmp_path) == []
    assert sleeps.waits == []


async def test_unauthorized(on_engine: Open, short_voice: Path, sleeps: SleepRecorder) -> None:
    engine, client = await on_engine("unauthorized")
    with pytest.raises(Unauthorized) as caught:
        await client.create_prediction(model=WAN, input={"image": "data:image/png;base64,AA", "audio": "x"})
    assert engine.requests[CREATE_BY_MODEL] == 1 and sleeps.waits == []
    assert ENGINE_TOKEN not in str(caught.value) and str(caught.value).startswith("401 ")
    with pytest.raises(Unauthorized):
        await client.upload_file(FACE, content_type="image/png")


async def test_wrong_token_is_refused(on_engine: Open, short_voice: Path) -> None:
    engine, client = await on_engine("normal", client_token="r8_not_the_engine_token")
    with pytest.raises(Unauthorized):
        await client.get_prediction("anything")
    assert engine.requests[GET] == 1


async def test_invalid_input_keeps_the_field_message(
    on_engine: Open, short_voice: Path, sleeps: SleepRecorder
) -> None:
    engine, client = await on_engine("invalid_input")
    with pytest.raises(InvalidInput) as caught:
        await client.create_prediction(model=WAN, input=await _inputs(client, short_voice))
    assert any("image" in field for field in caught.value.field_messages)
    assert engine.requests[CREATE_BY_MODEL] == 1 and sleeps.waits == []


async def test_missing_field_is_refused_by_name(on_engine: Open) -> None:
    _engine, client = await on_engine("normal")
    with pytest.raises(InvalidInput) as caught:
        await client.create_prediction(model=WAN, input={"image": "data:image/png;base64,AA"})
    assert any("audio" in field for field in caught.value.field_messages)


async def test_real_sockets_drop_on_create(
    loopback_engine: LoopbackFactory,
    short_voice: Path,
    tmp_path: Path,
    sleeps: SleepRecorder,
    policy: RetryPolicy,
) -> None:
    """uvicorn on loopback and the client's own pooled connections: a real cut after the create."""
    with loopback_engine("drop_on_create") as server:
        client = ReplicateClient(server.base_url, ENGINE_TOKEN, retry=policy, sleep=sleeps)
        try:
            created = await client.create_prediction(model=WAN, input=await _inputs(client, short_voice))
            final = (await _follow(client, created.id))[-1]
            url = pick_video(final.output_urls)
            assert final.status is Status.SUCCEEDED and url is not None and url.startswith(server.base_url)
            assert await client.download(url, tmp_path / "v.mp4", max_bytes=MAX_VIDEO) > 1000
        finally:
            await client.aclose()
    assert server.engine.requests[CREATE_BY_MODEL] == 1 and server.engine.requests[LIST] >= 1
    assert server.engine.requests[GET_OUTPUT] == 1
    assert sleeps.waits == [0.5]
    assert _is_mp4(tmp_path / "v.mp4")


async def test_real_sockets_drop_on_get(
    loopback_engine: LoopbackFactory, short_voice: Path, sleeps: SleepRecorder, policy: RetryPolicy
) -> None:
    with loopback_engine("drop_on_get") as server:
        client = ReplicateClient(server.base_url, ENGINE_TOKEN, retry=policy, sleep=sleeps)
        try:
            created = await client.create_prediction(model=WAN, input=await _inputs(client, short_voice))
            assert (await client.get_prediction(created.id)).id == created.id
        finally:
            await client.aclose()
    assert server.engine.requests[GET] == 3
    assert sleeps.waits == [0.5, 1.0]


async def test_real_sockets_drop_without_retries_is_a_connection_dropped(
    loopback_engine: LoopbackFactory, short_voice: Path
) -> None:
    with loopback_engine("drop_on_get") as server:
        client = ReplicateClient(server.base_url, ENGINE_TOKEN, retry=RetryPolicy(max_attempts=1))
        try:
            created = await client.create_prediction(model=WAN, input=await _inputs(client, short_voice))
            with pytest.raises(ConnectionDropped) as caught:
                await client.get_prediction(created.id)
        finally:
            await client.aclose()
    assert caught.value.maybe_sent and ENGINE_TOKEN not in str(caught.value)
