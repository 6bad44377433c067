"""Many jobs followed at once: their statuses are read in bulk through the list endpoint, and a
job is read on its own only when the list shows it moved on (counted on the engine)."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from demo_app.engine import GET_PREDICTION, LIST_PREDICTIONS
from demo_app.engine._scenarios import Aborted
from demo_app.jobs import JobSnapshot, JobStatus
from tests.jobs.conftest import OWNER, Stack, StackFactory

MODEL = "wan-video/wan-2.2-s2v"
JOBS = 8


async def run_queued_jobs(
    make_stack: StackFactory, face: Path, voice: Path, tmp_path: Path, bulk_from: int
) -> tuple[Stack, list[JobSnapshot]]:
    """JOBS predictions that stay queued for 60 (engine) seconds, then are aborted upstream."""
    stack = await make_stack(
        Aborted(queue_timeout_s=60.0),
        data_dir=tmp_path / f"data-{bulk_from}",
        bulk_reads_from_jobs=bulk_from,
        max_jobs_per_owner=JOBS,
    )
    await stack.ledger.open_account(OWNER)
    started = [await stack.jobs.start(OWNER, str(face), str(voice), MODEL, {}) for _ in range(JOBS)]
    finals = await asyncio.gather(*(stack.jobs.wait(OWNER, s.job_id, timeout_s=120) for s in started))
    return stack, list(finals)


@pytest.mark.slow
async def test_bulk_reads_replace_one_read_per_job(
    make_stack: StackFactory, face: Path, voice: Path, tmp_path: Path
) -> None:
    polled, polled_finals = await run_queued_jobs(make_stack, face, voice, tmp_path, bulk_from=1000)
    swept, swept_finals = await run_queued_jobs(make_stack, face, voice, tmp_path, bulk_from=2)
    for finals in (polled_finals, swept_finals):
        assert all(final.status is JobStatus.TIMED_OUT and final.returned == final.held for final in finals)
    assert polled.engine.requests[LIST_PREDICTIONS] == 0
    assert polled.engine.requests[GET_PREDICTION] >= 5 * JOBS  # each job read every 200 ms for ~3 s
    # The sweeper lists; a job is read on its own about once: when the list shows it ended.
    assert swept.engine.requests[LIST_PREDICTIONS] >= 1
    assert swept.engine.requests[GET_PREDICTION] <= 3 * JOBS
    assert 3 * swept.engine.requests[GET_PREDICTION] < polled.engine.requests[GET_PREDICTION]
