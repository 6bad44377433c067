"""Cursor pages over predictions, newest first, like `GET /v1/predictions`.

A cursor names the boundary item (`created_at` + `id`) and a direction, so a page stays
stable while new predictions arrive (they only ever go to the front). Cursors are opaque
base64 to the caller; `next` and `previous` are full URLs carrying the caller's filters.
"""

from __future__ import annotations

import base64
import binascii
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from demo_app.engine._predictions import PredictionRecord


@dataclass(frozen=True)
class Cursor:
    direction: str  # "next": older than the key; "prev": newer than the key
    created_at: datetime
    id: str

    def encode(self) -> str:
        raw = f"{self.direction}|{self.created_at.isoformat()}|{self.id}"
        return base64.urlsafe_b64encode(raw.encode()).decode().rstrip("=")

    @classmethod
    def decode(cls, text: str) -> Cursor:
        try:
            raw = base64.urlsafe_b64decode(text + "=" * (-len(text) % 4)).decode()
            direction, created, ident = raw.split("|")
            if direction not in ("next", "prev"):
                raise ValueError(direction)
            return cls(direction, datetime.fromisoformat(created), ident)
        except (ValueError, binascii.Error, UnicodeDecodeError) as exc:
            raise ValueError("The cursor is not one this server gave out; start again without it.") from exc


@dataclass(frozen=True)
class Page:
    results: list[PredictionRecord]
    next: Cursor | None
    previous: Cursor | None


def paginate(newest_first: Sequence[PredictionRecord], cursor: Cursor | None, size: int) -> Page:
    """One page of `newest_first` (already filtered) at `cursor`."""
    keys = [(r.created_at, r.id) for r in newest_first]
    if cursor is None:
        start = 0
    elif cursor.direction == "next":
        start = next((i for i, k in enumerate(keys) if k < (cursor.created_at, cursor.id)), len(keys))
    else:
        newer = sum(1 for k in keys if k > (cursor.created_at, cursor.id))
        start = max(0, newer - size)
    results = list(newest_first[start : start + size])
    has_next = start + size < len(keys)
    has_prev = start > 0
    return Page(
        results=results,
        next=Cursor("next", results[-1].created_at, results[-1].id) if has_next and results else None,
        previous=Cursor("prev", results[0].created_at, results[0].id) if has_prev and results else None,
    )
