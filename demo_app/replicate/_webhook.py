"""Checking a webhook delivery as Replicate signs it (the Standard Webhooks scheme).

The signed content is `webhook-id.webhook-timestamp.body` (the raw body bytes), the key is the
base64 part of the account's `whsec_…` secret, the digest HMAC-SHA256 in base64; the
`webhook-signature` header lists one or more `v1,<digest>` (several while a secret rotates).
Replicate names no timestamp tolerance; five minutes is the Standard Webhooks convention.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
from collections.abc import Mapping
from dataclasses import dataclass

from .errors import ReplicateError

SECRET_PREFIX = "whsec_"


class WebhookRefused(ReplicateError):
    """A delivery that is not provably Replicate's, now: unsigned, forged, or signed too long ago."""


class SignatureMismatch(WebhookRefused):
    """No listed signature matches this key (forged, or signed with a newer key after a rotation)."""


@dataclass(frozen=True)
class SigningKey:
    """The account's webhook signing key (from `GET /v1/webhooks/default/secret`)."""

    key: bytes

    @classmethod
    def parse(cls, secret: str) -> SigningKey:
        """From `whsec_<base64>`; ValueError if it is not one."""
        if not secret.startswith(SECRET_PREFIX):
            raise ValueError("A webhook secret starts with whsec_.")
        try:
            key = base64.b64decode(secret[len(SECRET_PREFIX) :], validate=True)
        except binascii.Error:
            raise ValueError("A webhook secret is whsec_ followed by base64.") from None
        if not key:
            raise ValueError("The webhook secret is empty.")
        return cls(key)

    def __repr__(self) -> str:
        return "SigningKey([secure])"

    def sign(self, webhook_id: str, timestamp: str, body: bytes) -> str:
        """The base64 digest of one delivery (what follows `v1,` in the header)."""
        content = f"{webhook_id}.{timestamp}.".encode() + body
        return base64.b64encode(hmac.new(self.key, content, hashlib.sha256).digest()).decode()


@dataclass(frozen=True)
class Delivery:
    """What a verified delivery says about itself."""

    webhook_id: str
    timestamp: int


def verify_webhook(
    key: SigningKey, headers: Mapping[str, str], body: bytes, *, now: float, tolerance_s: float
) -> Delivery:
    """The delivery's id and time if `key` signed it within `tolerance_s` of `now`; else WebhookRefused."""
    webhook_id = headers.get("webhook-id", "")
    stamp = headers.get("webhook-timestamp", "")
    listed = headers.get("webhook-signature", "")
    if not webhook_id or not stamp or not listed or len(webhook_id) > 256:
        raise WebhookRefused("The webhook-id, webhook-timestamp and webhook-signature headers are required.")
    try:
        timestamp = int(stamp)
    except ValueError:
        raise WebhookRefused("webhook-timestamp must be Unix seconds.") from None
    if abs(now - timestamp) > tolerance_s:
        raise WebhookRefused("The webhook was signed too long ago (or in the future); it is not accepted.")
    expected = key.sign(webhook_id, stamp, body).encode()
    for entry in listed.split()[:16]:
        version, _, digest = entry.partition(",")
        if version == "v1" and hmac.compare_digest(digest.encode(), expected):
            return Delivery(webhook_id, timestamp)
    raise SignatureMismatch("The webhook signature does not match.")
