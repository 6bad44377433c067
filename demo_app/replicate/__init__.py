"""Async client of Replicate's HTTP API: predictions, files, downloads; nothing app-specific.

The same code path talks to api.replicate.com and to the built-in engine (pass its in-process
`transport`). Errors are the typed tree in `errors`; retries follow `RetryPolicy`.
"""

from demo_app.replicate._client import CREATE_CLOCK_MARGIN
from demo_app.replicate._headers import MIN_CANCEL_AFTER_S

from ._client import ReplicateClient
from ._files import FileInput, FileObject
from ._output import pick_video
from ._prediction import TERMINAL_STATUSES, Prediction, PredictionUrls, Status
from ._progress import Progress, parse_progress
from ._retry import RetryPolicy
from .errors import (
    APIError,
    ConnectFailed,
    ConnectionDropped,
    CreateOutcomeUnknown,
    InvalidInput,
    NotFound,
    OutputTooLarge,
    OutputUnavailable,
    PayloadTooLarge,
    RateLimited,
    ReplicateError,
    ServerError,
    TimedOut,
    TransportError,
    Unauthorized,
    UnexpectedResponse,
    UnsafeRedirect,
)

__all__ = [
    "CREATE_CLOCK_MARGIN",
    "MIN_CANCEL_AFTER_S",
    "TERMINAL_STATUSES",
    "APIError",
    "ConnectFailed",
    "ConnectionDropped",
    "CreateOutcomeUnknown",
    "FileInput",
    "FileObject",
    "InvalidInput",
    "NotFound",
    "OutputTooLarge",
    "OutputUnavailable",
    "PayloadTooLarge",
    "Prediction",
    "PredictionUrls",
    "Progress",
    "RateLimited",
    "ReplicateClient",
    "ReplicateError",
    "RetryPolicy",
    "ServerError",
    "Status",
    "TimedOut",
    "TransportError",
    "Unauthorized",
    "UnexpectedResponse",
    "UnsafeRedirect",
    "parse_progress",
    "pick_video",
]
