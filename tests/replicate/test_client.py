"""The client's requests and retries, against small scripted transports."""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import UTC, datetime

import httpx
import pytest

from demo_app.replicate import (
    ConnectFailed,
    ConnectionDropped,
    NotFound,
    ReplicateClient,
    ServerError,
    Status,
    TimedOut,
    Unauthorized,
    UnexpectedResponse,
)
from tests.replicate.fakes import TOKEN, Handler, MiniReplicate, SleepRecorder, prediction_body, problem

MakeClient = Callable[[Handler], ReplicateClient]


def _script(*answers: httpx.Response | type[Exception]) -> tuple[Handler, list[httpx.Request]]:
    """A handler giving `answers` in order (an exception class is raised), and the requests seen."""
    seen: list[httpx.Request] = []
    queue = list(answers)

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        answer = queue.pop(0)
        if isinstance(answer, type):
            raise answer("scripted", request=request)  # type: ignore[call-arg]
        return answer

    return handler, seen


async def test_create_by_official_model(make_client: MakeClient) -> None:
    handler, seen = _script(httpx.Response(201, json=prediction_body("p9")))
    client = make_client(handler)
    prediction = await client.create_prediction(
        model="wan-video/wan-2.2-s2v", input={"image": "https://x.test/i.png"}, cancel_after_s=600
    )
    assert prediction.id == "p9" and prediction.status is Status.STARTING
    [request] = seen
    assert request.method == "POST" and request.url.path == "/v1/models/wan-video/wan-2.2-s2v/predictions"
    assert json.loads(request.content) == {"input": {"image": "https://x.test/i.png"}}
    assert request.headers["Cancel-After"] == "10m"
    assert "Prefer" not in request.headers
    assert request.headers["Authorization"] == f"Bearer {TOKEN}"
    assert request.extensions["timeout"]["read"] == 30.0


async def test_create_by_version_posts_the_version_with_default_time_outs(make_client: MakeClient) -> None:
    handler, seen = _script(httpx.Response(201, json=prediction_body("p1", "succeeded")))
    client = make_client(handler)
    await client.create_prediction(version="3aa3dac9", input={"source_image": "x"})
    [request] = seen
    assert request.url.path == "/v1/predictions"
    assert json.loads(request.content) == {"version": "3aa3dac9", "input": {"source_image": "x"}}
    assert "Prefer" not in request.headers and "Cancel-After" not in request.headers
    assert request.extensions["timeout"]["connect"] == 5.0


@pytest.mark.parametrize(
    "kwargs",
    [{}, {"model": "a/b", "version": "v"}, {"model": "no-slash"}, {"model": "a/b/c"}, {"model": "/b"}],
)
async def test_create_needs_exactly_one_target(make_client: MakeClient, kwargs: dict[str, str]) -> None:
    handler, seen = _script()
    with pytest.raises(ValueError):
        await make_client(handler).create_prediction(input={}, **kwargs)  # type: ignore[arg-type]
    assert seen == []


async def test_get_is_retried_on_429_honouring_retry_after(
    make_client: MakeClient, sleeps: SleepRecorder
) -> None:
    handler, seen = _script(
        problem(429, "Request was throttled.", headers={"Retry-After": "3"}),
        problem(429, "Request was throttled. Your rate limit resets in ~2s."),
        httpx.Response(200, json=prediction_body("p1", "processing")),
    )
    prediction = await make_client(handler).get_prediction("p1")
    assert prediction.status is Status.PROCESSING
    assert len(seen) == 3 and all(r.url.path == "/v1/predictions/p1" for r in seen)
    assert sleeps.waits == [3.0, 2.0]


async def test_get_is_retried_on_5xx_and_network_errors_with_backoff(
    make_client: MakeClient, sleeps: SleepRecorder
) -> None:
    handler, seen = _script(
        problem(503, "Service unavailable"),
        httpx.ReadError,
        httpx.ConnectError,
        httpx.Response(200, json=prediction_body("p1", "succeeded", output="https://x.test/o.mp4")),
    )
    prediction = await make_client(handler).get_prediction("p1")
    assert prediction.is_terminal and prediction.output_urls == ["https://x.test/o.mp4"]
    assert len(seen) == 4
    assert sleeps.waits == [0.5, 1.0, 2.0]


async def test_get_gives_up_after_max_attempts_with_the_last_error(
    make_client: MakeClient, sleeps: SleepRecorder
) -> None:
    handler, seen = _script(*[problem(500, "boom")] * 4)
    with pytest.raises(ServerError) as caught:
        await make_client(handler).get_prediction("p1")
    assert caught.value.status == 500
    assert len(seen) == 4 and len(sleeps.waits) == 3


