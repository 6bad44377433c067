"""The token never shows: not in a repr, a log line, an exception text or a URL."""

from __future__ import annotations

import logging
import traceback
from pathlib import Path

import httpx
import pytest
from pydantic import SecretStr

from demo_app.replicate import ReplicateClient, ReplicateError, RetryPolicy
from demo_app.replicate import errors as error_module
from tests.replicate.fakes import API, TOKEN, SleepRecorder, prediction_body


def _echoing_server(request: httpx.Request) -> httpx.Response:
    """A hostile server that puts whatever Authorization it got into every error it sends."""
    echoed = request.headers.get("Authorization", "")
    path = request.url.path
    if path.endswith("/p-ok"):
        return httpx.Response(200, json=prediction_body("p-ok", logs=f"{echoed} 10%|#| 1/10 [..]"))
    if "/drop" in path:
        raise httpx.RemoteProtocolError(f"dropped {echoed}", request=request)
    status = {"/v1/predictions/p401": 401, "/v1/predictions/p422": 422, "/v1/predictions/p429": 429}.get(
        path, 503
    )
    body = {"title": f"Bad {echoed}", "detail": f"- input.{echoed}: rejected {echoed}", "status": status}
    return httpx.Response(
        status, json=body, headers={"Content-Type": "application/problem+json", "Retry-After": "1"}
    )


@pytest.mark.parametrize("token", [TOKEN, SecretStr(TOKEN)])
async def test_token_stays_out_of_reprs_logs_errors_and_urls(
    token: str | SecretStr, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    seen_urls: list[str] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen_urls.append(str(request.url))
        return _echoing_server(request)

    client = ReplicateClient(
        API,
        token,
        transport=httpx.MockTransport(handler),
        retry=RetryPolicy(max_attempts=2),
        sleep=SleepRecorder(),
    )
    raised: list[ReplicateError] = []
    operations = [
        client.get_prediction("p401"),
        client.get_prediction("p422"),
        client.get_prediction("p429"),
        client.get_prediction("p503"),
        client.cancel_prediction("p503"),
        client.create_prediction(model="a/drop", input={"x": 1}),
        client.download(f"{API}/v1/files/gone", tmp_path / "o.mp4", max_bytes=10),
    ]
    for operation in operations:
        try:
            await operation
        except ReplicateError as exc:
            raised.append(exc)
    ok = await client.get_prediction("p-ok")
    await client.aclose()

    assert len(raised) == len(operations)
    texts = [repr(client), str(client), repr(ok.urls), *seen_urls]
    for error in raised:
        texts += [str(error), repr(error), *(str(v) for v in vars(error).values())]
    texts += [record.getMessage() for record in caplog.records]
    texts += [caplog.text]
    assert caplog.records, "the retries and the ambiguous create were logged"
    leaks = [text for text in texts if TOKEN in text]
    assert leaks == []
    assert "[secure]" in repr(client)


def test_every_error_class_is_readable_and_documented() -> None:
    classes = [getattr(error_module, name) for name in error_module.__all__]
    tree = error_module.__doc__ or ""
    for cls in classes:
        assert issubclass(cls, ReplicateError)
        assert cls.__name__ in tree, f"{cls.__name__} missing from the drawn tree"
        assert cls.__doc__


async def test_a_failed_connection_traceback_holds_no_token() -> None:
    """Even the chained httpx cause, formatted as a log handler would, shows no header values."""

    def handler(request: httpx.Request) -> httpx.Response:
        raise httpx.ConnectError("refused", request=request)

    client = ReplicateClient(
        API, TOKEN, transport=httpx.MockTransport(handler), retry=RetryPolicy(max_attempts=1)
    )
    with pytest.raises(ReplicateError) as caught:
        await client.get_prediction("p1")
    await client.aclose()
    formatted = "".join(traceback.format_exception(caught.value))
    assert "ConnectFailed" in formatted and "httpx.ConnectError" in formatted
    assert TOKEN not in formatted
