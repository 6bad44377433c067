"""The credits ledger: hold on start, capture on success, release on failure — exactly once.

Money is whole credits (1 credit = $0.001, so $0.02/s is 20 credits/s); formatting for people
lives in `demo_app.money`. Accounts are keyed by opaque owner keys (`hf:<name>`,
`browser:<id>`). Every change is an append-only entry (grant, hold, capture, release, adjust)
and balances are derived from the entries, so `statement(owner)` explains any balance line by
line. A hold lives once: open -> captured | released; available = balance − open holds ≥ 0.

Storage: TinyDB on `demo_app.storage.JournaledJSONStorage` (crash-safe, one process per file;
each commit appends its changes to a journal) unless another storage is passed in
(`MemoryStorage` in tests), changes grouped into commits by `GroupCommit`, settled entries
moved to write-once archive files so the live file stays small (see `_archive`).

Inside: `_ledger` (the rules: what may be held, charged, returned), `_entry_store` (where the
entries live: file, archives, the books derived from them), `_entries` (the typed entry),
`_books` (balances, holds, budget use), `_views` (the values handed out), `_types`, `_errors`.
"""

from demo_app.credits._errors import (
    AdjustRefused,
    CaptureExceedsHold,
    CreditsError,
    DailyBudgetReached,
    HoldMismatch,
    HoldRefused,
    InsufficientCredits,
    LedgerCorrupt,
    LedgerLocked,
    TooManyJobs,
    UnknownHold,
)
from demo_app.credits._ledger import DEFAULT_ARCHIVE_AT, Ledger
from demo_app.credits._types import (
    Balance,
    Budget,
    DaySpend,
    Hold,
    HoldState,
    Kind,
    OpenHold,
    Settlement,
    StatementLine,
    utc_now,
)

__all__ = [
    "DEFAULT_ARCHIVE_AT",
    "AdjustRefused",
    "Balance",
    "Budget",
    "CaptureExceedsHold",
    "CreditsError",
    "DailyBudgetReached",
    "DaySpend",
    "Hold",
    "HoldMismatch",
    "HoldRefused",
    "HoldState",
    "InsufficientCredits",
    "Kind",
    "Ledger",
    "LedgerCorrupt",
    "LedgerLocked",
    "OpenHold",
    "Settlement",
    "StatementLine",
    "TooManyJobs",
    "UnknownHold",
    "utc_now",
]