@pytest.mark.parametrize(
    ("answer", "error"),
    [
        (problem(404, "Prediction not found", "Not found"), NotFound),
        (problem(401, "You did not pass a valid authentication token", "Unauthenticated"), Unauthorized),
    ],
)
async def test_get_does_not_retry_client_errors(
    make_client: MakeClient, sleeps: SleepRecorder, answer: httpx.Response, error: type[Exception]
) -> None:
    handler, seen = _script(answer)
    with pytest.raises(error):
        await make_client(handler).get_prediction("p1")
    assert len(seen) == 1 and sleeps.waits == []


async def test_prediction_ids_are_path_escaped(make_client: MakeClient) -> None:
    handler, seen = _script(problem(404, "nope"))
    with pytest.raises(NotFound):
        await make_client(handler).get_prediction("../files/x?y")
    assert seen[0].url.raw_path == b"/v1/predictions/..%2Ffiles%2Fx%3Fy"


async def test_cancel_is_retried_like_a_get(make_client: MakeClient, sleeps: SleepRecorder) -> None:
    handler, seen = _script(httpx.ReadTimeout, httpx.Response(200, json=prediction_body("p1", "canceled")))
    prediction = await make_client(handler).cancel_prediction("p1")
    assert prediction.status is Status.CANCELED
    assert [(r.method, r.url.path) for r in seen] == [("POST", "/v1/predictions/p1/cancel")] * 2
    assert sleeps.waits == [0.5]


async def test_list_follows_next_urls_newest_first(make_client: MakeClient) -> None:
    fake = MiniReplicate()
    for n in range(5):
        fake.add({"n": n})
    fake.list_has_input = True
    seen: list[httpx.URL] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request.url)
        return fake(request)

    client = make_client(handler)
    listed = [p.input["n"] async for p in client.list_predictions()]
    assert listed == [4, 3, 2, 1, 0]
    assert fake.calls["list"] == 3
    assert [url.params.get("cursor") for url in seen] == [None, "2", "4"]


async def test_list_sends_created_after(make_client: MakeClient) -> None:
    handler, seen = _script(httpx.Response(200, json={"next": None, "previous": None, "results": []}))
    since = datetime(2025, 3, 1, 12, 30, tzinfo=UTC)
    assert [p async for p in make_client(handler).list_predictions(created_after=since)] == []
    assert seen[0].url.params["created_after"] == "2025-03-01T12:30:00+00:00"


@pytest.mark.parametrize(
    "answer",
    [
        httpx.Response(200, text="<html>maintenance</html>"),
        httpx.Response(200, json={"status": "starting"}),  # no id
        httpx.Response(200, json=["not", "an", "object"]),
    ],
)
async def test_unreadable_success_bodies(make_client: MakeClient, answer: httpx.Response) -> None:
    handler, _ = _script(answer)
    with pytest.raises(UnexpectedResponse, match="Replicate sent a response"):
        await make_client(handler).get_prediction("p1")


@pytest.mark.parametrize(
    ("exc", "error", "maybe_sent"),
    [
        (httpx.ConnectError, ConnectFailed, False),
        (httpx.ConnectTimeout, ConnectFailed, False),
        (httpx.PoolTimeout, TimedOut, False),
        (httpx.ReadTimeout, TimedOut, True),
        (httpx.WriteTimeout, TimedOut, True),
        (httpx.RemoteProtocolError, ConnectionDropped, True),
        (httpx.ReadError, ConnectionDropped, True),
    ],
)
async def test_httpx_errors_become_ours_with_the_cause_kept(
    make_client: MakeClient, exc: type[Exception], error: type[Exception], maybe_sent: bool
) -> None:
    handler, _ = _script(*[exc] * 4)
    with pytest.raises(error) as caught:
        await make_client(handler).get_prediction("p1")
    assert caught.value.maybe_sent is maybe_sent  # type: ignore[attr-defined]
    assert isinstance(caught.value.__cause__, exc)
    assert "GET /v1/predictions/p1" in str(caught.value)


async def test_a_real_refused_connection(sleeps: SleepRecorder) -> None:
    """No transport given: the real pooled httpx client against a closed loopback port."""
    client = ReplicateClient("http://127.0.0.1:9", TOKEN, sleep=sleeps, timeout=2.0)
    try:
        with pytest.raises(ConnectFailed, match="Could not connect to Replicate"):
            await client.get_prediction("p1")
    finally:
        await client.aclose()
    assert len(sleeps.waits) == 4  # default policy: 5 attempts
