"""What became of a verified delivery, and the HTTP status each outcome is answered with.

Replicate retries only the final event, after any 4xx or 5xx; so a delivery that changes
nothing but is genuine (a duplicate, the same state again, a job that is gone) is answered 2xx.
"""

from __future__ import annotations

import enum


class Receipt(enum.Enum):
    """The outcome of offering a pushed prediction to a job (see `JobManager.receive`)."""

    APPLIED = "applied"
    """Newer than anything the job had seen: its follower was woken."""
    SAME = "same"
    """Nothing new (a state already seen, e.g. by a poll, or a duplicate)."""
    STALE = "stale"
    """Older than a state already seen: it changes nothing."""
    UNKNOWN_JOB = "unknown job"
    """Signed by us, so once ours, but gone (pruned, or a reset data folder): a retry cannot help."""
    OTHER_PREDICTION = "other prediction"
    """A prediction the job does not follow (an unwanted twin of an ambiguous create)."""
    FINISHED = "finished"
    """The job has already ended."""

    @property
    def status(self) -> int:
        """409 for a stale state (never the final event, so never retried); 2xx otherwise."""
        return 409 if self is Receipt.STALE else 200
