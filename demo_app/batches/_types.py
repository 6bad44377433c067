"""What a batch is: its items in order, each waiting, started (then its job says the rest),
dropped by a cancel, or refused when it came to start; the record survives a restart."""

from __future__ import annotations

import enum
from datetime import datetime
from typing import Any

from pydantic import BaseModel, Field


class ItemState(enum.StrEnum):
    """Where an item is in its batch; once `started`, its job's own status tells the rest."""

    WAITING = "waiting"
    STARTED = "started"
    DROPPED = "dropped"
    REFUSED = "refused"


class BatchItem(BaseModel):
    """One face-and-clip pair of a batch (its files are the batch's own copies)."""

    number: int
    clip: str
    """The clip's file name as sent, cleaned for showing (a label only, never a path)."""
    image: str
    audio: str
    state: ItemState = ItemState.WAITING
    job_id: str | None = None
    error: str | None = None


class BatchRecord(BaseModel):
    """A batch: who started it, with which model and options, and its items."""

    batch_id: str
    owner: str
    model: str
    options: dict[str, Any] = Field(default_factory=dict)
    created_at: datetime
    items: list[BatchItem]
    canceled: bool = False
    finished_at: datetime | None = None
    """Set once every item was started (and its job settled), dropped or refused."""


ONE_RUNNING = "You already have a batch running; wait for it to finish or cancel it."


class BatchNotFound(LookupError):
    """No such batch for this owner (another owner's batch looks exactly like a missing one)."""


class BatchRefused(ValueError):
    """The batch cannot start; `str()` is the one sentence that says what to fix."""
