"""Async client of Replicate's HTTP API: predictions, files, downloads, model schemas; nothing app-specific.

The same code path talks to api.replicate.com and to the built-in engine (pass its in-process
`transport`). Errors are the typed tree in `errors`; retries follow `RetryPolicy`.
"""

from demo_app.replicate._client import CREATE_CLOCK_MARGIN
from demo_app.replicate._headers import MIN_CANCEL_AFTER_S

from ._client import ReplicateClient
from ._download import stream_to_file
from ._files import FileInput, FileObject, data_url_size_bound, decode_data_url
from ._model import MAX_MODEL_BYTES, ModelInfo, ModelVersion
from ._output import pick_video
from ._pacing import (
    CREATES_CEILING_PER_MIN,
    DEFAULT_CREATES_PER_MIN,
    DEFAULT_READS_PER_MIN,
    READS_CEILING_PER_MIN,
    Call,
    Pacer,
    Pacing,
    Priority,
    TokenBucket,
)
from ._prediction import TERMINAL_STATUSES, Prediction, PredictionUrls, Status
from ._progress import Progress, parse_progress
from ._redirects import RedirectPolicy
from ._retry import RetryPolicy
from ._shared_bucket import SharedBucket
from ._webhook import Delivery, SignatureMismatch, SigningKey, WebhookRefused, verify_webhook
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
    ResponseTooLarge,
    ServerError,
    TimedOut,
    TransportError,
    Unauthorized,
    UnexpectedResponse,
    UnsafeRedirect,
)

__all__ = [
    "CREATES_CEILING_PER_MIN",
    "CREATE_CLOCK_MARGIN",
    "DEFAULT_CREATES_PER_MIN",
    "DEFAULT_READS_PER_MIN",
    "MAX_MODEL_BYTES",
    "MIN_CANCEL_AFTER_S",
    "READS_CEILING_PER_MIN",
    "TERMINAL_STATUSES",
    "APIError",
    "Call",
    "ConnectFailed",
    "ConnectionDropped",
    "CreateOutcomeUnknown",
    "Delivery",
    "FileInput",
    "FileObject",
    "InvalidInput",
    "ModelInfo",
    "ModelVersion",
    "NotFound",
    "OutputTooLarge",
    "OutputUnavailable",
    "Pacer",
    "Pacing",
    "PayloadTooLarge",
    "Prediction",
    "PredictionUrls",
    "Priority",
    "Progress",
    "RateLimited",
    "RedirectPolicy",
    "ReplicateClient",
    "ReplicateError",
    "ResponseTooLarge",
    "RetryPolicy",
    "ServerError",
    "SharedBucket",
    "SignatureMismatch",
    "SigningKey",
    "Status",
    "TimedOut",
    "TokenBucket",
    "TransportError",
    "Unauthorized",
    "UnexpectedResponse",
    "UnsafeRedirect",
    "WebhookRefused",
    "data_url_size_bound",
    "decode_data_url",
    "parse_progress",
    "pick_video",
    "stream_to_file",
    "verify_webhook",
]
