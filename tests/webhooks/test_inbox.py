"""The inbox alone: a rotated account key is read again after a mismatch, but forgeries cannot make
it read the key more than once per `KEY_REREAD_S`."""

from __future__ import annotations

import json

from demo_app.replicate import Prediction, SigningKey
from demo_app.webhooks import Receipt, WebhookInbox, WebhookLinks
from demo_app.webhooks._inbox import KEY_REREAD_S

BODY = json.dumps({"id": "p1", "status": "processing", "logs": "1%|"}).encode()


class Keys:
    """The account's key as the client gives it: cached, read again from the API only on `refresh`."""

    def __init__(self) -> None:
        self.current = SigningKey(b"first key of the account........")
        self.cached: SigningKey | None = None
        self.reads = 0

    async def __call__(self, *, refresh: bool = False) -> SigningKey:
        if self.cached is None or refresh:
            self.reads += 1
            self.cached = self.current
        return self.cached


def headers(key: SigningKey, webhook_id: str, at: float) -> dict[str, str]:
    stamp = str(int(at))
    return {
        "webhook-id": webhook_id,
        "webhook-timestamp": stamp,
        "webhook-signature": "v1," + key.sign(webhook_id, stamp, BODY),
    }


async def test_a_rotated_key_is_read_again_at_most_once_per_period() -> None:
    now = [1_750_000_000.0]
    keys = Keys()
    offered: list[str] = []

    async def target(job_id: str, prediction: Prediction) -> Receipt:
        offered.append(prediction.id)
        return Receipt.APPLIED

    links = WebhookLinks("https://studio.example", b"secret")
    inbox = WebhookInbox(links, keys, target, tolerance_s=300, clock=lambda: now[0])
    tag = links.tag("job-1")
    old = keys.current
    assert (await inbox.deliver("job-1", tag, headers(old, "m1", now[0]), BODY)).status == 200

    assert keys.reads == 1
    forged = SigningKey(b"someone else's key..............")
    for n in range(5):  # forgeries soon after the key was read: never read again
        assert (await inbox.deliver("job-1", tag, headers(forged, f"f{n}", now[0]), BODY)).status == 401
    assert keys.reads == 1

    keys.current = SigningKey(b"rotated key of the account......")
    now[0] += KEY_REREAD_S + 1
    assert (await inbox.deliver("job-1", tag, headers(keys.current, "m2", now[0]), BODY)).status == 200
    assert keys.reads == 2  # the mismatch read the rotated key once
    for n in range(5):
        assert (await inbox.deliver("job-1", tag, headers(forged, f"g{n}", now[0]), BODY)).status == 401
    assert keys.reads == 2
    assert offered == ["p1", "p1"]
