"""The Files API, and the file inputs a prediction may reference (own files, data: URLs, not others)."""

from __future__ import annotations

import asyncio
import base64
import hashlib
from collections.abc import Callable
from datetime import datetime, timedelta
from pathlib import Path

import httpx
import pytest

from demo_app.engine import Engine
from tests.conftest import EngineFactory
from tests.engine.conftest import FACE
from tests.engine.fakes import ManualClock, quick_render
from tests.engine.helpers import WAN_PATH, create, settled, upload

Api = Callable[..., httpx.AsyncClient]


async def test_upload_get_download_list_delete(engine_factory: EngineFactory, api: Api) -> None:
    client = api(await engine_factory())
    content = FACE.read_bytes()
    response = await client.post(
        "/v1/files",
        files={"content": ("me.png", content, "image/png")},
        data={"metadata": '{"visitor": 7}'},
    )
    assert response.status_code == 201
    body = response.json()
    url = f"{Engine.base_url}/v1/files/{body['id']}"
    assert body["urls"] == {"get": url}
    assert (body["name"], body["content_type"], body["size"], body["metadata"]) == (
        "me.png",
        "image/png",
        len(content),
        {"visitor": 7},
    )
    assert body["checksums"] == {
        "sha256": hashlib.sha256(content).hexdigest(),
        "md5": hashlib.md5(content).hexdigest(),
    }
    created, expires = (datetime.fromisoformat(body[k]) for k in ("created_at", "expires_at"))
    assert expires - created == timedelta(hours=24)

    assert (await client.get(url)).json() == body
    download = await client.get(f"{url}/download")
    assert download.status_code == 200 and download.content == content
    assert download.headers["content-type"] == "image/png"
    assert [f["id"] for f in (await client.get("/v1/files")).json()["results"]] == [body["id"]]

    assert (await client.delete(url)).status_code == 204
    for response in (await client.get(url), await client.get(f"{url}/download"), await client.delete(url)):
        assert response.status_code == 404
        assert response.headers["content-type"] == "application/problem+json"


async def test_type_and_filename_fields_win_over_the_parts_own(
    engine_factory: EngineFactory, api: Api
) -> None:
    client = api(await engine_factory())
    response = await client.post(
        "/v1/files",
        files={"content": ("blob", b"RIFF", "application/octet-stream")},
        data={"type": "audio/wav", "filename": "voice.wav"},
    )
    assert (response.json()["content_type"], response.json()["name"]) == ("audio/wav", "voice.wav")


async def test_too_large_upload_is_413_and_keeps_nothing(engine_factory: EngineFactory, api: Api) -> None:
    engine = await engine_factory(max_upload_bytes=1024 * 1024)
    client = api(engine)
    response = await client.post("/v1/files", files={"content": ("big.bin", b"x" * (1024 * 1024 + 1), "x/y")})
    assert response.status_code == 413
    assert response.headers["content-type"] == "application/problem+json"
    assert response.json()["detail"] == "Files must be less than 1MB in size"
    assert (await client.get("/v1/files")).json()["results"] == []
    assert list((engine.runtime.run_dir / "files").iterdir()) == []


async def test_upload_needs_the_content_field_and_json_metadata(
    engine_factory: EngineFactory, api: Api
) -> None:
    client = api(await engine_factory())
    response = await client.post("/v1/files", files={"file": ("a.png", b"x", "image/png")})
    assert response.status_code == 422 and "content" in response.json()["detail"]
    response = await client.post("/v1/files", files={"content": ("a", b"x", "x/y")}, data={"metadata": "[1]"})
    assert response.status_code == 422


async def test_uploaded_files_expire_after_a_day(
    engine_factory: EngineFactory, api: Api, manual_clock: ManualClock
) -> None:
    engine = await engine_factory(clock=manual_clock)
    client = api(engine)
    url = await upload(client, FACE, "image/png")
    manual_clock.advance(24 * 3600 - 1)
    assert (await client.get(url)).status_code == 200
    manual_clock.advance(1)
    assert (await client.get(url)).status_code == 404
    assert list((engine.runtime.run_dir / "files").iterdir()) == []


async def test_data_urls_are_accepted_as_inputs(engine_factory: EngineFactory, api: Api, voice: Path) -> None:
    engine = await engine_factory()
    client = api(engine)
    inputs = {
        "prompt": "A person talking.",
        "image": "data:image/png;base64," + base64.b64encode(FACE.read_bytes()).decode(),
        "audio": "data:audio/wav;base64,"
        + base64.b64encode(await asyncio.to_thread(voice.read_bytes)).decode(),
    }
    body = await settled(engine, client, (await create(client, inputs))["id"])
    assert body["status"] == "succeeded", body["error"]


@pytest.mark.parametrize(
    ("audio", "error"),
    [
        ("https://example.com/voice.wav", "input.audio: cannot download a file from example.com"),
        ("http://engine.internal/v1/files/doesnotexist", "input.audio: the uploaded file was not found"),
        ("http://engine.internal/elsewhere/voice.wav", "is not a file URL of this engine"),
        ("data:audio/wav;base64,@@@", "input.audio: the data: URL is not valid base64"),
        ("data:audio/wav;base64", "input.audio: the data: URL has no comma"),
    ],
)
async def test_unreadable_inputs_fail_the_prediction_clearly(
    engine_factory: EngineFactory, api: Api, audio: str, error: str
) -> None:
    engine = await engine_factory(renderer=quick_render)
    client = api(engine)
    image = await upload(client, FACE, "image/png")
    body = await settled(
        engine,
        client,
        (await create(client, {"prompt": "A person talking.", "image": image, "audio": audio}))["id"],
    )
    assert body["status"] == "failed" and body["output"] is None
    assert error in body["error"]


async def test_a_file_from_another_engine_host_is_not_fetched(
    engine_factory: EngineFactory, api: Api, voice: Path
) -> None:
    engine = await engine_factory(renderer=quick_render)
    client = api(engine)
    image = await upload(client, FACE, "image/png")
    audio = (await upload(client, voice, "audio/wav")).replace("engine.internal", "engine.internal:8080")
    response = await client.post(
        WAN_PATH, json={"input": {"prompt": "A person talking.", "image": image, "audio": audio}}
    )
    body = await settled(engine, client, response.json()["id"])
    assert body["status"] == "failed" and "engine.internal:8080" in body["error"]
