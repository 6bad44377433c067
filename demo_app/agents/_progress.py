"""A job's snapshots as MCP progress notifications.

MCP asks that each notification's `progress` be larger than the one before, while a job's own
progress is often unknown (queued, starting) or stands still while its status or sentence
changes. So `progress` is the job's percent when it reports one, nudged just above the previous
value otherwise, and below 99 until the job has ended (a model at 100% still has the video to
hand over); `total` is 100; the message says the status and the job's sentence.
"""

from __future__ import annotations

from dataclasses import dataclass

from demo_app.jobs import JobSnapshot

NUDGE = 0.01
TOTAL = 100.0
RUNNING_MAX = 99.0


@dataclass(frozen=True)
class ProgressNote:
    """One notification's fields."""

    progress: float
    total: float
    message: str


class ProgressSteps:
    """Turns each snapshot of one job into the next notification, always a step further."""

    def __init__(self) -> None:
        self._last = 0.0

    def note(self, snap: JobSnapshot) -> ProgressNote:
        """The notification for `snap`."""
        if snap.terminal:
            known = TOTAL
        else:
            known = min(snap.progress * TOTAL, RUNNING_MAX) if snap.progress is not None else 0.0
        self._last = max(round(known, 2), round(self._last + NUDGE, 2))
        percent = f" ({snap.progress:.0%})" if snap.progress is not None and not snap.terminal else ""
        return ProgressNote(self._last, TOTAL, f"{snap.status.value}{percent}: {snap.message}")
