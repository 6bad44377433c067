"""The engine under uvicorn on a loopback port: real sockets, real dropped connections."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path
from typing import Any

import httpx
import pytest

from demo_app.engine._routes import CREATE_BY_MODEL, GET_PREDICTION
from demo_app.engine._server import LoopbackServer
from tests.conftest import ENGINE_TOKEN, LoopbackFactory
from tests.engine.fakes import quick_render
from tests.engine.helpers import WAN_PATH, wan_input

Opener = Callable[..., Awaitable[tuple[LoopbackServer, httpx.AsyncClient]]]


@pytest.fixture
async def over_loopback(loopback_engine: LoopbackFactory) -> AsyncIterator[Opener]:
    """Factory: a served engine for a scenario and a client to it; both closed after the test."""
    async with contextlib.AsyncExitStack() as stack:

        async def open_(scenario: str, **options: Any) -> tuple[LoopbackServer, httpx.AsyncClient]:
            server = stack.enter_context(loopback_engine(scenario, **options))
            headers = {"Authorization": f"Bearer {ENGINE_TOKEN}"}
            client = await stack.enter_async_context(
                httpx.AsyncClient(base_url=server.base_url, headers=headers)
            )
            return server, client

        yield open_


async def test_create_wait_download_over_real_http(over_loopback: Opener, voice: Path) -> None:
    server, client = await over_loopback("normal", time_scale=1.0)
    response = await client.post(
        WAN_PATH, json={"input": await wan_input(client, voice)}, headers={"Prefer": "wait=60"}, timeout=70
    )
    body = response.json()
    assert response.status_code == 201 and body["status"] == "succeeded"
    assert body["output"].startswith(f"{server.base_url}/delivery/")
    assert response.headers["location"] == f"{server.base_url}/v1/predictions/{body['id']}"
    async with httpx.AsyncClient() as anonymous, anonymous.stream("GET", body["output"]) as video:
        assert video.status_code == 200 and video.headers["content-type"] == "video/mp4"
        head = await video.aread()
    assert head[4:8] == b"ftyp" and len(head) > 10_000


async def test_drop_on_create_is_a_real_cut_connection(over_loopback: Opener, voice: Path) -> None:
    server, client = await over_loopback("drop_on_create", renderer=quick_render)
    inputs = await wan_input(client, voice)
    with pytest.raises(httpx.RemoteProtocolError):
        await client.post(WAN_PATH, json={"input": inputs})
    listed = (await client.get("/v1/predictions")).json()["results"]
    assert [p["input"] for p in listed] == [inputs]
    assert server.engine.requests[CREATE_BY_MODEL] == 1


async def test_drop_on_get_then_the_next_get_answers(over_loopback: Opener, voice: Path) -> None:
    server, client = await over_loopback("drop_on_get", renderer=quick_render)
    created = (await client.post(WAN_PATH, json={"input": await wan_input(client, voice)})).json()
    for _ in range(2):
        with pytest.raises(httpx.RemoteProtocolError):
            await client.get(f"/v1/predictions/{created['id']}")
    again = await client.get(f"/v1/predictions/{created['id']}")
    assert again.status_code == 200 and again.json()["id"] == created["id"]
    assert server.engine.requests[GET_PREDICTION] == 3


async def test_rate_limit_and_auth_over_real_http(over_loopback: Opener) -> None:
    server, client = await over_loopback("rate_limit_burst")
    response = await client.post(WAN_PATH, json={"input": {}})
    assert response.status_code == 429 and response.headers["retry-after"] == "1"
    async with httpx.AsyncClient(base_url=server.base_url) as anonymous:
        response = await anonymous.get("/v1/predictions")
    assert response.status_code == 401 and response.headers["content-type"] == "application/problem+json"
