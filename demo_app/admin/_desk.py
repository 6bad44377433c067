"""The owner's desk: the operations behind the Admin tab and the admin routes, checked alike.

Today's spend against the daily budget, every running job (any of them canceled), recent
failures with their reasons, one visitor's statement, and credits granted or taken. A change is
an `adjust` entry of the ledger whose reason names the admin, so the visitor's own statement
shows who changed their credits and why; taking never reaches credits held by running jobs
(the ledger refuses with a sentence).
"""

from __future__ import annotations

import re
from collections.abc import Awaitable, Callable
from typing import Any

from demo_app.admin._access import Admin
from demo_app.credits import Balance, DaySpend
from demo_app.jobs import JobNotFound, JobSnapshot, JobStatus
from demo_app.services import Services
from demo_app.visitors import BROWSER_PREFIX, HF_PREFIX, Account

MAX_CREDITS_PER_CHANGE = 1_000_000
"""$1,000 in one grant or take: more is a typo far more often than an intention."""
MAX_REASON_CHARS = 200
MAX_OWNER_CHARS = 200
FAILURES_SHOWN = 20
FAILED = frozenset({JobStatus.FAILED, JobStatus.TIMED_OUT})
OWNER_SHAPE = re.compile(rf"[\x21-\x7e]{{1,{MAX_OWNER_CHARS}}}")
JOB_ID_SHAPE = re.compile(r"[A-Za-z0-9_-]{1,64}")

ServicesGetter = Callable[[], Awaitable[Services]]


class DeskRefused(ValueError):
    """An admin operation refused before anything changed; `str()` says what to fix."""


class AdminDesk:
    """What an admin may read and do, over the services the server opened."""

    def __init__(self, services: ServicesGetter) -> None:
        self._services = services

    async def spend(self) -> DaySpend:
        """Today's (UTC) Replicate spend and open holds against the daily budget."""
        return await (await self._services()).ledger.spend()

    async def running(self) -> list[JobSnapshot]:
        """Every owner's jobs still running, newest first."""
        return [snap for snap in (await self._services()).jobs.every_job() if not snap.terminal]

    async def failures(self, limit: int = FAILURES_SHOWN) -> list[JobSnapshot]:
        """The latest jobs that failed or timed out, newest first, each with its reason."""
        jobs = (await self._services()).jobs.every_job()
        return [snap for snap in jobs if snap.status in FAILED][:limit]

    async def cancel(self, job_id: Any) -> JobSnapshot:
        """Cancel anyone's job (its hold is released as for the owner's own cancel)."""
        job_id = job_id.strip() if isinstance(job_id, str) else ""
        jobs = (await self._services()).jobs
        found = next((snap for snap in jobs.every_job() if snap.job_id == job_id), None)
        if not JOB_ID_SHAPE.fullmatch(job_id) or found is None:
            raise DeskRefused("No job has that id; copy it from the list of running jobs.")
        try:
            return await jobs.cancel(found.owner, job_id)
        except JobNotFound:
            raise DeskRefused("That job was just removed; nothing to cancel.") from None

    async def statement(self, owner: Any) -> Account:
        """A visitor's balance, open holds and every entry of their credits."""
        owner = owner_text(owner)
        ledger = (await self._services()).ledger
        lines = await ledger.statement(owner)
        if not lines:
            raise _unknown(owner)
        return Account(await ledger.balance(owner), await ledger.open_holds(owner), lines)

    async def grant(self, admin: Admin, owner: Any, credits: Any, reason: Any) -> Balance:
        """Give a visitor credits; the entry names `admin` and the reason."""
        return await self._adjust(admin, owner, credits_number(credits), reason, "Granted")

    async def take(self, admin: Admin, owner: Any, credits: Any, reason: Any) -> Balance:
        """Take credits back, never those held by running jobs (refused with a sentence)."""
        return await self._adjust(admin, owner, -credits_number(credits), reason, "Taken")

    async def _adjust(self, admin: Admin, owner: Any, amount: int, reason: Any, verb: str) -> Balance:
        owner, why = owner_text(owner), reason_text(reason)
        ledger = (await self._services()).ledger
        if not await ledger.statement(owner):
            raise _unknown(owner)
        return await ledger.adjust(owner, amount, reason=f"{verb} by {admin.label}: {why}")


def owner_text(value: Any) -> str:
    """An owner id (`hf:<name>` or `browser:<id>`); a bare name means that Hugging Face user."""
    text = value.strip() if isinstance(value, str) else ""
    if not OWNER_SHAPE.fullmatch(text):
        raise DeskRefused(
            "Give the visitor's owner id, such as hf:alice or browser:… (the jobs list shows it)."
        )
    if not text.startswith((HF_PREFIX, BROWSER_PREFIX)):
        text = HF_PREFIX + text
    return text


def credits_number(value: Any) -> int:
    """A whole number of credits from 1 to `MAX_CREDITS_PER_CHANGE` (1 credit = $0.001)."""
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    if type(value) is not int or not 1 <= value <= MAX_CREDITS_PER_CHANGE:
        raise DeskRefused(
            f"Give a whole number of credits from 1 to {MAX_CREDITS_PER_CHANGE:,} ($0.001 each)."
        )
    return value


def reason_text(value: Any) -> str:
    """Why credits change, as the visitor will read it: one line, up to 200 characters."""
    text = " ".join(value.split()) if isinstance(value, str) else ""
    if not text or len(text) > MAX_REASON_CHARS or not text.isprintable():
        raise DeskRefused(
            f"Give a reason the visitor will read: one line, at most {MAX_REASON_CHARS} characters."
        )
    return text


def _unknown(owner: str) -> DeskRefused:
    return DeskRefused(
        f"No visitor {owner} has an account here; check the owner id (hf:<name> or browser:<id>)."
    )
