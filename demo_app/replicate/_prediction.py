"""The Prediction object exactly as Replicate documents it, tolerant of what real responses contain.

Real bodies lack keys (`output` before there is one, `metrics` until the end), carry extra ones
(`webhook_completed`, `stream`), send `logs`/`error` as null or "", and timestamps with nine
fractional digits. A status this code does not know is kept as `Status.UNKNOWN` (logged once per
value) so a new upstream status never crashes a poll and is never mistaken for an end.
"""

from __future__ import annotations

import logging
from datetime import datetime
from enum import StrEnum
from typing import Annotated, Any

from pydantic import (
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    ValidationError,
    ValidatorFunctionWrapHandler,
    WrapValidator,
)

from ._output import output_urls
from ._progress import Progress, parse_progress

logger = logging.getLogger(__name__)


class Status(StrEnum):
    """A prediction's status; `aborted` = ended by its deadline before it started (not charged)."""

    STARTING = "starting"
    PROCESSING = "processing"
    SUCCEEDED = "succeeded"
    FAILED = "failed"
    CANCELED = "canceled"
    ABORTED = "aborted"
    UNKNOWN = "unknown"


TERMINAL_STATUSES: frozenset[Status] = frozenset(
    {Status.SUCCEEDED, Status.FAILED, Status.CANCELED, Status.ABORTED}
)
"""Statuses after which a prediction never changes again."""

_KNOWN = {status.value: status for status in Status if status is not Status.UNKNOWN}
_reported_unknown: set[str] = set()


def _status(value: Any) -> Status:
    if isinstance(value, Status):
        return value
    known = _KNOWN.get(str(value))
    if known is not None:
        return known
    text = str(value)[:40]
    if text not in _reported_unknown:
        _reported_unknown.add(text)
        logger.warning("Replicate sent an unknown prediction status %r; treating it as still running.", text)
    return Status.UNKNOWN


def _lenient_datetime(value: Any, handler: ValidatorFunctionWrapHandler) -> datetime | None:
    """A malformed timestamp becomes None: one bad field must not make a whole poll fail."""
    try:
        result: datetime | None = handler(value)
    except ValidationError:
        logger.debug("Ignoring a malformed timestamp from Replicate: %r", value)
        return None
    return result


def _empty_if_none(value: Any) -> Any:
    return {} if value is None else value


Timestamp = Annotated[datetime | None, WrapValidator(_lenient_datetime)]


class PredictionUrls(BaseModel):
    """Where to follow a prediction; `web` and `stream` are often absent."""

    model_config = ConfigDict(extra="ignore", frozen=True)

    get: str | None = None
    cancel: str | None = None
    web: str | None = None
    stream: str | None = None


class Prediction(BaseModel):
    """One prediction as returned by create, get, cancel and list."""

    model_config = ConfigDict(extra="ignore", frozen=True)

    id: str
    model: str | None = None
    """`owner/name`; for official models it may name an internal deployment model."""
    version: str | None = None
    """A 64-hex version id, `dp-…` or the literal `hidden` for official models."""
    input: Annotated[dict[str, Any], BeforeValidator(_empty_if_none)] = Field(default_factory=dict)
    output: Any = None
    """Any JSON; see `output_urls` for the files in it. Non-null does not mean finished."""
    error: str | None = None
    logs: str | None = None
    status: Annotated[Status, BeforeValidator(_status)]
    source: str | None = None
    """`api` or `web`."""
    data_removed: bool = False
    """True once Replicate deleted inputs, outputs and logs (one hour after an API prediction)."""
    created_at: Timestamp = None
    started_at: Timestamp = None
    completed_at: Timestamp = None
    deadline: Timestamp = None
    """When Replicate cancels it automatically (from `Cancel-After`)."""
    deployment: str | None = None
    metrics: Annotated[dict[str, Any], BeforeValidator(_empty_if_none)] = Field(default_factory=dict)
    """`predict_time` (billed seconds) and `total_time` once terminal; may hold more."""
    urls: Annotated[PredictionUrls, BeforeValidator(_empty_if_none)] = Field(default_factory=PredictionUrls)

    @property
    def is_terminal(self) -> bool:
        """True once the status can no longer change (UNKNOWN is not terminal)."""
        return self.status in TERMINAL_STATUSES

    @property
    def output_urls(self) -> list[str]:
        """The file URLs in `output`, flattened whatever its shape."""
        return output_urls(self.output)

    @property
    def predict_time(self) -> float | None:
        """Seconds Replicate bills for, once it reports them."""
        value = self.metrics.get("predict_time")
        return float(value) if isinstance(value, int | float) and not isinstance(value, bool) else None

    @property
    def progress(self) -> Progress | None:
        """Progress from the newest progress line of `logs`, if there is one."""
        return parse_progress(self.logs)
