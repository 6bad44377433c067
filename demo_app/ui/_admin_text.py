"""The Admin tab's text: today's spend against the budget and the desk's job tables."""

from __future__ import annotations

import html
from collections.abc import Iterable

from demo_app.credits import DaySpend
from demo_app.jobs import JobSnapshot
from demo_app.money import format_credits
from demo_app.presenters import STATUS_LABELS, format_elapsed, format_when

RUNNING_HEADERS = ["Since", "Owner", "Model", "Status", "Held", "Elapsed", "Job"]
FAILURE_HEADERS = ["When", "Owner", "Model", "Status", "Reason", "Job"]


def spend_html(spend: DaySpend) -> str:
    """Spent and held today (UTC) against the daily budget, with what is left."""
    used = spend.spent + spend.held
    share = f" ({used * 100 // spend.cap}% of the budget)" if spend.cap else ""
    return (
        f'<p data-spent="{spend.spent}" data-held="{spend.held}" data-cap="{spend.cap}"'
        f' data-left="{spend.left}">'
        f"Today ({spend.day.isoformat()} UTC): spent <b>{format_credits(spend.spent)}</b> on Replicate, "
        f"<b>{format_credits(spend.held)}</b> held by running jobs{share}; daily budget "
        f"<b>{format_credits(spend.cap)}</b>, <b>{format_credits(spend.left)}</b> left.</p>"
    )


def running_rows(snaps: Iterable[JobSnapshot]) -> list[list[str]]:
    """Running jobs, newest first: whose, which model, where it stands, what it holds."""
    return [
        [
            format_when(snap.created_at),
            snap.owner,
            snap.model,
            STATUS_LABELS[snap.status],
            format_credits(snap.held),
            format_elapsed(snap.elapsed_s),
            snap.job_id,
        ]
        for snap in snaps
    ]


def failure_rows(snaps: Iterable[JobSnapshot]) -> list[list[str]]:
    """Failed and timed-out jobs, newest first, each with its reason."""
    return [
        [
            format_when(snap.finished_at or snap.created_at),
            snap.owner,
            snap.model,
            STATUS_LABELS[snap.status],
            snap.error or snap.message,
            snap.job_id,
        ]
        for snap in snaps
    ]


def desk_message(text: str) -> str:
    """One sentence for the tab's message line, escaped."""
    return html.escape(text)
