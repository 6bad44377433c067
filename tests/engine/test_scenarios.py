"""Every scenario over HTTP, in-process: what the client sees on the wire and in the prediction."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta
from pathlib import Path

import httpx
import pytest

from demo_app.engine import SCENARIOS, RecordStatus, make_scenario
from demo_app.engine._predictions import PredictionRecord
from demo_app.engine._routes import CREATE_BY_MODEL, CREATE_BY_VERSION, GET_PREDICTION, LIST_PREDICTIONS
from demo_app.engine._scenarios import ColdStart, DropOnGet, RateLimitFirst, ServerErrorFirst, SlowProgress
from demo_app.replicate import parse_progress
from tests.conftest import EngineFactory
from tests.engine.fakes import ManualClock, quick_render
from tests.engine.helpers import SADTALKER_VERSION, WAN_PATH, create, reach, record, settled, wan_input

Api = Callable[..., httpx.AsyncClient]
CONTRACT_NAMES = [
    *("normal", "cold_start", "slow_progress", "failure", "model_fails", "upstream_cancel", "aborted"),
    "rate_limit_burst",
    *("server_error_burst", "drop_on_create", "drop_on_get", "list_output", "missing_output"),
    *("padded_output", "expired_output", "unauthorized", "invalid_input", "stall", "schema_drift"),
    *("webhooks_duplicated", "webhooks_out_of_order", "webhooks_lost", "webhooks_badly_signed"),
    "webhooks_late",
    "ready_clip",
    "fail_nth",
]


def _shows(text: str) -> Callable[[PredictionRecord], bool]:
    return lambda prediction: text in prediction.logs


def test_the_scenarios_are_exactly_the_contracts() -> None:
    assert sorted(SCENARIOS) == sorted(CONTRACT_NAMES)
    assert all(make_scenario(name).name == name for name in CONTRACT_NAMES)
    with pytest.raises(ValueError, match="Unknown engine scenario 'nope'; choose one of: normal, cold_start"):
        make_scenario("nope")


async def test_cold_start_stays_starting_then_runs(
    engine_factory: EngineFactory, api: Api, voice: Path, manual_clock: ManualClock
) -> None:
    engine = await engine_factory(ColdStart(seconds=90), clock=manual_clock, renderer=quick_render)
    client = api(engine)
    created = await create(client, await wan_input(client, voice))
    await manual_clock.sleeping_until(datetime.fromisoformat(created["created_at"]) + timedelta(seconds=90))
    manual_clock.advance(89)
    assert (await client.get(f"/v1/predictions/{created['id']}")).json()["status"] == "starting"
    manual_clock.advance(1)
    body = await settled(engine, client, created["id"])
    assert body["status"] == "succeeded"
    started = datetime.fromisoformat(body["started_at"]) - datetime.fromisoformat(body["created_at"])
    assert started == timedelta(seconds=90)


async def test_slow_progress_spaces_the_lines(
    engine_factory: EngineFactory, api: Api, voice: Path, manual_clock: ManualClock
) -> None:
    engine = await engine_factory(SlowProgress(pace_s=10), clock=manual_clock, renderer=quick_render)
    client = api(engine)
    created = await create(client, await wan_input(client, voice))
    prediction = record(engine, created["id"])
    await manual_clock.sleeping_until(datetime.fromisoformat(created["created_at"]) + timedelta(seconds=0.5))
    manual_clock.advance(0.5)
    seen = []
    for step in range(1, 6):
        await prediction.wait_until(_shows(f"{step}/5 ["))
        progress = parse_progress(prediction.logs)
        assert progress is not None
        seen.append(progress.fraction)
        if step < 5:  # the last line and the success come together
            assert prediction.status is RecordStatus.PROCESSING
            await manual_clock.sleeping_until(manual_clock.now() + timedelta(seconds=10))
            manual_clock.advance(10)
    assert seen == [0.2, 0.4, 0.6, 0.8, 1.0]
    body = await settled(engine, client, created["id"])
    assert body["status"] == "succeeded" and body["metrics"]["predict_time"] == 40.0


async def test_ready_clip_serves_the_clip_on_the_load_test_timing_and_says_when(
    engine_factory: EngineFactory, api: Api, voice: Path, manual_clock: ManualClock, tmp_path: Path
) -> None:
    clip = tmp_path / "clip.mp4"
    clip.write_bytes(b"\x00\x00\x00\x18ftypisom ready clip")
    engine = await engine_factory("ready_clip", clock=manual_clock, ready_clip=clip)
    client = api(engine)
    created = await create(client, await wan_input(client, voice))
    began = datetime.fromisoformat(created["created_at"])
    await manual_clock.sleeping_until(began + timedelta(seconds=3))
    manual_clock.advance(3)
    for step in range(40):  # a line every 0.5 s for 20 s
        await manual_clock.sleeping_until(began + timedelta(seconds=3 + (step + 1) * 0.5))
        assert record(engine, created["id"]).status is RecordStatus.PROCESSING
        manual_clock.advance(0.5)
    body = await settled(engine, client, created["id"])
    assert body["status"] == "succeeded" and body["metrics"]["predict_time"] == 20.0
    assert (await client.get(body["output"])).content == clip.read_bytes()
    progress = parse_progress(body["logs"])
    assert progress is not None and (progress.current, progress.total) == (40, 40)

    stats = (await client.get("/_engine/stats")).json()
    assert {kind: len(times) for kind, times in stats["requests"].items()} == {
        "create": 1,
        "read": 3,  # two uploads and the GET
        "delivery": 1,
    }
    (timeline,) = stats["predictions"]
    start = began.timestamp() + 3
    assert (timeline["id"], timeline["started_at"], timeline["completed_at"]) == (
        created["id"],
        start,
        start + 20,
    )
    assert [moment for moment, _, _ in timeline["logs"]] == [start + step * 0.5 for step in range(41)]
    # What a client was told, and when: the create's answer, then the GET after the end.
    assert timeline["status_shown"] == {"starting": began.timestamp(), "succeeded": start + 20}
    assert {shown for _, _, shown in timeline["logs"]} == {start + 20}
    assert timeline["logs"][20][1].startswith(" 50%|")
    assert (await api(engine, token=None).get("/_engine/stats")).status_code == 401


async def test_ready_clip_needs_a_clip(engine_factory: EngineFactory) -> None:
    with pytest.raises(ValueError, match="ready_clip scenario needs an MP4 to serve"):
        await engine_factory("ready_clip")


async def test_failure_prints_progress_then_fails(
    engine_factory: EngineFactory, api: Api, voice: Path
) -> None:
    engine = await engine_factory("failure", time_scale=1000.0)
    client = api(engine)
    body = await settled(engine, client, (await create(client, await wan_input(client, voice)))["id"])
    assert body["status"] == "failed" and body["output"] is None
    assert body["error"].startswith("The model ran out of GPU memory")
    progress = parse_progress(body["logs"])
    assert progress is not None and progress.fraction == 0.4
    assert body["metrics"]["predict_time"] > 0


async def test_upstream_cancel(engine_factory: EngineFactory, api: Api, voice: Path) -> None:
    engine = await engine_factory("upstream_cancel", time_scale=1000.0)
    client = api(engine)
    body = await settled(engine, client, (await create(client, await wan_input(client, voice)))["id"])
    assert (body["status"], body["output"], body["error"]) == ("canceled", None, None)
    assert "started_at" in body and body["logs"]


async def test_aborted_without_a_deadline_after_the_queue_time_out(
    engine_factory: EngineFactory, api: Api, voice: Path, manual_clock: ManualClock
) -> None:
    engine = await engine_factory("aborted", clock=manual_clock)
    client = api(engine)
    created = await create(client, await wan_input(client, voice))
    await manual_clock.sleeping_until(datetime.fromisoformat(created["created_at"]) + timedelta(seconds=60))
    manual_clock.advance(59)
    assert record(engine, created["id"]).status is RecordStatus.STARTING
    manual_clock.advance(1)
    body = await settled(engine, client, created["id"])
    assert (
        body["status"] == "aborted" and "started_at" not in body and body["metrics"] == {"total_time": 60.0}
    )


async def test_aborted_at_the_deadline(
    engine_factory: EngineFactory, api: Api, voice: Path, manual_clock: ManualClock
) -> None:
    engine = await engine_factory("aborted", clock=manual_clock)
    client = api(engine)
    created = await create(client, await wan_input(client, voice), headers={"Cancel-After": "10"})
    await manual_clock.sleeping_until(datetime.fromisoformat(created["created_at"]) + timedelta(seconds=10))
    manual_clock.advance(10)
    body = await settled(engine, client, created["id"])
    assert body["status"] == "aborted" and body["completed_at"] == body["deadline"]


async def test_rate_limit_burst_on_create_and_get(
    engine_factory: EngineFactory, api: Api, voice: Path
) -> None:
    engine = await engine_factory(RateLimitFirst(n=2, retry_after_s=3))
    client = api(engine)
    inputs = await wan_input(client, voice)
    answers = [await client.post(WAN_PATH, json={"input": inputs}) for _ in range(3)]
    assert [a.status_code for a in answers] == [429, 429, 201]
    assert answers[0].headers["retry-after"] == "3"
    assert answers[0].json() == {
        "title": "Request was throttled",
        "detail": "Request was throttled. Your rate limit resets in ~3s.",
        "status": 429,
    }
    assert len(engine.runtime.predictions) == 1
    url = f"/v1/predictions/{answers[2].json()['id']}"
    assert [(await client.get(url)).status_code for _ in range(3)] == [429, 429, 200]
    assert (await client.get("/v1/predictions")).status_code == 200  # not aimed at
    assert engine.requests[CREATE_BY_MODEL] == 3 and engine.requests[GET_PREDICTION] == 3


async def test_server_error_burst_on_get(engine_factory: EngineFactory, api: Api, voice: Path) -> None:
    engine = await engine_factory(ServerErrorFirst(n=3))
    client = api(engine)
    created = await create(client, await wan_input(client, voice))
    answers = [await client.get(f"/v1/predictions/{created['id']}") for _ in range(4)]
    assert [a.status_code for a in answers] == [500, 502, 503, 200]
    assert answers[0].headers["content-type"] == "application/problem+json"
    assert answers[2].json()["title"] == "Service Unavailable"


async def test_drop_on_create_creates_then_drops(
    engine_factory: EngineFactory, api: Api, voice: Path
) -> None:
    engine = await engine_factory("drop_on_create")
    client = api(engine)
    inputs = await wan_input(client, voice)
    with pytest.raises(httpx.RemoteProtocolError):
        await client.post(WAN_PATH, json={"input": inputs})
    listed = (await client.get("/v1/predictions")).json()["results"]
    assert [p["input"] for p in listed] == [inputs]  # it was created: find it by its input
    second = await client.post(WAN_PATH, json={"input": inputs})
    assert second.status_code == 201
    assert engine.requests[CREATE_BY_MODEL] == 2 and engine.requests[LIST_PREDICTIONS] == 1


async def test_drop_on_create_applies_to_the_version_endpoint(
    engine_factory: EngineFactory, api: Api
) -> None:
    engine = await engine_factory("drop_on_create")
    data = "data:image/png;base64,AAAA"
    with pytest.raises(httpx.RemoteProtocolError):
        await api(engine).post(
            "/v1/predictions",
            json={"version": SADTALKER_VERSION, "input": {"source_image": data, "driven_audio": data}},
        )
    assert len(engine.runtime.predictions) == 1 and engine.requests[CREATE_BY_VERSION] == 1


async def test_refused_create_is_not_dropped(engine_factory: EngineFactory, api: Api) -> None:
    engine = await engine_factory("drop_on_create")
    response = await api(engine).post(WAN_PATH, json={"input": {}})
    assert response.status_code == 422


async def test_drop_on_get(engine_factory: EngineFactory, api: Api, voice: Path) -> None:
    engine = await engine_factory(DropOnGet(n=2))
    client = api(engine)
    created = await create(client, await wan_input(client, voice))
    for _ in range(2):
        with pytest.raises(httpx.RemoteProtocolError):
            await client.get(f"/v1/predictions/{created['id']}")
    assert (await client.get(f"/v1/predictions/{created['id']}")).status_code == 200
    assert engine.requests[GET_PREDICTION] == 3


async def test_list_output(engine_factory: EngineFactory, api: Api, voice: Path) -> None:
    engine = await engine_factory("list_output", renderer=quick_render)
    client = api(engine)
    body = await settled(engine, client, (await create(client, await wan_input(client, voice)))["id"])
    assert isinstance(body["output"], list) and len(body["output"]) == 1
    assert (await client.get(body["output"][0])).status_code == 200


async def test_missing_output(engine_factory: EngineFactory, api: Api, voice: Path) -> None:
    engine = await engine_factory("missing_output", renderer=quick_render)
    client = api(engine)
    body = await settled(engine, client, (await create(client, await wan_input(client, voice)))["id"])
    assert (body["status"], body["output"], body["data_removed"]) == ("succeeded", None, False)


async def test_expired_output(engine_factory: EngineFactory, api: Api, voice: Path) -> None:
    engine = await engine_factory("expired_output", renderer=quick_render)
    client = api(engine)
    body = await settled(engine, client, (await create(client, await wan_input(client, voice)))["id"])
    assert body["status"] == "succeeded" and body["data_removed"] is False
    assert (await client.get(body["output"])).status_code == 410


async def test_unauthorized_refuses_the_right_token(engine_factory: EngineFactory, api: Api) -> None:
    engine = await engine_factory("unauthorized")
    client = api(engine)
    for response in (
        await client.get("/v1/predictions"),
        await client.post("/v1/files", files={"content": ("a", b"x", "x/y")}),
        await client.post(WAN_PATH, json={"input": {}}),
    ):
        assert response.status_code == 401
        assert response.json()["detail"] == "You did not pass a valid authentication token"
    assert engine.runtime.predictions == {}


async def test_invalid_input_refuses_a_valid_create(engine_factory: EngineFactory, api: Api) -> None:
    engine = await engine_factory("invalid_input")
    data = "data:image/png;base64,AAAA"
    response = await api(engine).post(
        "/v1/predictions",
        json={"version": SADTALKER_VERSION, "input": {"source_image": data, "driven_audio": data}},
    )
    assert response.status_code == 422
    assert response.json()["invalid_fields"] == [
        {"type": "format", "field": "input.source_image", "description": "Does not match format 'uri'"}
    ]
    assert engine.runtime.predictions == {}


async def test_stall_stays_processing_until_canceled(
    engine_factory: EngineFactory, api: Api, voice: Path, manual_clock: ManualClock
) -> None:
    engine = await engine_factory("stall", clock=manual_clock)
    client = api(engine)
    created = await create(client, await wan_input(client, voice))
    await manual_clock.sleeping_until(datetime.fromisoformat(created["created_at"]) + timedelta(seconds=0.5))
    manual_clock.advance(10 * 3600)
    await reach(engine, created["id"], lambda r: r.status is RecordStatus.PROCESSING)
    assert (await client.get(f"/v1/predictions/{created['id']}")).json()["status"] == "processing"
    canceled = (await client.post(f"/v1/predictions/{created['id']}/cancel")).json()
    assert canceled["status"] == "canceled"
