"""A cancel arriving at every step around a success: one settlement, and a video Replicate made is kept.

Once Replicate reports success it has billed the run, so a cancel from then on (or while the
video downloads) delivers the video, captures, and says so; before that it stops the run and
returns the hold.
"""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from demo_app.jobs import JobSnapshot, JobStatus
from demo_app.jobs._messages import FINISHED_BEFORE_CANCEL
from tests.jobs.checks import assert_playable, settlement_lines
from tests.jobs.conftest import OWNER, StackFactory

MODEL = "wan-video/wan-2.2-s2v"

STEPS = {
    "uploading": lambda s: s.status is JobStatus.UPLOADING,
    "starting": lambda s: s.status is JobStatus.STARTING,
    "processing": lambda s: s.status is JobStatus.PROCESSING,
    "downloading": lambda s: s.status is JobStatus.DOWNLOADING and "Saving" in s.message,
    "settling": lambda s: s.status is JobStatus.DOWNLOADING and "settling" in s.message,
}
AFTER_SUCCESS = {"downloading", "settling"}


@pytest.mark.parametrize("step", list(STEPS))
async def test_a_cancel_at_each_step_settles_once(
    make_stack: StackFactory, face: Path, voice: Path, step: str
) -> None:
    stack = await make_stack("normal")
    await stack.ledger.open_account(OWNER)
    cancels: list[asyncio.Task[JobSnapshot]] = []

    def cancel_at_step(snap: JobSnapshot) -> None:
        # The observer runs inside the follower, right at the transition: the cancel races it.
        if not cancels and STEPS[step](snap):
            cancels.append(asyncio.get_running_loop().create_task(stack.jobs.cancel(OWNER, snap.job_id)))

    stack.hooks.append(cancel_at_step)
    first = await stack.jobs.start(OWNER, str(face), str(voice), MODEL, {})
    final = await stack.jobs.wait(OWNER, first.job_id)
    assert cancels, f"the job never reached {step}"
    answered = await cancels[0]
    assert answered == final
    lines = await settlement_lines(stack.ledger, OWNER, final.job_id)
    if step in AFTER_SUCCESS:
        assert final.status is JobStatus.SUCCEEDED, final.message
        assert final.message.endswith(FINISHED_BEFORE_CANCEL)
        assert lines == [("capture", final.charged)]
        assert_playable(final.video_path)
    elif final.status is JobStatus.SUCCEEDED:
        # The run may beat a cancel sent while processing; then it is delivered and said so.
        assert step == "processing" and final.message.endswith(FINISHED_BEFORE_CANCEL)
        assert lines == [("capture", final.charged)]
    else:
        assert final.status is JobStatus.CANCELED, final.message
        assert lines == [("release", final.held)] if final.held else lines in ([], [("release", 0)])
    balance = await stack.ledger.balance(OWNER)
    assert balance.held == 0
    assert balance.balance == stack.settings.starting_grant - (final.charged or 0)


async def test_a_cancel_after_replicate_reported_success_delivers(
    make_stack: StackFactory, face: Path, voice: Path
) -> None:
    """The prediction succeeds upstream while the follower waits for its next poll; then the cancel."""
    stack = await make_stack("normal", poll_interval_s=600.0)
    await stack.ledger.open_account(OWNER)
    first = await stack.jobs.start(OWNER, str(face), str(voice), MODEL, {})
    async for snap in stack.jobs.subscribe(OWNER, first.job_id):
        if snap.prediction_id is not None:
            break
    assert snap.prediction_id is not None
    await stack.engine.runtime.wait_finished(snap.prediction_id)
    final = await stack.jobs.cancel(OWNER, first.job_id)
    assert final.status is JobStatus.SUCCEEDED, final.message
    assert final.message.endswith(FINISHED_BEFORE_CANCEL)
    assert await settlement_lines(stack.ledger, OWNER, final.job_id) == [("capture", final.charged)]
    assert_playable(final.video_path)
