"""A prediction as the engine keeps it, and its JSON as Replicate shows it.

The record is mutated only through `start`, `append_log`, `finish` and `remove_data` (and `shown`,
which notes diagnostics only), so a
terminal status is final (a later cancel or deadline cannot overwrite a success), `settled`
fires exactly once, and `wait_until` can watch any change without polling.
Optional timestamps are left out of the JSON until they exist, as in Replicate's own responses
(the OpenAPI schema types them as non-nullable strings).
"""

from __future__ import annotations

import asyncio
import base64
import secrets
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from enum import StrEnum
from typing import Any

from demo_app.engine._hosted_models import HostedModel


class RecordStatus(StrEnum):
    STARTING = "starting"
    PROCESSING = "processing"
    SUCCEEDED = "succeeded"
    FAILED = "failed"
    CANCELED = "canceled"
    ABORTED = "aborted"


TERMINAL_STATUSES = frozenset(
    {RecordStatus.SUCCEEDED, RecordStatus.FAILED, RecordStatus.CANCELED, RecordStatus.ABORTED}
)


def new_id() -> str:
    """26 lowercase base32 characters, the shape of Replicate's prediction and file ids."""
    return base64.b32encode(secrets.token_bytes(16)).decode().rstrip("=").lower()


def iso(moment: datetime) -> str:
    """Replicate's timestamp form: UTC, microseconds, `Z`."""
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


@dataclass
class PredictionRecord:
    id: str
    model: HostedModel
    input: dict[str, Any]
    created_at: datetime
    deadline: datetime | None = None
    status: RecordStatus = RecordStatus.STARTING
    started_at: datetime | None = None
    completed_at: datetime | None = None
    logs: str = ""
    log_times: list[datetime] = field(default_factory=list)
    """When each line of `logs` was printed (the engine's diagnostics, not in the JSON)."""
    status_shown: dict[str, datetime] = field(default_factory=dict)
    """When an answer first showed each status; `lines_shown`: each log line (diagnostics)."""
    lines_shown: list[datetime] = field(default_factory=list)
    logs_pushed: int = 0
    """`logs`/`output` webhooks the receiver answered 2xx (diagnostics: pushed, not polled)."""
    output: Any = None
    error: str | None = None
    data_removed: bool = False
    metrics: dict[str, float] = field(default_factory=dict)
    settled: asyncio.Event = field(default_factory=asyncio.Event)
    on_finish: Callable[[PredictionRecord], None] | None = field(default=None, repr=False)
    """Called once, when the record reaches its terminal status (the engine's retention)."""
    on_event: Callable[[PredictionRecord, str], None] | None = field(default=None, repr=False)
    """Called at `start`, `logs` and `completed` (the engine's webhooks)."""
    _changed: asyncio.Event = field(default_factory=asyncio.Event, repr=False)

    @property
    def terminal(self) -> bool:
        return self.status in TERMINAL_STATUSES

    async def wait_until(self, condition: Callable[[PredictionRecord], bool]) -> None:
        """Return once `condition(self)` holds, re-checking after every change."""
        while not condition(self):
            self._changed.clear()
            await self._changed.wait()

    def start(self, now: datetime) -> None:
        if self.status is RecordStatus.STARTING:
            self.status = RecordStatus.PROCESSING
            self.started_at = now
            self._changed.set()
            self._tell("start")

    def append_log(self, line: str, now: datetime) -> None:
        if not self.terminal:
            self.logs += line + "\n"
            self.log_times.append(now)
            self._changed.set()
            self._tell("logs")

    def shown(self, now: datetime, *, logs: bool = True) -> None:
        """An answer told a client this record as it is now: note what was new."""
        self.shown_upto(self.status.value, len(self.log_times) if logs else 0, now)

    def shown_upto(self, status: str, lines: int, now: datetime) -> None:
        """A client learnt, at `now`, the record as it was when it had `status` and `lines` log
        lines (a webhook is answered after the record may have moved on)."""
        self.status_shown.setdefault(status, now)
        self.lines_shown.extend([now] * (lines - len(self.lines_shown)))

    def finish(
        self, status: RecordStatus, now: datetime, *, output: Any = None, error: str | None = None
    ) -> bool:
        """Move to a terminal status; False (and nothing changes) if already terminal."""
        if self.terminal:
            return False
        self.status = status
        self.completed_at = now
        self.output = output
        self.error = error
        self.metrics = {"total_time": (now - self.created_at).total_seconds()}
        if self.started_at is not None:
            self.metrics["predict_time"] = (now - self.started_at).total_seconds()
        self.settled.set()
        self._changed.set()
        if self.on_finish is not None:
            self.on_finish(self)
        self._tell("completed")
        return True

    def _tell(self, event: str) -> None:
        if self.on_event is not None:
            self.on_event(self, event)

    def remove_data(self) -> None:
        """What Replicate does when an API prediction's retention ends: the output goes."""
        self.output = None
        self.data_removed = True
        self._changed.set()

    def to_json(self, base_url: str) -> dict[str, Any]:
        url = f"{base_url}/v1/predictions/{self.id}"
        body: dict[str, Any] = {
            "id": self.id,
            "model": self.model.id,
            "version": self.model.reported_version,
            "input": self.input,
            "logs": self.logs,
            "output": _absolute(self.output, base_url),
            "data_removed": self.data_removed,
            "error": self.error,
            "status": self.status.value,
            "source": "api",
            "created_at": iso(self.created_at),
            "urls": {"get": url, "cancel": f"{url}/cancel", "web": f"{base_url}/p/{self.id}"},
            "metrics": dict(self.metrics),
        }
        for key, moment in (
            ("started_at", self.started_at),
            ("completed_at", self.completed_at),
            ("deadline", self.deadline),
        ):
            if moment is not None:
                body[key] = iso(moment)
        return body


def _absolute(output: Any, base_url: str) -> Any:
    """Outputs are stored as engine-relative paths (`/delivery/...`) and shown as full URLs."""
    if isinstance(output, str) and output.startswith("/"):
        return base_url + output
    if isinstance(output, list):
        return [_absolute(item, base_url) for item in output]
    return output
