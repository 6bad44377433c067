"""When and how long to wait before trying a Replicate request again.

Written here rather than taken from a library (tenacity, backoff, stamina): the policy is about
twenty lines, and what matters is ours anyway: which of *our* errors are transient, honouring
(and capping) the server's `Retry-After` that arrives on a `RateLimited`, and telling a create
that surely never arrived from one that may have (that one is not retried at all, see
`ReplicateClient.create_prediction`). Waiting goes through an injected `sleep`, so tests record
the waits instead of spending them; no new dependency on the deployed app.
"""

from __future__ import annotations

import logging
import random
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import TypeVar

from .errors import RateLimited, ReplicateError, ServerError, TransportError

logger = logging.getLogger(__name__)

T = TypeVar("T")
Sleep = Callable[[float], Awaitable[None]]


@dataclass(frozen=True)
class RetryPolicy:
    """Capped exponential backoff with jitter; a server's `Retry-After` wins, up to its own cap."""

    max_attempts: int = 5
    """Tries in all (first try included) for requests that may be repeated."""
    base_delay_s: float = 0.5
    """Wait before the first retry; doubles each time."""
    max_delay_s: float = 15.0
    """Cap of the exponential wait."""
    max_retry_after_s: float = 60.0
    """Cap of a server-requested wait: a bogus `Retry-After: 86400` must not park a visitor."""
    jitter: float = 0.2
    """Spread (±fraction) so many followers do not retry in lock-step."""
    random: Callable[[], float] = field(default=random.random, repr=False, compare=False)

    def __post_init__(self) -> None:
        if self.max_attempts < 1:
            raise ValueError("max_attempts must be at least 1")
        if not 0 <= self.jitter < 1:
            raise ValueError("jitter must be in [0, 1)")

    def delay(self, retry: int, error: ReplicateError | None = None) -> float:
        """Seconds to wait before retry number `retry` (1 = the first retry) after `error`."""
        told = error.retry_after_s if isinstance(error, RateLimited) else None
        if told is not None:
            return min(self.max_retry_after_s, told * (1 + self.jitter * self.random()))
        backoff = min(self.max_delay_s, self.base_delay_s * 2 ** (retry - 1))
        return backoff * (1 + self.jitter * (2 * self.random() - 1))


def is_transient(error: ReplicateError) -> bool:
    """Worth asking again: network trouble, throttling, or a server-side failure."""
    return isinstance(error, TransportError | RateLimited | ServerError)


def surely_not_received(error: ReplicateError) -> bool:
    """The server certainly did not act on the request (a create may be re-sent)."""
    return isinstance(error, RateLimited) or (isinstance(error, TransportError) and not error.maybe_sent)


def is_ambiguous(error: ReplicateError) -> bool:
    """The server may have acted on the request although no success answer came back."""
    return isinstance(error, ServerError) or (isinstance(error, TransportError) and error.maybe_sent)


async def with_retries(
    operation: Callable[[], Awaitable[T]],
    *,
    policy: RetryPolicy,
    sleep: Sleep,
    what: str,
    retry_if: Callable[[ReplicateError], bool] = is_transient,
) -> T:
    """Run `operation`, retrying errors `retry_if` accepts; the last error is raised as it came."""
    retry = 0
    while True:
        try:
            return await operation()
        except ReplicateError as error:
            retry += 1
            if retry >= policy.max_attempts or not retry_if(error):
                raise
            wait = policy.delay(retry, error)
            logger.info(
                "%s failed (%s); retry %d of %d in %.2f s",
                what, describe(error), retry, policy.max_attempts - 1, wait,
            )
            await sleep(wait)


def describe(error: ReplicateError) -> str:
    """A short log label for `error`: its type and status, never its (server-written) text."""
    status = getattr(error, "status", None)
    return f"{type(error).__name__} {status}" if status else type(error).__name__
