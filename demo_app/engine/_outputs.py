"""Output files the engine serves itself, under URLs that expire like replicate.delivery's.

An output is published under an unguessable token (`/delivery/<token>/<name>`), so it can be
fetched without the API token, as Replicate's delivery URLs can. At `expires_at` the bytes are
deleted; the URL then answers 410 Gone, and the owning prediction loses its output
(`data_removed`), as Replicate does when an API prediction's one-hour retention ends. The
token itself is forgotten `keep_known_s` later (then 404), so memory stays bounded.
"""

from __future__ import annotations

import heapq
import secrets
import shutil
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from enum import Enum
from pathlib import Path

from demo_app.engine._clock import Clock


class OutputState(Enum):
    LIVE = "live"
    EXPIRED = "expired"
    UNKNOWN = "unknown"


@dataclass
class Output:
    token: str
    name: str
    content_type: str
    expires_at: datetime
    prediction_id: str | None
    """The prediction whose `output` is removed at expiry (None: leave the prediction alone)."""
    path: Path = field(repr=False)

    @property
    def url_path(self) -> str:
        return f"/delivery/{self.token}/{self.name}"


class OutputStore:
    def __init__(self, root: Path, clock: Clock, *, keep_known_s: float = 3600.0) -> None:
        self._root = root
        self._clock = clock
        self._keep_known = timedelta(seconds=keep_known_s)
        self._outputs: dict[str, Output] = {}
        self._expiry: list[tuple[datetime, str]] = []
        self._forget: list[tuple[datetime, str]] = []

    def publish(
        self, source: Path, *, name: str, content_type: str, ttl_s: float, prediction_id: str | None
    ) -> Output:
        """Move `source` under a fresh token; it stays reachable for `ttl_s` clock seconds."""
        token = secrets.token_urlsafe(18)
        folder = self._root / token
        folder.mkdir(parents=True)
        path = folder / name
        shutil.move(source, path)
        output = Output(
            token=token,
            name=name,
            content_type=content_type,
            expires_at=self._clock.now() + timedelta(seconds=ttl_s),
            prediction_id=prediction_id,
            path=path,
        )
        self._outputs[token] = output
        heapq.heappush(self._expiry, (output.expires_at, token))
        return output

    def lookup(self, token: str, name: str) -> tuple[OutputState, Output | None]:
        output = self._outputs.get(token)
        if output is None or output.name != name:
            return OutputState.UNKNOWN, None
        if self._clock.now() >= output.expires_at:
            return OutputState.EXPIRED, output
        return OutputState.LIVE, output

    def next_expiry(self) -> datetime | None:
        moments = [heap[0][0] for heap in (self._expiry, self._forget) if heap]
        return min(moments, default=None)

    def __len__(self) -> int:
        """Tokens still known (live or answering 410)."""
        return len(self._outputs)

    def sweep(self) -> list[Output]:
        """Delete every output whose time has come; return them (their tokens stay known a while: 410)."""
        now = self._clock.now()
        expired = []
        while self._expiry and self._expiry[0][0] <= now:
            _, token = heapq.heappop(self._expiry)
            output = self._outputs[token]
            shutil.rmtree(output.path.parent, ignore_errors=True)
            expired.append(output)
            heapq.heappush(self._forget, (output.expires_at + self._keep_known, token))
        while self._forget and self._forget[0][0] <= now:
            _, token = heapq.heappop(self._forget)
            self._outputs.pop(token, None)
        return expired
