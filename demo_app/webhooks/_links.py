"""The webhook address of one job: our job id and our signature of it, in the path.

The job id (not the prediction id) goes in the address because Replicate may deliver the
`start` event before our create call has returned; the signature makes a guessed or altered
address worthless, before any body is read.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
from urllib.parse import quote

ROUTE_PATH = "/webhooks/replicate/{job_id}/{tag}"


class WebhookLinks:
    """Webhook addresses under `base_url` (this app as Replicate reaches it), signed with `secret`."""

    def __init__(self, base_url: str, secret: bytes) -> None:
        self.base_url = base_url.rstrip("/")
        self._secret = secret

    def __repr__(self) -> str:
        return f"WebhookLinks({self.base_url!r}, [secure])"

    def url_for(self, job_id: str) -> str:
        """Where Replicate sends the webhooks of `job_id`'s prediction."""
        path = ROUTE_PATH.format(job_id=quote(job_id, safe=""), tag=self.tag(job_id))
        return self.base_url + path

    def is_ours(self, job_id: str, tag: str) -> bool:
        """True if `tag` is our signature of `job_id` (constant time)."""
        return hmac.compare_digest(tag.encode(), self.tag(job_id).encode())

    def tag(self, job_id: str) -> str:
        digest = hmac.new(self._secret, b"replicate-webhook:" + job_id.encode(), hashlib.sha256).digest()
        return base64.urlsafe_b64encode(digest[:24]).decode()
