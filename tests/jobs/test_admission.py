"""Admission before work: what can be refused cheaply is refused at the door, in a sentence, with nothing
written, held or decoded; the preparing stage has a deadline and a cancel; refused jobs stay bounded."""

from __future__ import annotations

import asyncio
import contextlib
import time
from pathlib import Path

import pytest

from demo_app.jobs import JobRefused, JobStatus
from demo_app.jobs._manager import REFUSED_KEPT_PER_OWNER
from demo_app.jobs._store import JobStore
from tests.jobs.checks import settlement_lines
from tests.jobs.conftest import OWNER, StackFactory

MODEL = "wan-video/wan-2.2-s2v"


async def test_forty_owners_without_credits_are_refused_at_once_with_their_credits_named(
    make_stack: StackFactory, face: Path, voice: Path
) -> None:
    stack = await make_stack("normal", starting_grant=0)
    owners = [f"browser:broke-{i}" for i in range(40)]
    for owner in owners:
        await stack.ledger.open_account(owner)
    began = time.monotonic()
    results = await asyncio.gather(
        *(stack.jobs.start(owner, str(face), str(voice), MODEL, {}) for owner in owners),
        return_exceptions=True,
    )
    elapsed = time.monotonic() - began
    assert all(isinstance(r, JobRefused) for r in results), results
    assert all("You have 0 credits ($0.00) available" in str(r) for r in results)
    assert elapsed < 1.0
    # No media work: nothing was copied or converted, no job exists, nothing held.
    assert not (stack.settings.data_dir / "inputs").exists() or not any(
        (stack.settings.data_dir / "inputs").iterdir()
    )
    assert all(stack.jobs.history(owner) == [] for owner in owners)
    assert await stack.ledger.open_holds() == []


async def test_bad_options_are_refused_before_anything_is_stored(
    make_stack: StackFactory, face: Path, voice: Path
) -> None:
    stack = await make_stack("normal")
    await stack.ledger.open_account(OWNER)
    with pytest.raises(JobRefused, match=r"(?i)seed"):
        await stack.jobs.start(OWNER, str(face), str(voice), MODEL, {"seed": "x" * 5000})
    assert stack.jobs.history(OWNER) == []


async def test_the_preparing_stage_has_a_deadline(make_stack: StackFactory, face: Path, voice: Path) -> None:
    stack = await make_stack("normal", prepare_timeout_s=0.001)
    await stack.ledger.open_account(OWNER)
    first = await stack.jobs.start(OWNER, str(face), str(voice), MODEL, {})
    final = await stack.jobs.wait(OWNER, first.job_id)
    assert final.status is JobStatus.REJECTED
    assert "took longer than 0.001 s" in final.message
    assert await settlement_lines(stack.ledger, OWNER, first.job_id) == []
    assert not (stack.settings.data_dir / "inputs" / first.job_id).exists()


async def test_a_cancel_while_preparing_stops_it_with_nothing_held(
    make_stack: StackFactory, face: Path, voice: Path
) -> None:
    stack = await make_stack("normal")
    await stack.ledger.open_account(OWNER)
    first = await stack.jobs.start(OWNER, str(face), str(voice), MODEL, {})
    final = await stack.jobs.cancel(OWNER, first.job_id)
    assert final.status is JobStatus.CANCELED
    assert await stack.ledger.open_holds() == []
    assert (await stack.ledger.balance(OWNER)).held == 0
    assert stack.engine.runtime.predictions == {}


async def test_refused_jobs_live_in_memory_only_and_a_few_per_owner(
    make_stack: StackFactory, face: Path, tmp_path: Path
) -> None:
    stack = await make_stack("normal")
    await stack.ledger.open_account(OWNER)
    not_audio = tmp_path / "notes.txt"
    not_audio.write_text("not a recording")
    ids = []
    for _ in range(REFUSED_KEPT_PER_OWNER + 3):
        first = await stack.jobs.start(OWNER, str(face), str(not_audio), MODEL, {})
        final = await stack.jobs.wait(OWNER, first.job_id)
        assert final.status is JobStatus.REJECTED
        ids.append(first.job_id)
    kept = []
    for job_id in ids:
        with contextlib.suppress(LookupError):
            kept.append(stack.jobs.snapshot(OWNER, job_id).job_id)
    assert kept == ids[-REFUSED_KEPT_PER_OWNER:]
    await stack.jobs.aclose()
    stored = JobStore(stack.settings.data_dir / "jobs.json")
    try:
        assert stored.all() == []
    finally:
        stored.close()
