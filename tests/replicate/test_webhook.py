"""Checking a webhook as Replicate signs it, and the signing key read once from the API."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
from collections.abc import Callable

import httpx
import pytest

from demo_app.replicate import ReplicateClient, SigningKey, UnexpectedResponse, WebhookRefused, verify_webhook

SECRET = "whsec_" + base64.b64encode(b"0123456789abcdef0123456789abcdef").decode()
BODY = b'{"id":"p1","status":"processing"}'
NOW = 1_750_000_000


def signed(
    body: bytes = BODY, *, at: int = NOW, secret: str = SECRET, webhook_id: str = "msg_1"
) -> dict[str, str]:
    """Headers signed independently of the code under test (Standard Webhooks, by hand)."""
    key = base64.b64decode(secret.removeprefix("whsec_"))
    digest = hmac.new(key, f"{webhook_id}.{at}.".encode() + body, hashlib.sha256).digest()
    return {
        "webhook-id": webhook_id,
        "webhook-timestamp": str(at),
        "webhook-signature": "v1," + base64.b64encode(digest).decode(),
    }


def check(headers: dict[str, str], body: bytes = BODY, now: float = NOW) -> str:
    return verify_webhook(SigningKey.parse(SECRET), headers, body, now=now, tolerance_s=300).webhook_id


def test_a_genuine_delivery_passes_among_several_listed_signatures() -> None:
    headers = signed()
    assert check(headers) == "msg_1"
    headers["webhook-signature"] = "v1,bm90IHRoaXMgb25l v2,ignored " + headers["webhook-signature"]
    assert check(headers) == "msg_1"
    assert check(headers, now=NOW + 299) == "msg_1"


@pytest.mark.parametrize(
    ("headers", "body", "now"),
    [
        (signed(), BODY + b" ", NOW),  # the body changed
        (signed(secret="whsec_" + base64.b64encode(b"another key, same length......!!").decode()), BODY, NOW),
        (signed(at=NOW - 301), BODY, NOW),  # a replay, signed too long ago
        (signed(at=NOW + 301), BODY, NOW),
        ({**signed(), "webhook-id": "msg_2"}, BODY, NOW),  # another delivery's signature
        ({k: v for k, v in signed().items() if k != "webhook-signature"}, BODY, NOW),
        ({**signed(), "webhook-timestamp": "yesterday"}, BODY, NOW),
    ],
)
def test_anything_else_is_refused(headers: dict[str, str], body: bytes, now: float) -> None:
    with pytest.raises(WebhookRefused):
        check(headers, body, now)


@pytest.mark.parametrize("secret", ["sk_abc", "whsec_", "whsec_not base64!"])
def test_a_secret_that_is_not_whsec_base64_is_refused(secret: str) -> None:
    with pytest.raises(ValueError):
        SigningKey.parse(secret)
    assert "[secure]" in repr(SigningKey.parse(SECRET))


async def test_the_signing_key_is_read_once(make_client: Callable[..., ReplicateClient]) -> None:
    reads = []

    def handler(request: httpx.Request) -> httpx.Response:
        reads.append(request.url.path)
        return httpx.Response(200, json={"key": SECRET})

    client = make_client(handler)
    first = await client.webhook_signing_key()
    assert await client.webhook_signing_key() is first
    assert reads == ["/v1/webhooks/default/secret"]
    assert (await client.webhook_signing_key(refresh=True)).key == first.key and len(reads) == 2


async def test_a_strange_secret_is_an_unexpected_response(
    make_client: Callable[..., ReplicateClient],
) -> None:
    client = make_client(lambda request: httpx.Response(200, json={"key": "plain"}))
    with pytest.raises(UnexpectedResponse):
        await client.webhook_signing_key()


async def test_a_create_names_its_webhook_and_events(make_client: Callable[..., ReplicateClient]) -> None:
    bodies = []

    def handler(request: httpx.Request) -> httpx.Response:
        bodies.append(json.loads(request.content))
        return httpx.Response(201, json={"id": "p1", "status": "starting"})

    client = make_client(handler)
    await client.create_prediction(
        model="o/m", input={"a": 1}, webhook="https://studio.example/hook", webhook_events_filter=("start",)
    )
    await client.create_prediction(model="o/m", input={"a": 2})
    assert bodies[0] == {
        "input": {"a": 1},
        "webhook": "https://studio.example/hook",
        "webhook_events_filter": ["start"],
    }
    assert bodies[1] == {"input": {"a": 2}}
