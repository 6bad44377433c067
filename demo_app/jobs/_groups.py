"""Comparisons: the same face and voice sent to several models at once, one job per model.

Each member is a whole job with its own hold, follower, progress and settlement, so one that
fails returns only its own hold. The comparison itself is nothing but the `group_id` its members
share: viewers see it as one entry, and against the owner's job limit it counts once.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime

from demo_app.jobs._refusals import JobRefused
from demo_app.jobs._types import JobSnapshot, JobStatus
from demo_app.money import format_credits

MIN_MODELS = 2
MAX_MODELS = 3


class BadComparison(JobRefused):
    """Fewer than two different models, or more than three."""


class CannotAffordComparison(JobRefused):
    """The visitor's available credits do not pay the holds of every compared model together."""

    def __init__(self, available: int, needed: int, titles: Sequence[str]) -> None:
        self.available, self.needed = available, needed
        super().__init__(
            f"You have {available:,} credits ({format_credits(available)}) available and comparing "
            f"{_listed(titles)} on this clip holds {needed:,} ({format_credits(needed)}); compare fewer "
            "models, use a shorter clip, or wait for your running jobs to give back what they did not use."
        )


def compared_models(model_ids: Sequence[str]) -> list[str]:
    """The distinct models asked for, in the order given; refused unless two or three."""
    models = list(dict.fromkeys(model_ids))
    if not MIN_MODELS <= len(models) <= MAX_MODELS:
        raise BadComparison(
            f"Choose {MIN_MODELS} or {MAX_MODELS} different models to compare; you chose {len(models)}."
        )
    return models


def open_units(job_ids: Iterable[str], group_of: Callable[[str], str | None]) -> int:
    """Running jobs as the owner's limit counts them: a comparison's members count once together."""
    return len({group_of(job_id) or job_id for job_id in job_ids})


@dataclass(frozen=True)
class ComparisonSnapshot:
    """A comparison at one moment: its members' snapshots, in the order their models were chosen."""

    group_id: str
    members: tuple[JobSnapshot, ...]

    @property
    def created_at(self) -> datetime:
        return min(member.created_at for member in self.members)

    @property
    def terminal(self) -> bool:
        """True once every member has ended and settled."""
        return all(member.terminal for member in self.members)

    @property
    def held(self) -> int:
        return sum(member.held for member in self.members)

    @property
    def charged(self) -> int | None:
        """What the comparison cost in all, once every member has settled (else None)."""
        if not self.terminal:
            return None
        return sum(member.charged or 0 for member in self.members)

    @property
    def succeeded(self) -> int:
        return sum(member.status is JobStatus.SUCCEEDED for member in self.members)


def members_in_order(snaps: Iterable[JobSnapshot]) -> tuple[JobSnapshot, ...]:
    """Members in the order they were started (the order the visitor chose their models)."""
    return tuple(sorted(snaps, key=lambda snap: snap.created_at))


def fold(snaps: Sequence[JobSnapshot]) -> list[JobSnapshot | ComparisonSnapshot]:
    """A history with each comparison as one entry, placed where its first member appears."""
    groups: dict[str, list[JobSnapshot]] = {}
    for snap in snaps:
        if snap.group_id is not None:
            groups.setdefault(snap.group_id, []).append(snap)
    entries: list[JobSnapshot | ComparisonSnapshot] = []
    for snap in snaps:
        if snap.group_id is None:
            entries.append(snap)
        elif snap.group_id in groups:
            entries.append(ComparisonSnapshot(snap.group_id, members_in_order(groups.pop(snap.group_id))))
    return entries


def _listed(titles: Sequence[str]) -> str:
    """ "A and B", "A, B and C"."""
    return titles[0] if len(titles) == 1 else f"{', '.join(titles[:-1])} and {titles[-1]}"


async def watch_comparison(
    subscribe: Callable[[str], AsyncIterator[JobSnapshot]], first: ComparisonSnapshot
) -> AsyncIterator[ComparisonSnapshot]:
    """The comparison at each change of any member (changes arriving together give one), ending
    once every member has ended; `subscribe(job_id)` is one member's stream of snapshots."""
    latest = {member.job_id: member for member in first.members}
    changed = asyncio.Event()

    async def follow(job_id: str) -> None:
        async for snap in subscribe(job_id):
            latest[job_id] = snap
            changed.set()

    tasks = [asyncio.create_task(follow(job_id)) for job_id in latest]
    for task in tasks:
        task.add_done_callback(lambda _task: changed.set())
    try:
        while True:
            await changed.wait()
            changed.clear()
            snap = ComparisonSnapshot(first.group_id, tuple(latest[m.job_id] for m in first.members))
            yield snap
            if snap.terminal or all(task.done() for task in tasks):
                return
    finally:
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
