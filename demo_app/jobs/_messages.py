"""Every sentence a visitor reads about a job, in one place: how each ending is worded, and the
status line of each stage. The stages name an `Ending`; only this module words it."""

from __future__ import annotations

import enum

from demo_app.jobs._types import JobStatus
from demo_app.money import format_credits


class Ending(enum.StrEnum):
    """How a job ended; each maps to one status and one sentence."""

    DONE = "done"
    REFUSED = "refused"
    CHECK_TOO_SLOW = "check_too_slow"
    CANCELED = "canceled"
    CANCELED_UPSTREAM = "canceled_upstream"
    TIMED_OUT = "timed_out"
    NEVER_STARTED = "never_started"
    UPSTREAM_DEADLINE = "upstream_deadline"
    MODEL_FAILED = "model_failed"
    NO_VIDEO = "no_video"
    VIDEO_EXPIRED = "video_expired"
    VIDEO_TOO_LARGE = "video_too_large"
    VIDEO_NOT_SAVED = "video_not_saved"
    NOT_A_VIDEO = "not_a_video"
    UNREACHABLE = "unreachable"
    INPUT_REFUSED = "input_refused"
    TOKEN_REFUSED = "token_refused"
    CREATE_FAILED = "create_failed"
    RESTARTED_BEFORE_START = "restarted_before_start"
    RESTARTED_BEFORE_MODEL = "restarted_before_model"
    OUR_FAULT = "our_fault"


_STATUS = {
    Ending.DONE: JobStatus.SUCCEEDED,
    Ending.REFUSED: JobStatus.REJECTED,
    Ending.CHECK_TOO_SLOW: JobStatus.REJECTED,
    Ending.CANCELED: JobStatus.CANCELED,
    Ending.CANCELED_UPSTREAM: JobStatus.CANCELED,
    Ending.TIMED_OUT: JobStatus.TIMED_OUT,
    Ending.NEVER_STARTED: JobStatus.TIMED_OUT,
    Ending.UPSTREAM_DEADLINE: JobStatus.TIMED_OUT,
}
"""Every other ending is a failure."""

_REASONS = {
    Ending.DONE: "Done",
    Ending.REFUSED: "{detail}",
    Ending.CHECK_TOO_SLOW: (
        "Checking your files took longer than {limit} (the studio is busy); try again in a minute."
    ),
    Ending.CANCELED: "Canceled",
    Ending.CANCELED_UPSTREAM: "Canceled on Replicate",
    Ending.TIMED_OUT: "Timed out after {limit}",
    Ending.NEVER_STARTED: "The model did not start before the time-out",
    Ending.UPSTREAM_DEADLINE: "The model did not finish before the time-out",
    Ending.MODEL_FAILED: "The model failed: {detail}",
    Ending.NO_VIDEO: "The model finished but returned no video",
    Ending.VIDEO_EXPIRED: "The video expired on Replicate before it could be saved",
    Ending.VIDEO_TOO_LARGE: "The model returned a video too large to keep",
    Ending.VIDEO_NOT_SAVED: "The video could not be saved ({detail})",
    Ending.NOT_A_VIDEO: "The model returned a file that is not a playable video",
    Ending.UNREACHABLE: "Replicate could not be reached to start the job",
    Ending.INPUT_REFUSED: "The model refused the input: {detail}",
    Ending.TOKEN_REFUSED: (
        "The Space's Replicate token was refused; the Space owner must update REPLICATE_API_TOKEN"
    ),
    Ending.CREATE_FAILED: "Replicate could not start the job ({detail})",
    Ending.RESTARTED_BEFORE_START: "The server restarted before the model started",
    Ending.RESTARTED_BEFORE_MODEL: "The server restarted before the job reached the model",
    Ending.OUR_FAULT: "Something went wrong on our side",
}

CHECKING = "Checking your inputs…"
UPLOADING = "Sending your files to the model…"
IN_LINE = "Waiting in line to start…"
STARTING = "Waiting for the model to start…"
PROCESSING = "Generating the video…"
SAVING = "Saving the video…"
SETTLING = "Video saved; settling the credits…"
SETTLING_SLOWLY = "Settling your credits is taking longer than usual; nothing is lost…"
FINISHED_BEFORE_CANCEL = "It finished before the cancel arrived."
VIDEO_REMOVED = " The video was removed to free space."


def status_of(ending: Ending) -> JobStatus:
    return _STATUS.get(ending, JobStatus.FAILED)


def reason(ending: Ending, *, detail: str = "", limit: str = "") -> str:
    """The short reason for an ending (stored as the job's `error` unless it succeeded)."""
    return _REASONS[ending].format(detail=detail, limit=limit)


def final_message(status: JobStatus, why: str, charged: int, returned: int) -> str:
    """The sentence a visitor reads when the job ends, with what it cost or gave back."""
    if status is JobStatus.SUCCEEDED:
        tail = f" ({format_credits(returned)} of the hold returned)" if returned else ""
        return f"Done — charged {format_credits(charged)}{tail}."
    if status is JobStatus.REJECTED:
        return why
    if returned:
        return f"{why} — {returned} credits ({format_credits(returned)}) returned."
    return f"{why}."


def duration_limit(seconds: float) -> str:
    """A time limit as the sentences say it: "10 min", "1.5 min", "45 s"."""
    minutes = seconds / 60
    return f"{minutes:g} min" if minutes >= 1 else f"{seconds:g} s"


def about(seconds: float) -> str:
    """An estimated wait as a visitor reads it: "under a minute", "about 2 min", "about 1 h 20 min"."""
    if seconds < 60:
        return "under a minute"
    minutes = round(seconds / 60)
    if minutes < 60:
        return f"about {minutes} min"
    hours, rest = divmod(minutes, 60)
    return f"about {hours} h {rest} min" if rest else f"about {hours} h"


def short(text: str | None, limit: int = 300) -> str:
    """The first line of an upstream error, cut to a length a page can show."""
    first = next((line.strip() for line in (text or "").splitlines() if line.strip()), "")
    return first if len(first) <= limit else first[: limit - 1] + "…"
