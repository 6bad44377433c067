"""Every way the ledger says no, each with the numbers and what to do.

CreditsError                      .message: readable sentences, shown as they are
├── HoldRefused                   a hold was refused and nothing was written
│   ├── InsufficientCredits       (available, needed)
│   ├── DailyBudgetReached        (used, cap, needed): the Space's cap per UTC day
│   └── TooManyJobs               (open, limit): this owner's running jobs
├── HoldMismatch (ValueError)     a job ref reused with another owner or amount
├── UnknownHold (LookupError)     capture/release of a ref that was never held
├── CaptureExceedsHold (ValueError)  capture(actual) with actual > held
├── AdjustRefused (ValueError)    an adjustment would take more than is available
└── LedgerCorrupt                 the files fail the integrity check on open
LedgerLocked (storage.StorageLocked)  another process has the ledger open
"""

from __future__ import annotations

from demo_app.storage import StorageLocked


class CreditsError(Exception):
    """Base of the ledger's errors; `message` is what to show."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class HoldRefused(CreditsError):
    """A hold was refused; the ledger is exactly as before the call."""


class InsufficientCredits(HoldRefused):
    """The owner's available credits (balance minus running holds) do not cover the hold."""

    def __init__(self, available: int, needed: int) -> None:
        self.available = available
        self.needed = needed
        super().__init__(
            f"Not enough credits: this job needs {needed:,} credits and you have {available:,} available. "
            "Use a shorter audio clip, or wait for a running job to finish and give back what it did not use."
        )


class DailyBudgetReached(HoldRefused):
    """Today's open holds + today's spend (UTC, all owners) plus this hold would pass the cap."""

    def __init__(self, used: int, cap: int, needed: int) -> None:
        self.used = used
        self.cap = cap
        self.needed = needed
        left = max(0, cap - used)
        super().__init__(
            f"The studio's budget for today is used up: {used:,} of {cap:,} credits are already held "
            f"or spent today (UTC), {left:,} remain and this job needs {needed:,}. "
            "Try a shorter audio clip, or come back after midnight UTC."
        )


class TooManyJobs(HoldRefused):
    """The owner already has as many open holds (running jobs) as allowed."""

    def __init__(self, open: int, limit: int) -> None:
        self.open = open
        self.limit = limit
        super().__init__(
            f"You already have {open} job{'s' if open != 1 else ''} running and the limit is {limit} "
            "at a time. "
            "Wait for one to finish, or cancel one, then try again."
        )


class HoldMismatch(CreditsError, ValueError):
    """A hold ref was reused with a different owner or amount: a caller bug, never applied."""


class UnknownHold(CreditsError, LookupError):
    """Capture or release of a ref that has no hold."""


class CaptureExceedsHold(CreditsError, ValueError):
    """A capture asked for more than was held; the hold stays open."""


class AdjustRefused(CreditsError, ValueError):
    """A negative adjustment larger than the owner's available credits."""


class LedgerCorrupt(CreditsError):
    """The ledger files contradict themselves; the ledger refuses to open rather than guess."""


class LedgerLocked(StorageLocked):
    """Another process (or another Ledger in this one) has this ledger file open."""
