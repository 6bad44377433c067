"""The frozen values the ledger hands out, built from its records, and its argument checks."""

from __future__ import annotations

import logging
from datetime import datetime

from demo_app.credits._books import HoldRecord
from demo_app.credits._entries import Entry
from demo_app.credits._types import Hold, HoldState, Settlement, StatementLine

log = logging.getLogger(__name__)


def hold_view(rec: HoldRecord, *, applied: bool) -> Hold:
    """`rec` as the caller sees it; `applied` False when an earlier call made the hold."""
    return Hold(
        ref=rec.ref,
        owner=rec.owner,
        amount=rec.amount,
        state=rec.state,
        created_at=datetime.fromisoformat(rec.created_at),
        applied=applied,
    )


def settlement_view(rec: HoldRecord, *, applied: bool, conflict: bool) -> Settlement:
    """How the ended hold `rec` ended; see `Settlement` for `applied` and `conflict`."""
    return Settlement(
        ref=rec.ref,
        owner=rec.owner,
        outcome=HoldState.CAPTURED if rec.state == HoldState.CAPTURED else HoldState.RELEASED,
        held=rec.amount,
        charged=rec.charged,
        returned=rec.amount - rec.charged,
        reason=rec.reason,
        applied=applied,
        conflict=conflict,
        spent=rec.spent,
    )


def repeated_settlement(rec: HoldRecord, outcome: HoldState) -> Settlement:
    """A settlement asked of a hold that already ended: its first outcome, logged if it differs."""
    conflict = rec.state != outcome
    if conflict:
        log.warning("refused to mark hold %s %s: already %s", rec.ref, outcome, rec.state)
    return settlement_view(rec, applied=False, conflict=conflict)


def statement_lines(entries: list[tuple[int, Entry]]) -> list[StatementLine]:
    """One owner's entries, in order, each with the running totals after it."""
    lines = []
    balance = held = 0
    for seq, e in entries:
        balance += e.amount
        held += e.held
        lines.append(
            StatementLine(
                seq=seq,
                time=datetime.fromisoformat(e.time),
                kind=e.kind,
                ref=e.ref,
                reason=e.reason,
                amount=e.amount,
                held_change=e.held,
                balance=balance,
                held=held,
                available=balance - held,
            )
        )
    return lines


def check_credits(name: str, value: int, *, minimum: int | None = 0) -> None:
    """Credits are whole numbers (floats and bools refused), at least `minimum` unless None."""
    if type(value) is not int:
        raise TypeError(f"{name} must be a whole number, not {type(value).__name__}")
    if minimum is not None and value < minimum:
        raise ValueError(f"{name} must be at least {minimum} (got {value})")


def check_text(name: str, value: str) -> None:
    """Owners, refs and addresses are non-empty strings; a reason may be empty."""
    if not isinstance(value, str) or (name != "reason" and not value):
        raise ValueError(f"{name} must be a non-empty string")
