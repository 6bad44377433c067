"""Everything the Replicate client raises, one tree, so callers branch on type and never on text.

```
ReplicateError                     base; str(exc) is one readable sentence, never the token
├── TransportError                 no usable HTTP response (.maybe_sent: could the server have it?)
│   ├── ConnectFailed              no connection was made: the request surely never arrived
│   ├── TimedOut                   no answer in time (pool wait: not sent; read/write: maybe sent)
│   └── ConnectionDropped          the connection broke mid-exchange: the request may have arrived
├── APIError(status, title, detail)  Replicate answered with an error status (problem+json or text)
│   ├── Unauthorized               401: the token is missing or wrong
│   ├── NotFound                   404: no such model, version, prediction or file
│   ├── PayloadTooLarge            413: an upload is over Replicate's size limit
│   ├── InvalidInput               422: the input was refused (.field_messages per field)
│   ├── RateLimited                429: throttled (.retry_after_s from Retry-After or the body)
│   └── ServerError                5xx: Replicate's side failed
├── UnexpectedResponse             a success status whose body is not what the API documents
│   └── ResponseTooLarge           a body over the size the caller reads (model schemas)
├── CreateOutcomeUnknown           a create may or may not have started a prediction
├── OutputTooLarge                 an output file is over the caller's size cap
└── OutputUnavailable              an output file is gone (404/410, expired or removed)
    └── UnsafeRedirect             its download was redirected to a host the app never fetches from
```
"""

from __future__ import annotations

__all__ = [
    "APIError",
    "ConnectFailed",
    "ConnectionDropped",
    "CreateOutcomeUnknown",
    "InvalidInput",
    "NotFound",
    "OutputTooLarge",
    "OutputUnavailable",
    "PayloadTooLarge",
    "RateLimited",
    "ReplicateError",
    "ResponseTooLarge",
    "ServerError",
    "TimedOut",
    "TransportError",
    "Unauthorized",
    "UnexpectedResponse",
    "UnsafeRedirect",
]


class ReplicateError(Exception):
    """Base of every error the client raises; the message says what is wrong and what to do."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message

    def __str__(self) -> str:
        return self.message


class TransportError(ReplicateError):
    """No usable HTTP response arrived (raised from the underlying httpx exception)."""

    maybe_sent: bool = True
    """False only when the request certainly never reached the server (safe to re-send a create)."""


class ConnectFailed(TransportError):
    """No connection could be opened (DNS, refused, TLS, connect time-out)."""

    maybe_sent = False


class TimedOut(TransportError):
    """A time-out expired; `maybe_sent` is False when it was the wait for a pooled connection."""

    def __init__(self, message: str, *, maybe_sent: bool) -> None:
        super().__init__(message)
        self.maybe_sent = maybe_sent


class ConnectionDropped(TransportError):
    """The connection broke after the request started: the server may have acted on it."""


class APIError(ReplicateError):
    """Replicate answered with an error status; `title`/`detail` come from its problem+json body."""

    def __init__(self, message: str, *, status: int, title: str, detail: str) -> None:
        super().__init__(message)
        self.status = status
        self.title = title
        self.detail = detail


class Unauthorized(APIError):
    """401: the API token is missing, wrong or revoked."""


class NotFound(APIError):
    """404: the model, version, prediction or file does not exist (or the path is wrong)."""


class PayloadTooLarge(APIError):
    """413: an upload is larger than Replicate accepts."""


class InvalidInput(APIError):
    """422: the input was refused; `field_messages` maps each field to what is wrong with it."""

    def __init__(
        self, message: str, *, status: int, title: str, detail: str, field_messages: dict[str, str]
    ) -> None:
        super().__init__(message, status=status, title=title, detail=detail)
        self.field_messages = field_messages


class RateLimited(APIError):
    """429: too many requests; `retry_after_s` is the server's wait, or None if it gave none."""

    def __init__(
        self, message: str, *, status: int, title: str, detail: str, retry_after_s: float | None
    ) -> None:
        super().__init__(message, status=status, title=title, detail=detail)
        self.retry_after_s = retry_after_s


class ServerError(APIError):
    """5xx: Replicate (or a proxy in front of it) failed; the request may or may not have acted."""


class UnexpectedResponse(ReplicateError):
    """A success status came with a body the API does not document (not JSON, missing fields)."""


class ResponseTooLarge(UnexpectedResponse):
    """A body larger than the caller reads; nothing of it was parsed."""

    def __init__(self, message: str, *, max_bytes: int) -> None:
        super().__init__(message)
        self.max_bytes = max_bytes


class CreateOutcomeUnknown(ReplicateError):
    """A create failed after it may have reached Replicate, and no listing could settle whether it did."""


class OutputTooLarge(ReplicateError):
    """An output file is larger than the caller allows; nothing was kept on disk."""

    def __init__(self, message: str, *, max_bytes: int) -> None:
        super().__init__(message)
        self.max_bytes = max_bytes


class OutputUnavailable(ReplicateError):
    """An output file can no longer be fetched (404/410: expired or removed)."""


class UnsafeRedirect(OutputUnavailable):
    """A download was redirected to plain http, or to a private, loopback or link-local host."""
