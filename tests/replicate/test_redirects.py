"""Output downloads follow redirects only to public https hosts (or the API's own origin)."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import httpx
import pytest

from demo_app.replicate import ConnectFailed, OutputUnavailable, ReplicateClient, RetryPolicy, UnsafeRedirect
from tests.replicate.fakes import API, TOKEN, FakeResolver, Handler, SleepRecorder

MakeClient = Callable[[Handler], ReplicateClient]


def redirecting_to(location: str, seen: list[httpx.URL]) -> Handler:
    """The API redirects the first request to `location`; any other host serves a video."""

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request.url)
        if request.url.host == "api.replicate.test" and request.url.path.endswith("/download"):
            return httpx.Response(302, headers={"Location": location})
        return httpx.Response(200, content=b"video")

    return handler


@pytest.mark.parametrize(
    "location",
    [
        "http://cdn.example.test/out.mp4",  # not https
        "https://127.0.0.1/out.mp4",
        "https://[::1]/out.mp4",
        "https://10.1.2.3/out.mp4",
        "https://192.168.0.10:8443/out.mp4",
        "https://169.254.169.254/latest/meta-data/",
        "https://[fe80::1]/out.mp4",
        "https://[::ffff:10.0.0.1]/out.mp4",
        "https://100.64.0.1/out.mp4",  # shared address space (carrier NAT)
        "https://0.0.0.0/out.mp4",
        "https://localhost/out.mp4",
        "https://internal.example.test/out.mp4",  # a public-looking name for a private address
        "https://metadata.example.test/out.mp4",
        "https://split.example.test/out.mp4",  # one of its addresses is loopback
    ],
)
async def test_a_redirect_to_a_private_or_plain_http_host_is_not_followed(
    make_client: MakeClient, tmp_path: Path, sleeps: SleepRecorder, location: str
) -> None:
    seen: list[httpx.URL] = []
    with pytest.raises(UnsafeRedirect) as caught:
        await make_client(redirecting_to(location, seen)).download(
            f"{API}/v1/files/f1/download", tmp_path / "v.mp4", max_bytes=100
        )
    assert [url.host for url in seen] == ["api.replicate.test"], "nothing was fetched from the target"
    assert isinstance(caught.value, OutputUnavailable) and "nothing was fetched there" in str(caught.value)
    assert TOKEN not in str(caught.value) and sleeps.waits == [], "refused at once, never retried"
    assert list(tmp_path.iterdir()) == []


async def test_a_redirect_to_a_public_https_host_is_followed_without_the_token(
    make_client: MakeClient, tmp_path: Path, resolver: FakeResolver
) -> None:
    seen: list[httpx.URL] = []
    handler = redirecting_to("https://delivery.example.test/signed/out.mp4?sig=1", seen)
    dest = tmp_path / "v.mp4"
    assert await make_client(handler).download(f"{API}/v1/files/f1/download", dest, max_bytes=100) == 5
    assert [url.host for url in seen] == ["api.replicate.test", "delivery.example.test"]
    assert resolver.asked == ["delivery.example.test"]
    assert (tmp_path / "v.mp4").read_bytes() == b"video"


async def test_the_apis_own_origin_is_allowed_over_http(tmp_path: Path, sleeps: SleepRecorder) -> None:
    """The built-in engine is reached in process at http://engine.internal: its own redirects are fine."""
    base = "http://engine.internal"

    def handler(request: httpx.Request) -> httpx.Response:
        if request.url.path == "/v1/files/f1/download":
            return httpx.Response(307, headers={"Location": f"{base}/outputs/f1.mp4"})
        assert request.headers["Authorization"] == "Bearer r8_local"
        return httpx.Response(200, content=b"video")

    async def no_dns(host: str) -> list[str]:
        raise AssertionError(f"the API's own origin needs no DNS check ({host})")

    client = ReplicateClient(base, "r8_local", transport=httpx.MockTransport(handler), resolve=no_dns)
    try:
        assert await client.download(f"{base}/v1/files/f1/download", tmp_path / "v.mp4", max_bytes=100) == 5
    finally:
        await client.aclose()


async def test_a_redirect_loop_stops(make_client: MakeClient, tmp_path: Path) -> None:
    calls: list[int] = []

    def handler(request: httpx.Request) -> httpx.Response:
        calls.append(1)
        return httpx.Response(302, headers={"Location": f"https://cdn.example.test/{len(calls)}"})

    with pytest.raises(UnsafeRedirect, match="more than 5 times"):
        await make_client(handler).download(f"{API}/v1/files/f1/download", tmp_path / "v.mp4", max_bytes=100)
    assert len(calls) == 6


async def test_a_target_that_does_not_resolve_is_a_connect_failure(
    tmp_path: Path, policy: RetryPolicy
) -> None:
    seen: list[httpx.URL] = []
    sleeps = SleepRecorder()
    client = ReplicateClient(
        API,
        TOKEN,
        transport=httpx.MockTransport(redirecting_to("https://nxdomain.example.test/o.mp4", seen)),
        retry=policy,
        sleep=sleeps,
        resolve=FakeResolver(),
    )
    try:
        with pytest.raises(ConnectFailed, match="could not be found"):
            await client.download(f"{API}/v1/files/f1/download", tmp_path / "v.mp4", max_bytes=100)
    finally:
        await client.aclose()
    assert {url.host for url in seen} == {"api.replicate.test"} and len(sleeps.waits) == 3, "retried"
