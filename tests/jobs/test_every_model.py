"""Every catalog model through the whole job stack on the built-in engine over HTTP.

A success captures once and delivers a playable video as long as the voice; a failure returns
the hold in full. The other scenarios run on one model in `test_scenarios`: what differs
between models is the endpoint, the field names, the options and the price, all exercised here.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from demo_app.catalog import CATALOG
from demo_app.jobs import JobStatus
from tests.jobs.checks import assert_playable, settlement_lines
from tests.jobs.conftest import OWNER, StackFactory

MODELS = pytest.mark.parametrize("model_id", list(CATALOG))


@MODELS
async def test_every_model_succeeds_captures_once_and_keeps_the_video(
    make_stack: StackFactory, face: Path, voice: Path, model_id: str
) -> None:
    # The engine's clock at real speed: a time-billed model's Cancel-After is the run time its
    # hold buys (38 s for Wav2Lip and this clip), which a sped-up clock would spend on a real render.
    stack = await make_stack("normal", time_scale=1.0)
    await stack.ledger.open_account(OWNER)
    first = await stack.jobs.start(OWNER, str(face), str(voice), model_id, {})
    final = await stack.jobs.wait(OWNER, first.job_id)
    assert final.status is JobStatus.SUCCEEDED, final.message
    assert final.charged is not None and 0 < final.charged <= final.held
    assert await settlement_lines(stack.ledger, OWNER, final.job_id) == [("capture", final.charged)]
    assert abs(assert_playable(final.video_path) - 2.0) < 0.2
    prediction = await stack.client.get_prediction(final.prediction_id or "")
    assert prediction.model == model_id
    balance = await stack.ledger.balance(OWNER)
    assert (balance.balance, balance.held) == (stack.settings.starting_grant - final.charged, 0)


@MODELS
async def test_every_model_failure_returns_the_hold(
    make_stack: StackFactory, face: Path, voice: Path, model_id: str
) -> None:
    stack = await make_stack("failure")
    await stack.ledger.open_account(OWNER)
    first = await stack.jobs.start(OWNER, str(face), str(voice), model_id, {})
    final = await stack.jobs.wait(OWNER, first.job_id)
    assert final.status is JobStatus.FAILED, final.message
    assert final.charged == 0 and final.returned == final.held > 0
    assert await settlement_lines(stack.ledger, OWNER, final.job_id) == [("release", final.held)]
    assert final.video_path is None
    balance = await stack.ledger.balance(OWNER)
    assert (balance.balance, balance.held) == (stack.settings.starting_grant, 0)


@MODELS
async def test_every_model_success_without_a_video_is_a_failure_that_returns_the_hold(
    make_stack: StackFactory, face: Path, voice: Path, model_id: str
) -> None:
    """`succeeded` with `output: null` (SadTalker does this when it finds no face) delivers
    nothing, so the visitor pays nothing; the owner's spend counts what Replicate billed."""
    stack = await make_stack("missing_output", time_scale=1.0)
    await stack.ledger.open_account(OWNER)
    first = await stack.jobs.start(OWNER, str(face), str(voice), model_id, {})
    final = await stack.jobs.wait(OWNER, first.job_id)
    assert final.status is JobStatus.FAILED, final.message
    assert final.charged == 0 and final.returned == final.held > 0
    assert await settlement_lines(stack.ledger, OWNER, final.job_id) == [("release", final.held)]
    assert final.video_path is None
    assert (await stack.ledger.balance(OWNER)).balance == stack.settings.starting_grant
