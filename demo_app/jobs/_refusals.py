"""Why a job cannot start at all: typed refusals, each with its numbers and its sentence.

Raised by `JobManager.start` before anything is written, held or decoded. Callers branch on the
type; `str()` is the sentence a visitor reads (worded here, at the jobs boundary).
"""

from __future__ import annotations

from demo_app.jobs._messages import about
from demo_app.money import format_credits


class JobRefused(ValueError):
    """The job cannot start; `str()` says what to do."""


class ModelNotOffered(JobRefused):
    """No model by that id is offered."""

    def __init__(self, model_id: str, detail: str) -> None:
        self.model_id = model_id
        super().__init__(detail)


class ModelUnavailable(JobRefused):
    """The model is offered, but its schema on Replicate no longer takes what we send."""

    def __init__(self, model_id: str, reason: str) -> None:
        self.model_id = model_id
        super().__init__(reason)


class BadOptions(JobRefused):
    """An option is unknown, of the wrong type, or out of its range."""


class StudioBusy(JobRefused):
    """The whole studio runs as many jobs as it may."""

    def __init__(self, running: int) -> None:
        self.running = running
        super().__init__(f"The studio is busy ({running} jobs running); try again in a minute.")


class LineFull(JobRefused):
    """The create line is as long as it may be; the sentence says how long the wait would be."""

    def __init__(self, waiting: int, eta_s: float) -> None:
        self.waiting, self.eta_s = waiting, eta_s
        super().__init__(
            f"{waiting:,} jobs are already waiting to start, so a new one would wait {about(eta_s)}; "
            "try again later."
        )


class OwnerBusy(JobRefused):
    """This visitor already runs as many jobs as one visitor may."""

    def __init__(self, running: int, limit: int) -> None:
        self.running, self.limit = running, limit
        jobs = "job" if running == 1 else "jobs"
        super().__init__(
            f"You already have {running} {jobs} running (the limit is {limit}); "
            "wait for one to finish or cancel it."
        )


class CannotAfford(JobRefused):
    """The visitor's available credits do not pay even the model's shortest run."""

    def __init__(self, available: int, needed: int, model_title: str) -> None:
        self.available, self.needed = available, needed
        super().__init__(
            f"You have {available:,} credits ({format_credits(available)}) available and the shortest "
            f"{model_title} run costs {needed:,} ({format_credits(needed)}); wait for your running jobs "
            "to give back what they did not use, or ask the Space's owner for credits."
        )
