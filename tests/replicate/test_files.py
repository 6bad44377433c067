"""Uploads through the Files API, inline `data:` inputs, and downloads of output files."""

from __future__ import annotations

import asyncio
import base64
import json
from collections.abc import AsyncIterator, Callable
from pathlib import Path

import httpx
import pytest

from demo_app.replicate import (
    Call,
    OutputTooLarge,
    OutputUnavailable,
    Pacing,
    PayloadTooLarge,
    ReplicateClient,
)
from tests.replicate.fakes import API, TOKEN, Handler, SleepRecorder, problem, recorded

MakeClient = Callable[[Handler], ReplicateClient]
FILE_201 = recorded("files-create-201.http.json")["body"]


def _multipart_fields(request: httpx.Request) -> dict[str, tuple[str | None, bytes]]:
    """name -> (filename, bytes) of a multipart/form-data body, parsed by hand."""
    boundary = request.headers["Content-Type"].split("boundary=")[1].encode()
    fields: dict[str, tuple[str | None, bytes]] = {}
    for part in request.content.split(b"--" + boundary)[1:-1]:
        head, _, body = part.strip(b"\r\n").partition(b"\r\n\r\n")
        disposition = head.decode().split("\r\n")[0]
        name = disposition.split('name="')[1].split('"')[0]
        filename = disposition.split('filename="')[1].split('"')[0] if "filename=" in disposition else None
        fields[name] = (filename, body)
    return fields


async def test_upload_sends_content_filename_and_type(make_client: MakeClient, tmp_path: Path) -> None:
    source = tmp_path / "face.png"
    source.write_bytes(b"\x89PNG fake image bytes")
    seen: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return httpx.Response(201, json=FILE_201)

    uploaded = await make_client(handler).upload_file(source, content_type="image/png")
    assert uploaded.urls.get == FILE_201["urls"]["get"] and uploaded.size == 0
    assert uploaded.checksums["sha256"].startswith("e3b0c442")
    [request] = seen
    assert (request.method, request.url.path) == ("POST", "/v1/files")
    fields = _multipart_fields(request)
    assert fields["content"] == ("face.png", b"\x89PNG fake image bytes")
    assert fields["filename"] == (None, b"face.png")
    assert fields["type"] == (None, b"image/png")
    assert b"Content-Type: image/png" in request.content


async def test_an_upload_waiting_for_the_read_budget_reads_its_file_only_when_sent(tmp_path: Path) -> None:
    """A waiting upload holds its path, not its bytes: what is on disk when the budget lets it go
    is what Replicate gets."""
    source = tmp_path / "voice.wav"
    source.write_bytes(b"RIFF what the visitor first sent")
    now = [0.0]
    waiting, turn = asyncio.Event(), asyncio.Event()

    async def budget_sleep(seconds: float) -> None:
        waiting.set()
        await turn.wait()
        now[0] += seconds

    pacing = Pacing.per_minute(reads=10, clock=lambda: now[0], sleep=budget_sleep)
    await pacing.admit(Call.READ)  # the burst (one call) is spent
    sent: list[bytes] = []

    def handler(request: httpx.Request) -> httpx.Response:
        sent.append(_multipart_fields(request)["content"][1])
        return httpx.Response(201, json=FILE_201)

    client = ReplicateClient(API, TOKEN, transport=httpx.MockTransport(handler), pacing=pacing)
    try:
        upload = asyncio.create_task(client.upload_file(source, content_type="audio/wav"))
        await waiting.wait()
        assert pacing.reads.waiting() == 1 and sent == []
        source.write_bytes(b"RIFF what is on disk when its turn comes")
        turn.set()
        await upload
    finally:
        await client.aclose()
    assert sent == [b"RIFF what is on disk when its turn comes"]


async def test_upload_too_large(make_client: MakeClient, tmp_path: Path, sleeps: SleepRecorder) -> None:
    (tmp_path / "a.wav").write_bytes(b"x")
    handler = lambda request: problem(413, "Files must be less than 100MB in size")  # noqa: E731
    with pytest.raises(PayloadTooLarge, match="less than 100MB"):
        await make_client(handler).upload_file(tmp_path / "a.wav", content_type="audio/wav")
    assert sleeps.waits == []


async def test_file_input_inlines_small_files_and_uploads_large_ones(
    make_client: MakeClient, tmp_path: Path
) -> None:
    small, large = tmp_path / "small.wav", tmp_path / "large.wav"
    small.write_bytes(b"RIFF" + b"\x01" * 96)
    large.write_bytes(b"RIFF" + b"\x02" * 2000)
    uploads: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        uploads.append(request)
        return httpx.Response(201, json=FILE_201)

    client = make_client(handler)
    inline = await client.file_input(small, content_type="audio/wav", inline_max_bytes=100)
    assert inline.url == "data:audio/wav;base64," + base64.b64encode(small.read_bytes()).decode()
    assert inline.uploaded is None and uploads == []
    uploaded = await client.file_input(large, content_type="audio/wav", inline_max_bytes=100)
    assert uploaded.url == FILE_201["urls"]["get"] and len(uploads) == 1
    assert uploaded.uploaded is not None and uploaded.uploaded.id == FILE_201["id"]


class _Body(httpx.AsyncByteStream):
    """A response body in chunks that may break off after them."""

    def __init__(self, chunks: list[bytes], *, then_fail: bool = False) -> None:
        self.chunks = chunks
        self.then_fail = then_fail

    async def __aiter__(self) -> AsyncIterator[bytes]:
        for chunk in self.chunks:
            yield chunk
        if self.then_fail:
            raise httpx.ReadError("connection reset")


def _entries(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir())


def _leftovers(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir() if p.name.startswith("."))


