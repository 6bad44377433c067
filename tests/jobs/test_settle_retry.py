"""A settlement whose commit the disk refuses is tried again: nobody waits for ever, nothing settles twice."""

from __future__ import annotations

import contextlib
import time
from collections.abc import Iterator
from pathlib import Path

from demo_app.jobs import JobSnapshot, JobStatus
from tests.credits.test_disk_full import file_size_limit
from tests.jobs.checks import settlement_lines
from tests.jobs.conftest import OWNER, Stack, StackFactory

MODEL = "wan-video/wan-2.2-s2v"


def ledger_journal(stack: Stack) -> Path:
    return stack.settings.data_dir / "ledger.json.journal"


@contextlib.contextmanager
def full_disk_for_the_ledger(stack: Stack) -> Iterator[None]:
    """Writes past the ledger journal's present size fail (EFBIG), as on a full disk."""
    with file_size_limit(ledger_journal(stack).stat().st_size + 16):
        yield


async def watch_until(stack: Stack, job_id: str, wanted: str) -> JobSnapshot:
    async for snap in stack.jobs.subscribe(OWNER, job_id):
        if wanted in snap.message or snap.terminal:
            return snap
    raise AssertionError("the job ended without that message")


async def test_a_cancel_answers_while_the_release_cannot_be_written_then_it_lands_once(
    make_stack: StackFactory, face: Path, voice: Path
) -> None:
    stack = await make_stack("stall", cancel_wait_s=0.5)
    await stack.ledger.open_account(OWNER)
    first = await stack.jobs.start(OWNER, str(face), str(voice), MODEL, {})
    async for snap in stack.jobs.subscribe(OWNER, first.job_id):
        if snap.status is JobStatus.PROCESSING:
            break
    with full_disk_for_the_ledger(stack):
        began = time.monotonic()
        answered = await stack.jobs.cancel(OWNER, first.job_id)
        waited = time.monotonic() - began
        assert not answered.terminal
        assert "taking longer than usual" in answered.message
        assert await settlement_lines(stack.ledger, OWNER, first.job_id) == []
    assert waited < 5.0
    final = await stack.jobs.wait(OWNER, first.job_id)
    assert final.status is JobStatus.CANCELED
    assert await settlement_lines(stack.ledger, OWNER, first.job_id) == [("release", final.held)]
    assert (await stack.ledger.balance(OWNER)).held == 0


async def test_a_capture_that_cannot_be_written_is_retried_until_it_lands(
    make_stack: StackFactory, face: Path, voice: Path
) -> None:
    stack = await make_stack("normal")
    await stack.ledger.open_account(OWNER)
    limits: list[contextlib.ExitStack] = []

    def fill_the_disk_before_settling(snap: JobSnapshot) -> None:
        if not limits and "settling" in snap.message:
            limit = contextlib.ExitStack()
            limit.enter_context(full_disk_for_the_ledger(stack))
            limits.append(limit)

    stack.hooks.append(fill_the_disk_before_settling)
    first = await stack.jobs.start(OWNER, str(face), str(voice), MODEL, {})
    try:
        stuck = await watch_until(stack, first.job_id, "taking longer than usual")
        assert not stuck.terminal
        assert await settlement_lines(stack.ledger, OWNER, first.job_id) == []
    finally:
        for limit in limits:
            limit.close()
    final = await stack.jobs.wait(OWNER, first.job_id)
    assert final.status is JobStatus.SUCCEEDED, final.message
    assert await settlement_lines(stack.ledger, OWNER, first.job_id) == [("capture", final.charged)]
