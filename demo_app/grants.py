"""How many new anonymous visitors one network address may bring per UTC day with a starting grant.

Anyone can become a new anonymous visitor by clearing the browser's storage; without a cap, each
would bring a fresh grant. Past the cap a new visitor still gets an account, only without the
grant. The count lives in memory: a restart forgives, the daily budget still bounds the spend.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from datetime import UTC, date, datetime


def utc_today() -> date:
    return datetime.now(UTC).date()


class GrantGate:
    """Counts new anonymous visitors per address and UTC day; `admit()` says whether to grant."""

    def __init__(self, per_address_per_day: int, *, today: Callable[[], date] = utc_today) -> None:
        self._limit = per_address_per_day
        self._today = today
        self._day = today()
        self._counts: Counter[str] = Counter()

    def admit(self, address: str | None) -> bool:
        """Count one new visitor from `address`; True while the address is under today's cap."""
        day = self._today()
        if day != self._day:
            self._day, self._counts = day, Counter()
        key = address or "unknown"
        self._counts[key] += 1
        return self._counts[key] <= self._limit


def client_address(headers: dict[str, str], peer: str | None) -> str | None:
    """The visitor's address: behind the Spaces proxy, the first `x-forwarded-for` entry."""
    forwarded = headers.get("x-forwarded-for", "")
    first = forwarded.split(",")[0].strip()
    return first or peer
