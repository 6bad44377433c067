"""The admin routes' JSON: what `python -m demo_app.admin` reads (credits, ISO times, UTC)."""

from __future__ import annotations

from typing import Any

from demo_app.credits import Balance, DaySpend
from demo_app.jobs import JobSnapshot
from demo_app.visitors import Account


def spend_json(spend: DaySpend) -> dict[str, Any]:
    """Today's spend, open holds and what is left of the daily budget."""
    return {
        "day": spend.day.isoformat(),
        "spent": spend.spent,
        "held": spend.held,
        "cap": spend.cap,
        "left": spend.left,
    }


def job_json(snap: JobSnapshot) -> dict[str, Any]:
    """A job as the desk lists it: whose, which model, where it stands, and why it ended."""
    return {
        "job_id": snap.job_id,
        "owner": snap.owner,
        "model": snap.model,
        "status": snap.status.value,
        "message": snap.message,
        "error": snap.error,
        "held": snap.held,
        "elapsed_s": round(snap.elapsed_s, 1),
        "created_at": snap.created_at.isoformat(),
    }


def balance_json(balance: Balance) -> dict[str, Any]:
    return {
        "owner": balance.owner,
        "balance": balance.balance,
        "held": balance.held,
        "available": balance.available,
    }


def account_json(account: Account) -> dict[str, Any]:
    """A visitor's totals and every entry (the reason of an admin's change names the admin)."""
    return {
        **balance_json(account.balance),
        "statement": [
            {
                "time": line.time.isoformat(),
                "kind": line.kind.value,
                "job_id": line.ref,
                "reason": line.reason,
                "amount": line.amount,
                "held_change": line.held_change,
                "balance": line.balance,
                "available": line.available,
            }
            for line in account.statement
        ],
    }
