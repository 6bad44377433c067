"""How a stage ends a job: it raises `JobEnded`, which the runner catches once and settles.

`Canceled` and `PastDeadline` are the two interruptions a wait can raise; the runner turns
them into an ending after stopping the prediction upstream.
"""

from __future__ import annotations

from demo_app.jobs._messages import Ending, reason, status_of


class JobEnded(Exception):
    """The job is over: settle it. `capture` for a delivered video; `spent` is what Replicate
    bills for a run that ended without one (it counts against the studio's daily budget)."""

    def __init__(
        self,
        ending: Ending,
        *,
        detail: str = "",
        limit: str = "",
        capture: int | None = None,
        spent: int = 0,
    ) -> None:
        self.ending = ending
        self.status = status_of(ending)
        self.reason = reason(ending, detail=detail, limit=limit)
        self.capture = capture
        self.spent = spent
        super().__init__(self.reason)


class Canceled(Exception):
    """The visitor asked to cancel while a step was running."""


class PastDeadline(Exception):
    """The job's own time-out passed while waiting."""
