"""The webhook inbox: check a delivery is Replicate's and fresh, drop repeats, hand it to its job.

Order of checks, cheapest first, so a forgery costs us little: the address's signature of the
job id, the body size (the route, while reading), Replicate's signature with the account's
signing key (read once, cached), the timestamp tolerance, then the `webhook-id` seen before,
and only then is the body parsed and validated as a `Prediction`.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass

from pydantic import ValidationError

from demo_app.replicate import (
    Delivery,
    Prediction,
    ReplicateError,
    SignatureMismatch,
    SigningKey,
    WebhookRefused,
    verify_webhook,
)
from demo_app.webhooks._links import WebhookLinks
from demo_app.webhooks._receipt import Receipt
from demo_app.webhooks._seen import Seen, SeenInMemory

log = logging.getLogger(__name__)

Target = Callable[[str, Prediction], Awaitable[Receipt]]
"""Offers a verified prediction to the job with this id (`JobManager.receive`)."""

KEY_REREAD_S = 600.0
"""After a signature mismatch the account key is read again (it may have been rotated), at most
this often, so forged deliveries cannot make us spend reads."""


@dataclass(frozen=True)
class Answer:
    """The HTTP answer to one delivery: status and a one-sentence reason."""

    status: int
    text: str


class WebhookInbox:
    """Verifies deliveries and offers their predictions to the jobs; one per app (repeats are
    dropped by `seen`: this process's memory, or the database every replica shares)."""

    def __init__(
        self,
        links: WebhookLinks,
        signing_key: Callable[..., Awaitable[SigningKey]],
        target: Target,
        *,
        tolerance_s: float,
        clock: Callable[[], float] = time.time,
        seen: Seen | None = None,
    ) -> None:
        self._links = links
        self._signing_key = signing_key
        self._target = target
        self._tolerance_s = tolerance_s
        self._clock = clock
        self._seen = seen if seen is not None else SeenInMemory()
        self._key_read_at = clock()

    @property
    def links(self) -> WebhookLinks:
        """The signed addresses this inbox accepts (every replica's, when they share the secret)."""
        return self._links

    def is_ours(self, job_id: str, tag: str) -> bool:
        """The address check, made before the body is read."""
        return self._links.is_ours(job_id, tag)

    async def deliver(self, job_id: str, tag: str, headers: Mapping[str, str], body: bytes) -> Answer:
        """Verify one delivery and offer it to its job; the answer says what happened."""
        if not self.is_ours(job_id, tag):
            return Answer(403, "This webhook address was not issued by this app.")
        now = self._clock()
        try:
            delivery = await self._verify(headers, body, now)
        except WebhookRefused as exc:
            log.warning("webhook for job %s refused: %s", job_id, exc)
            return Answer(401, str(exc))
        except ReplicateError as exc:
            log.warning("webhook for job %s: no signing key to check it with: %s", job_id, exc)
            return Answer(503, "The webhook cannot be checked right now; send it again later.")
        if not await self._seen.first_time(delivery.webhook_id, now):
            return Answer(200, "Already received.")
        try:
            prediction = Prediction.model_validate_json(body)
        except ValidationError:
            return Answer(400, "The webhook body is not a prediction.")
        receipt = await self._target(job_id, prediction)
        if receipt is not Receipt.APPLIED:
            log.info("webhook %s for job %s: %s", delivery.webhook_id, job_id, receipt.value)
        return Answer(receipt.status, f"Received ({receipt.value}).")

    async def _verify(self, headers: Mapping[str, str], body: bytes, now: float) -> Delivery:
        """Checked with the cached key; after a mismatch, once more with the key read again (rarely)."""
        try:
            return verify_webhook(
                await self._signing_key(), headers, body, now=now, tolerance_s=self._tolerance_s
            )
        except SignatureMismatch:
            if now - self._key_read_at < KEY_REREAD_S:
                raise
        self._key_read_at = now
        key = await self._signing_key(refresh=True)
        return verify_webhook(key, headers, body, now=now, tolerance_s=self._tolerance_s)