async def test_download_streams_to_dest_with_the_token_only_for_the_api_host(
    make_client: MakeClient, tmp_path: Path
) -> None:
    seen: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return httpx.Response(200, stream=_Body([b"abc", b"def"]))

    client = make_client(handler)
    assert await client.download(f"{API}/v1/files/out-1/download", tmp_path / "a.mp4", max_bytes=100) == 6
    assert (
        await client.download("https://replicate.delivery/x/out.mp4", tmp_path / "b.mp4", max_bytes=100) == 6
    )
    assert (
        await client.download("http://api.replicate.test/v1/files/x", tmp_path / "c.mp4", max_bytes=100) == 6
    )
    assert await client.download("https://api.replicate.test:8443/x", tmp_path / "d.mp4", max_bytes=100) == 6
    assert (tmp_path / "a.mp4").read_bytes() == b"abcdef"
    assert [("Authorization" in r.headers) for r in seen] == [True, False, False, False]
    assert all(r.headers["Accept"] == "*/*" for r in seen)
    assert _leftovers(tmp_path) == []


async def test_download_redirect_to_another_host_drops_the_token(
    make_client: MakeClient, tmp_path: Path
) -> None:
    seen: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        if request.url.host == "api.replicate.test":
            return httpx.Response(302, headers={"Location": "https://cdn.example.test/signed/out.mp4?sig=1"})
        return httpx.Response(200, content=b"video")

    await make_client(handler).download(f"{API}/v1/files/f1/download", tmp_path / "v.mp4", max_bytes=100)
    assert [(r.url.host, "Authorization" in r.headers) for r in seen] == [
        ("api.replicate.test", True),
        ("cdn.example.test", False),
    ]
    assert (tmp_path / "v.mp4").read_bytes() == b"video"


async def test_download_refuses_a_declared_size_over_the_cap(make_client: MakeClient, tmp_path: Path) -> None:
    handler = lambda request: httpx.Response(200, content=b"x" * 101)  # noqa: E731
    with pytest.raises(OutputTooLarge, match="100 bytes") as caught:
        await make_client(handler).download(f"{API}/o.mp4", tmp_path / "o.mp4", max_bytes=100)
    assert caught.value.max_bytes == 100
    assert _entries(tmp_path) == []


async def test_download_stops_an_undeclared_body_at_the_cap(make_client: MakeClient, tmp_path: Path) -> None:
    handler = lambda request: httpx.Response(200, stream=_Body([b"x" * 60, b"x" * 60]))  # noqa: E731
    with pytest.raises(OutputTooLarge):
        await make_client(handler).download(f"{API}/o.mp4", tmp_path / "o.mp4", max_bytes=100)
    assert _entries(tmp_path) == []


@pytest.mark.parametrize("status", [404, 410])
async def test_download_of_a_gone_output(
    make_client: MakeClient, tmp_path: Path, sleeps: SleepRecorder, status: int
) -> None:
    handler = lambda request: problem(status, "expired")  # noqa: E731
    with pytest.raises(OutputUnavailable, match=f"HTTP {status}"):
        await make_client(handler).download(f"{API}/o.mp4", tmp_path / "o.mp4", max_bytes=100)
    assert sleeps.waits == [] and _entries(tmp_path) == []


async def test_a_broken_download_keeps_the_old_file_and_leaves_no_temp(
    make_client: MakeClient, tmp_path: Path, sleeps: SleepRecorder
) -> None:
    dest = tmp_path / "o.mp4"
    dest.write_bytes(b"previous")
    calls: list[int] = []

    def handler(request: httpx.Request) -> httpx.Response:
        calls.append(1)
        if len(calls) < 3:
            return httpx.Response(200, stream=_Body([b"partial"], then_fail=True))
        return httpx.Response(200, stream=_Body([b"complete"]))

    assert await make_client(handler).download(f"{API}/o.mp4", dest, max_bytes=100) == 8
    assert dest.read_bytes() == b"complete"
    assert len(calls) == 3 and sleeps.waits == [0.5, 1.0]
    assert _leftovers(tmp_path) == []


async def test_download_of_a_recorded_data_uri_output(make_client: MakeClient, tmp_path: Path) -> None:
    [url] = recorded("prediction-processing-prefer-wait-data-uri-output.http.json")["body"]["output"]
    handler = lambda request: pytest.fail("a data: URL needs no request")  # noqa: E731
    client = make_client(handler)
    size = await client.download(url, tmp_path / "out.png", max_bytes=10_000_000)
    data = (tmp_path / "out.png").read_bytes()
    assert size == len(data) > 100_000 and data.startswith(b"\x89PNG\r\n\x1a\n")
    with pytest.raises(OutputTooLarge):
        await client.download(url, tmp_path / "small.png", max_bytes=1000)
    assert not (tmp_path / "small.png").exists() and _leftovers(tmp_path) == []


async def test_download_of_a_plain_data_url(make_client: MakeClient, tmp_path: Path) -> None:
    client = make_client(lambda request: pytest.fail("no request"))
    assert await client.download("data:text/plain,hello%20there", tmp_path / "t.txt", max_bytes=100) == 11
    assert (tmp_path / "t.txt").read_text() == "hello there"


async def test_upload_response_body_is_the_recorded_shape(make_client: MakeClient, tmp_path: Path) -> None:
    """The 24 h expiry is read, not assumed."""
    (tmp_path / "e.txt").write_bytes(b"")
    uploaded = await make_client(
        lambda request: httpx.Response(201, content=json.dumps(FILE_201))
    ).upload_file(tmp_path / "e.txt", content_type="text/plain")
    assert uploaded.expires_at is not None and uploaded.created_at is not None
    assert (uploaded.expires_at - uploaded.created_at).total_seconds() == 24 * 3600
    assert TOKEN not in repr(uploaded)
