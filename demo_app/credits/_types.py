"""What the ledger hands out: plain, frozen values in whole credits (1 credit = $0.001)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime
from enum import StrEnum


class Kind(StrEnum):
    """What an entry records (the values are what the files hold)."""

    GRANT = "grant"
    HOLD = "hold"
    CAPTURE = "capture"
    RELEASE = "release"
    ADJUST = "adjust"


class HoldState(StrEnum):
    """Where a hold stands: open, then captured or released, once."""

    OPEN = "open"
    CAPTURED = "captured"
    RELEASED = "released"


def utc_now() -> datetime:
    """The ledger's default clock (aware, UTC)."""
    return datetime.now(UTC)


@dataclass(frozen=True)
class Balance:
    """An owner's credits: `available` = `balance` − `held`, never negative."""

    owner: str
    balance: int
    held: int
    available: int


@dataclass(frozen=True)
class Budget:
    """Today's use of the daily budget (UTC, all owners): held by today's open holds plus spent."""

    day: date
    used: int
    cap: int
    left: int


@dataclass(frozen=True)
class DaySpend:
    """The Space owner's money for the holds made on one UTC day (all owners together).

    `spent`: what Replicate bills for that day's settled jobs — charges of successes and the
    compute of runs released after they started; `held`: still set aside by open holds.
    `held + spent` is what counts against `cap`.
    """

    day: date
    held: int
    spent: int
    cap: int
    left: int


@dataclass(frozen=True)
class Hold:
    """A hold as it stands; `applied` is False when an earlier call with the same ref made it."""

    ref: str
    owner: str
    amount: int
    state: HoldState
    created_at: datetime
    applied: bool


@dataclass(frozen=True)
class Settlement:
    """How a hold ended: `charged` + `returned` = `held`.

    `applied` is False when the hold had already ended (the first outcome is returned);
    `conflict` is True when that first outcome is the opposite of what was asked.
    """

    ref: str
    owner: str
    outcome: HoldState
    """`HoldState.CAPTURED` or `HoldState.RELEASED`."""
    held: int
    charged: int
    returned: int
    reason: str
    applied: bool
    conflict: bool
    spent: int = 0
    """What the Space owner pays upstream for the job (a capture's charge, a release's `spent`)."""


@dataclass(frozen=True)
class StatementLine:
    """One entry with the owner's running totals after it."""

    seq: int
    time: datetime
    kind: Kind
    ref: str | None
    reason: str
    amount: int
    """Change to the balance: + for grants, − for captures, 0 for holds and releases."""
    held_change: int
    """Change to the held credits: + for a hold, − when it ends."""
    balance: int
    held: int
    available: int


@dataclass(frozen=True)
class OpenHold:
    """A hold still waiting for its job's outcome (for reconciliation on start-up)."""

    ref: str
    owner: str
    amount: int
    created_at: datetime
    age_s: float
