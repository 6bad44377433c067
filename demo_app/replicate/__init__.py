"""Async client of Replicate's HTTP API: predictions, files, downloads; nothing app-specific.

Errors are the typed tree in `errors`.
"""

from ._files import FileObject
from ._output import pick_video
from ._prediction import TERMINAL_STATUSES, Prediction, PredictionUrls, Status
from ._progress import Progress, parse_progress
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
)

__all__ = [
    "TERMINAL_STATUSES",
    "APIError",
    "ConnectFailed",
    "ConnectionDropped",
    "CreateOutcomeUnknown",
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
    "ReplicateError",
    "ServerError",
    "Status",
    "TimedOut",
    "TransportError",
    "Unauthorized",
    "UnexpectedResponse",
    "parse_progress",
    "pick_video",
]
