"""Predictions over HTTP, in-process: create, get, cancel, deadlines, `Prefer: wait`, auth, 404/422."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta
from pathlib import Path

import av
import httpx
import pytest

from demo_app.engine import Engine, RecordStatus
from demo_app.engine._routes import CREATE_BY_MODEL, GET_PREDICTION
from tests.conftest import ENGINE_TOKEN, EngineFactory
from tests.engine.fakes import ManualClock
from tests.engine.helpers import SADTALKER_VERSION, WAN_PATH, create, reach, record, settled, wan_input

Api = Callable[..., httpx.AsyncClient]


async def test_create_answers_201_with_replicates_shape(
    engine_factory: EngineFactory, api: Api, voice: Path
) -> None:
    engine = await engine_factory("stall")
    client = api(engine)
    inputs = await wan_input(client, voice)
    response = await client.post(WAN_PATH, json={"input": inputs})
    body = response.json()
    assert response.status_code == 201
    url = f"{Engine.base_url}/v1/predictions/{body['id']}"
    assert response.headers["location"] == url
    assert response.headers["ratelimit-remaining"] == "599"
    assert len(body["id"]) == 26 and body["id"].isalnum()
    assert body["urls"] == {"get": url, "cancel": f"{url}/cancel", "web": f"{Engine.base_url}/p/{body['id']}"}
    assert body["input"] == inputs  # as sent, without the defaults filled in
    assert {
        k: body[k]
        for k in ("model", "version", "status", "logs", "output", "error", "data_removed", "source")
    } == {
        "model": "wan-video/wan-2.2-s2v",
        "version": "hidden",
        "status": "starting",
        "logs": "",
        "output": None,
        "error": None,
        "data_removed": False,
        "source": "api",
    }
    assert "started_at" not in body and "completed_at" not in body and "deadline" not in body
    assert datetime.fromisoformat(body["created_at"]).tzinfo is not None


async def test_normal_prediction_renders_a_real_video(
    engine_factory: EngineFactory, api: Api, voice: Path
) -> None:
    engine = await engine_factory("normal")
    client = api(engine)
    created = await create(client, await wan_input(client, voice))
    body = await settled(engine, client, created["id"])

    assert body["status"] == "succeeded" and body["error"] is None
    assert body["output"].startswith(f"{Engine.base_url}/delivery/") and body["output"].endswith(".mp4")
    lines = body["logs"].splitlines()
    assert lines[0].startswith("Rendering a talking face at 25 fps")
    assert lines[-2].startswith("100%|██████████| 25/25 [")
    assert lines[-1].startswith("Face found at x=")
    assert sum("/25 [" in line for line in lines) >= 10  # a meter line per frame or so
    started, completed = (datetime.fromisoformat(body[k]) for k in ("started_at", "completed_at"))
    assert body["metrics"]["predict_time"] == pytest.approx((completed - started).total_seconds(), abs=1e-5)
    created_at = datetime.fromisoformat(body["created_at"])
    assert body["metrics"]["total_time"] == pytest.approx((completed - created_at).total_seconds(), abs=1e-5)

    video = await client.get(body["output"])
    assert video.status_code == 200 and video.headers["content-type"] == "video/mp4"
    path = Path(engine.runtime.run_dir) / "check.mp4"
    path.write_bytes(video.content)
    with av.open(str(path)) as container:
        assert container.streams.video[0].codec_context.name == "h264"
        assert container.streams.audio[0].codec_context.name == "aac"
        assert container.duration is not None
        assert container.duration / av.time_base == pytest.approx(1.0, abs=0.1)


async def test_version_endpoint_accepts_every_reference_form(engine_factory: EngineFactory, api: Api) -> None:
    engine = await engine_factory("stall")
    client = api(engine)
    data = "data:image/png;base64,iVBORw0KGgo="
    sadtalker = {"source_image": data, "driven_audio": "data:audio/wav;base64,UklGRg=="}
    for version, model_input, reported in [
        (SADTALKER_VERSION, sadtalker, SADTALKER_VERSION),
        (f"cjwbw/sadtalker:{SADTALKER_VERSION}", sadtalker, SADTALKER_VERSION),
        ("bytedance/omni-human", {"image": data, "audio": data}, "hidden"),
    ]:
        response = await client.post("/v1/predictions", json={"version": version, "input": model_input})
        assert response.status_code == 201, response.text
        assert response.json()["version"] == reported


async def test_unknown_version_and_non_official_model_endpoint(
    engine_factory: EngineFactory, api: Api
) -> None:
    client = api(await engine_factory())
    response = await client.post("/v1/predictions", json={"version": "0" * 64, "input": {}})
    assert response.status_code == 422
    assert response.headers["content-type"] == "application/problem+json"
    assert response.json()["title"] == "Invalid version or not permitted"

    response = await client.post("/v1/models/cjwbw/sadtalker/predictions", json={"input": {}})
    assert response.status_code == 404
    assert SADTALKER_VERSION in response.json()["detail"]


async def test_unknown_model_is_a_404_problem(engine_factory: EngineFactory, api: Api) -> None:
    response = await api(await engine_factory()).post("/v1/models/acme/lips/predictions", json={"input": {}})
    assert response.status_code == 404
    assert response.headers["content-type"] == "application/problem+json"
    body = response.json()
    assert (
        body["status"] == 404 and "acme/lips" in body["detail"] and "wan-video/wan-2.2-s2v" in body["detail"]
    )


async def test_missing_and_wrong_fields_answer_replicates_422(
    engine_factory: EngineFactory, api: Api
) -> None:
    engine = await engine_factory()
    client = api(engine)
    response = await client.post(
        WAN_PATH, json={"input": {"image": "http://x/y.png", "num_frames_per_chunk": 500}}
    )
    assert response.status_code == 422
    too_many = "Must be less than or equal to 121"
    assert response.json() == {
        "title": "Input validation failed",
        "detail": (
            "- input.prompt: prompt is required\n- input.audio: audio is required\n"
            f"- input.num_frames_per_chunk: {too_many}\n"
        ),
        "status": 422,
        "invalid_fields": [
            {"type": "required", "field": "input.prompt", "description": "prompt is required"},
            {"type": "required", "field": "input.audio", "description": "audio is required"},
            {"type": "number_lte", "field": "input.num_frames_per_chunk", "description": too_many},
        ],
    }
    response = await client.post(WAN_PATH, json={"input": "image.png"})
    assert response.status_code == 422
    assert response.json()["invalid_fields"][0]["field"] == "input"
    response = await client.post(WAN_PATH, content=b"{not json")
    assert response.status_code == 422 and response.json()["title"] == "Invalid JSON"
    assert engine.runtime.predictions == {}


@pytest.mark.parametrize(
    ("headers", "detail"),
    [
        ({}, "You did not pass an authentication token"),
        ({"Authorization": "Bearer r8_wrong"}, "You did not pass a valid authentication token"),
        ({"Authorization": f"Basic {ENGINE_TOKEN}"}, "You did not pass an authentication token"),
    ],
)
async def test_token_is_required(engine_factory: EngineFactory, headers: dict[str, str], detail: str) -> None:
    engine = await engine_factory()
    async with httpx.AsyncClient(
        transport=engine.transport(), base_url=Engine.base_url, headers=headers
    ) as client:
        for response in (
            await client.get("/v1/predictions"),
            await client.post(WAN_PATH, json={"input": {}}),
        ):
            assert response.status_code == 401
            assert response.headers["content-type"] == "application/problem+json"
            assert response.json() == {"title": "Unauthenticated", "detail": detail, "status": 401}
    assert engine.runtime.predictions == {}


async def test_older_token_scheme_is_accepted(engine_factory: EngineFactory) -> None:
    engine = await engine_factory()
    headers = {"Authorization": f"Token {ENGINE_TOKEN}"}
    async with httpx.AsyncClient(
        transport=engine.transport(), base_url=Engine.base_url, headers=headers
    ) as client:
        assert (await client.get("/v1/predictions")).status_code == 200


async def test_unknown_prediction_is_a_404(engine_factory: EngineFactory, api: Api) -> None:
    client = api(await engine_factory())
    for response in (
        await client.get("/v1/predictions/nope"),
        await client.post("/v1/predictions/nope/cancel"),
    ):
        assert response.status_code == 404
        assert response.json()["detail"] == "Prediction nope was not found."


async def test_cancel_while_processing_then_again(
    engine_factory: EngineFactory, api: Api, voice: Path
) -> None:
    engine = await engine_factory("stall")
    client = api(engine)
    created = await create(client, await wan_input(client, voice))
    await reach(engine, created["id"], lambda r: r.status is RecordStatus.PROCESSING)

    first = await client.post(f"/v1/predictions/{created['id']}/cancel")
    assert first.status_code == 200
    body = first.json()
    assert body["status"] == "canceled" and body["output"] is None and body["error"] is None
    assert {"predict_time", "total_time"} <= body["metrics"].keys()
    again = await client.post(f"/v1/predictions/{created['id']}/cancel")
    assert again.status_code == 200 and again.json() == body


async def test_cancel_after_success_changes_nothing(
    engine_factory: EngineFactory, api: Api, voice: Path
) -> None:
    engine = await engine_factory()
    client = api(engine)
    created = await create(client, await wan_input(client, voice))
    done = await settled(engine, client, created["id"])
    response = await client.post(f"/v1/predictions/{created['id']}/cancel")
    assert response.status_code == 200 and response.json() == done and done["status"] == "succeeded"


async def test_cancel_while_starting_is_canceled_not_aborted(
    engine_factory: EngineFactory, api: Api, voice: Path, manual_clock: ManualClock
) -> None:
    engine = await engine_factory("cold_start", clock=manual_clock)
    client = api(engine)
    created = await create(client, await wan_input(client, voice))
    body = (await client.post(f"/v1/predictions/{created['id']}/cancel")).json()
    assert body["status"] == "canceled" and "started_at" not in body
    assert "predict_time" not in body["metrics"]


async def test_deadline_before_start_aborts(
    engine_factory: EngineFactory, api: Api, voice: Path, manual_clock: ManualClock
) -> None:
    engine = await engine_factory("cold_start", clock=manual_clock)  # starting for 30 s
    client = api(engine)
    created = await create(client, await wan_input(client, voice), headers={"Cancel-After": "20s"})
    start = datetime.fromisoformat(created["created_at"])
    assert datetime.fromisoformat(created["deadline"]) == start + timedelta(seconds=20)
    await manual_clock.sleeping_until(start + timedelta(seconds=20), start + timedelta(seconds=30))
    manual_clock.advance(19.9)
    assert record(engine, created["id"]).status is RecordStatus.STARTING
    manual_clock.advance(0.1)
    body = await settled(engine, client, created["id"])
    assert body["status"] == "aborted" and "started_at" not in body
    assert body["metrics"] == {"total_time": 20.0}


async def test_deadline_while_running_cancels(
    engine_factory: EngineFactory, api: Api, voice: Path, manual_clock: ManualClock
) -> None:
    engine = await engine_factory("stall", clock=manual_clock)
    client = api(engine)
    created = await create(client, await wan_input(client, voice), headers={"Cancel-After": "1h30m45s"})
    start = datetime.fromisoformat(created["created_at"])
    await manual_clock.sleeping_until(start + timedelta(seconds=0.5), start + timedelta(seconds=5445))
    manual_clock.advance(1)
    await reach(engine, created["id"], lambda r: r.status is RecordStatus.PROCESSING)
    manual_clock.advance(5443)
    assert record(engine, created["id"]).status is RecordStatus.PROCESSING
    manual_clock.advance(1)
    body = await settled(engine, client, created["id"])
    assert body["status"] == "canceled"
    assert body["metrics"] == {"total_time": 5445.0, "predict_time": 5444.0}


@pytest.mark.parametrize(
    ("header", "fragment"), [("Cancel-After", "at least 5 seconds"), ("Prefer", "from 1 to 60")]
)
async def test_bad_headers_are_refused(
    engine_factory: EngineFactory, api: Api, header: str, fragment: str
) -> None:
    engine = await engine_factory()
    value = {"Cancel-After": "3s", "Prefer": "wait=0"}[header]
    data = "data:image/png;base64,AAAA"
    response = await api(engine).post(
        WAN_PATH,
        json={"input": {"prompt": "A person talking.", "image": data, "audio": data}},
        headers={header: value},
    )
    assert response.status_code == 422 and fragment in response.json()["detail"]
    assert engine.runtime.predictions == {}


async def test_prefer_wait_returns_the_finished_prediction(
    engine_factory: EngineFactory, api: Api, voice: Path
) -> None:
    engine = await engine_factory(time_scale=1.0)
    client = api(engine)
    response = await client.post(
        WAN_PATH, json={"input": await wan_input(client, voice)}, headers={"Prefer": "wait"}
    )
    assert response.status_code == 201
    assert response.headers["preference-applied"] == "wait=60"
    assert response.json()["status"] == "succeeded" and response.json()["output"].endswith(".mp4")
    assert engine.requests[GET_PREDICTION] == 0


async def test_prefer_wait_gives_up_after_n_seconds_with_202(
    engine_factory: EngineFactory, api: Api, voice: Path
) -> None:
    engine = await engine_factory("stall", time_scale=200.0)
    client = api(engine)
    response = await client.post(
        WAN_PATH, json={"input": await wan_input(client, voice)}, headers={"Prefer": "wait=5"}
    )
    body = response.json()
    assert response.status_code == 202 and response.headers["preference-applied"] == "wait=5"
    assert body["status"] == "processing"
    assert record(engine, body["id"]).terminal is False
    assert engine.requests[CREATE_BY_MODEL] == 1


async def test_web_page_shows_status_logs_and_video(
    engine_factory: EngineFactory, api: Api, voice: Path
) -> None:
    engine = await engine_factory()
    client = api(engine)
    created = await create(client, await wan_input(client, voice))
    body = await settled(engine, client, created["id"])
    async with httpx.AsyncClient(transport=engine.transport(), base_url=Engine.base_url) as anonymous:
        page = await anonymous.get(body["urls"]["web"])
    assert page.status_code == 200 and page.headers["content-type"].startswith("text/html")
    assert "<b>succeeded</b>" in page.text and f'<video src="{body["output"]}"' in page.text
    assert "100%|██████████| 25/25" in page.text


async def test_creating_before_start_is_a_readable_503(tmp_path: Path, api: Api) -> None:
    engine = Engine(token=ENGINE_TOKEN, data_dir=tmp_path)
    data = "data:image/png;base64,AAAA"
    response = await api(engine).post(
        WAN_PATH, json={"input": {"prompt": "A person talking.", "image": data, "audio": data}}
    )
    assert response.status_code == 503
    assert response.json()["detail"] == "The engine is not running yet; try again in a moment."
    await engine.aclose()
