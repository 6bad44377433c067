"""A batch as its viewers see it: each item's state, or its job's status and credits once started."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime

from demo_app.batches._types import BatchRecord, ItemState
from demo_app.jobs import JobSnapshot, JobStatus

GONE = "expired"
"""The status of a started item whose job was forgotten (past its keep time)."""


@dataclass(frozen=True)
class ItemView:
    """One item: `status` is waiting, dropped or refused, else its job's status."""

    number: int
    clip: str
    status: str
    job_id: str | None
    held: int
    charged: int | None
    returned: int | None
    error: str | None
    video_path: str | None


@dataclass(frozen=True)
class BatchView:
    """The batch now; `finished` once no item will change any more."""

    batch_id: str
    model: str
    created_at: datetime
    canceled: bool
    finished: bool
    items: list[ItemView]

    @property
    def succeeded(self) -> int:
        return sum(item.status == JobStatus.SUCCEEDED.value for item in self.items)


def batch_view(record: BatchRecord, snaps: Mapping[str, JobSnapshot]) -> BatchView:
    """The record with each started item's job as `snaps` has it now (missing: forgotten)."""
    items = []
    for item in record.items:
        snap = None
        if item.state is ItemState.STARTED and item.job_id is not None:
            snap = snaps.get(item.job_id)
        if snap is None:
            status = GONE if item.state is ItemState.STARTED else item.state.value
            items.append(
                ItemView(item.number, item.clip, status, item.job_id, 0, None, None, item.error, None)
            )
        else:
            items.append(
                ItemView(
                    item.number,
                    item.clip,
                    snap.status.value,
                    snap.job_id,
                    snap.held,
                    snap.charged,
                    snap.returned,
                    snap.error,
                    snap.video_path if snap.status is JobStatus.SUCCEEDED else None,
                )
            )
    return BatchView(
        record.batch_id,
        record.model,
        record.created_at,
        record.canceled,
        record.finished_at is not None,
        items,
    )
