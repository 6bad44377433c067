"""Reading models and versions: from the engine over its in-process transport, and hostile bodies.

The engine answers in Replicate's shape; scripted transports send what a hostile or broken
upstream might: a body past the cap (declared or not), a schema that is not an object, not JSON.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from typing import Any

import httpx
import pytest

from demo_app.engine import MODEL_READS, Engine
from demo_app.engine._scenarios import SchemaDrift, renamed
from demo_app.replicate import (
    ModelInfo,
    NotFound,
    ReplicateClient,
    ResponseTooLarge,
    RetryPolicy,
    UnexpectedResponse,
)
from tests.conftest import ENGINE_TOKEN, EngineFactory
from tests.replicate.fakes import SleepRecorder

WAN = "wan-video/wan-2.2-s2v"
SADTALKER = "cjwbw/sadtalker"
SADTALKER_VERSION = "3aa3dac9353cc4d6bd62a8f95957bd844003b401ca4e4a9b33baa574c549d376"


@pytest.fixture
async def client_of(
    sleeps: SleepRecorder, policy: RetryPolicy
) -> AsyncIterator[Callable[[Engine], ReplicateClient]]:
    clients: list[ReplicateClient] = []

    def make(engine: Engine) -> ReplicateClient:
        client = ReplicateClient(
            Engine.base_url, ENGINE_TOKEN, transport=engine.transport(), retry=policy, sleep=sleeps
        )
        clients.append(client)
        return client

    yield make
    for client in clients:
        await client.aclose()


def input_properties(schema: dict[str, Any] | None) -> dict[str, Any]:
    assert schema is not None
    properties: dict[str, Any] = schema["components"]["schemas"]["Input"]["properties"]
    return properties


async def test_a_model_with_its_latest_schema(
    engine_factory: EngineFactory, client_of: Callable[[Engine], ReplicateClient]
) -> None:
    engine = await engine_factory()
    model = await client_of(engine).get_model(WAN)
    assert (model.owner, model.name) == ("wan-video", "wan-2.2-s2v")
    assert model.latest_version is not None and len(model.latest_version.id) == 64
    properties = input_properties(model.latest_version.openapi_schema)
    assert properties["image"] == {"title": "Image", "x-order": 1, "type": "string", "format": "uri"}
    assert properties["num_frames_per_chunk"]["maximum"] == 121
    assert sum(engine.requests[route] for route in MODEL_READS) == 1


async def test_a_pinned_version_and_a_missing_one(
    engine_factory: EngineFactory, client_of: Callable[[Engine], ReplicateClient], sleeps: SleepRecorder
) -> None:
    engine = await engine_factory()
    client = client_of(engine)
    version = await client.get_model_version(SADTALKER, SADTALKER_VERSION)
    assert version.id == SADTALKER_VERSION and version.cog_version
    schema = version.openapi_schema
    assert schema is not None
    assert schema["components"]["schemas"]["preprocess"]["enum"] == ["crop", "resize", "full"]
    assert input_properties(schema)["preprocess"]["allOf"] == [{"$ref": "#/components/schemas/preprocess"}]
    with pytest.raises(NotFound):
        await client.get_model_version(SADTALKER, "0" * 64)
    with pytest.raises(NotFound):
        await client.get_model("nobody/nothing")
    assert sleeps.waits == [], "a 404 is not retried"


async def test_the_drift_scenario_changes_the_schema_served(
    engine_factory: EngineFactory, client_of: Callable[[Engine], ReplicateClient]
) -> None:
    drift = SchemaDrift(WAN, renamed("image", "first_frame"))
    client = client_of(await engine_factory(drift))
    latest = (await client.get_model(WAN)).latest_version
    assert latest is not None
    assert "first_frame" in input_properties(latest.openapi_schema)
    assert "image" not in input_properties(latest.openapi_schema)
    drift.unreadable = True
    with pytest.raises(UnexpectedResponse, match="does not understand"):
        await client.get_model(WAN)
    other = (await client.get_model_version(SADTALKER, SADTALKER_VERSION)).openapi_schema
    assert "source_image" in input_properties(other), "only the drifted model changes"


async def test_a_body_over_the_cap_is_refused_before_it_is_parsed(
    engine_factory: EngineFactory, client_of: Callable[[Engine], ReplicateClient], sleeps: SleepRecorder
) -> None:
    client = client_of(await engine_factory())
    with pytest.raises(ResponseTooLarge, match="larger than 500 bytes"):
        await client.get_model(WAN, max_bytes=500)
    assert sleeps.waits == [], "an oversized body is not asked for again"


def streamed(chunks: list[bytes], headers: dict[str, str] | None = None) -> httpx.Response:
    """A 200 whose body arrives in `chunks`, with no Content-Length unless given."""

    class Body(httpx.AsyncByteStream):
        async def __aiter__(self) -> AsyncIterator[bytes]:
            for chunk in chunks:
                yield chunk

    return httpx.Response(200, headers=headers or {}, stream=Body())


def model_body(latest_version: Any) -> dict[str, Any]:
    return {"owner": "a", "name": "b", "latest_version": latest_version}


@pytest.mark.parametrize(
    ("response", "error"),
    [
        (lambda: streamed([b'{"owner": "a", "name": "b", "x": "' + b"y" * 4096] * 300), ResponseTooLarge),
        (lambda: streamed([b"{}"], {"content-length": str(10**9)}), ResponseTooLarge),
        (lambda: httpx.Response(200, json=model_body({"id": "v", "openapi_schema": 1})), UnexpectedResponse),
        (lambda: httpx.Response(200, json=model_body("v")), UnexpectedResponse),
        (lambda: httpx.Response(200, text="<html>maintenance</html>"), UnexpectedResponse),
        (lambda: httpx.Response(200, text="[" * 100_000 + "]" * 100_000), UnexpectedResponse),
    ],
    ids=["streamed-past-cap", "declared-past-cap", "schema-not-object", "version-not-object", "html", "deep"],
)
async def test_hostile_model_bodies_are_typed_errors(
    make_client: Callable[[Callable[[httpx.Request], httpx.Response]], ReplicateClient],
    response: Callable[[], httpx.Response],
    error: type[Exception],
) -> None:
    client = make_client(lambda request: response())
    with pytest.raises(error):
        await client.get_model(WAN, max_bytes=1024 * 1024)


async def test_a_real_shaped_model_body_is_read(
    make_client: Callable[[Callable[[httpx.Request], httpx.Response]], ReplicateClient],
) -> None:
    body = {
        "url": "https://replicate.com/a/b",
        "owner": "a",
        "name": "b",
        "default_example": {"id": "p", "logs": "x" * 10_000},
        "latest_version": {"id": "v1", "created_at": "2023-11-07T13:06:46.622419Z", "cog_version": "0.8.6",
                           "openapi_schema": {"components": {"schemas": {"Input": {"type": "object"}}}}},
    }  # fmt: skip
    seen: list[str] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request.url.path)
        return httpx.Response(200, json=body)

    model = await make_client(handler).get_model("a/b")
    assert isinstance(model, ModelInfo) and model.latest_version is not None
    assert model.latest_version.openapi_schema == body["latest_version"]["openapi_schema"]  # type: ignore[index]
    assert seen == ["/v1/models/a/b"]
