"""The daily budget bounds the Space owner's real bill: runs that ran and then failed, were canceled or
timed out count what Replicate bills for them, while the visitor still gets the whole hold back."""

from __future__ import annotations

import math
from pathlib import Path

import pytest

from demo_app.jobs import JobStatus
from tests.jobs.checks import settlement_lines
from tests.jobs.conftest import OWNER, Stack, StackFactory

TIME_BILLED = "cjwbw/sadtalker"  # 2 credits per predict second
OUTPUT_BILLED = "wan-video/wan-2.2-s2v"


async def billed_by_replicate(stack: Stack, prediction_id: str | None) -> int:
    """Credits for the prediction's own `predict_time`, as Replicate reports it."""
    assert prediction_id is not None
    prediction = await stack.client.get_prediction(prediction_id)
    assert prediction.predict_time is not None and prediction.predict_time > 0
    return math.ceil(round(prediction.predict_time * 1000) * 2 / 1000)


async def run_until_processing_then(stack: Stack, face: Path, voice: Path, model: str, action: str):  # type: ignore[no-untyped-def]
    await stack.ledger.open_account(OWNER)
    first = await stack.jobs.start(OWNER, str(face), str(voice), model, {})
    if action == "cancel":
        async for snap in stack.jobs.subscribe(OWNER, first.job_id):
            if snap.status is JobStatus.PROCESSING:
                break
        await stack.jobs.cancel(OWNER, first.job_id)
    return await stack.jobs.wait(OWNER, first.job_id)


@pytest.mark.parametrize(
    ("scenario", "action", "status", "overrides"),
    [
        ("failure", "wait", JobStatus.FAILED, {}),
        ("upstream_cancel", "wait", JobStatus.CANCELED, {}),
        ("stall", "cancel", JobStatus.CANCELED, {}),
        ("stall", "wait", JobStatus.TIMED_OUT, {"job_timeout_s": 1.0}),
    ],
)
async def test_a_run_that_ran_counts_its_compute_and_refunds_the_visitor(
    make_stack: StackFactory,
    face: Path,
    voice: Path,
    scenario: str,
    action: str,
    status: JobStatus,
    overrides: dict[str, float],
) -> None:
    stack = await make_stack(scenario, time_scale=5.0, **overrides)
    final = await run_until_processing_then(stack, face, voice, TIME_BILLED, action)
    assert final.status is status, final.message
    assert await settlement_lines(stack.ledger, OWNER, final.job_id) == [("release", final.held)]
    assert (await stack.ledger.balance(OWNER)).balance == stack.settings.starting_grant
    spend = await stack.ledger.spend()
    assert spend.held == 0
    assert spend.spent == await billed_by_replicate(stack, final.prediction_id)


async def test_a_prediction_that_never_started_costs_nothing(
    make_stack: StackFactory, face: Path, voice: Path
) -> None:
    stack = await make_stack("aborted", job_timeout_s=5.0)
    final = await run_until_processing_then(stack, face, voice, TIME_BILLED, "wait")
    assert final.status is JobStatus.TIMED_OUT, final.message
    assert (await stack.ledger.spend()).spent == 0


async def test_a_failed_run_of_an_output_billed_model_costs_nothing(
    make_stack: StackFactory, face: Path, voice: Path
) -> None:
    stack = await make_stack("failure")
    final = await run_until_processing_then(stack, face, voice, OUTPUT_BILLED, "wait")
    assert final.status is JobStatus.FAILED
    assert (await stack.ledger.spend()).spent == 0


async def test_once_the_days_spend_fills_the_budget_new_holds_are_refused(
    make_stack: StackFactory, face: Path, voice: Path
) -> None:
    probe = await make_stack("failure")
    await probe.ledger.open_account(OWNER)
    estimate = (await probe.jobs.quote(OWNER, TIME_BILLED, str(face), str(voice))).estimate
    assert estimate is not None
    await probe.jobs.aclose()
    # A budget that fits one hold exactly: once a failed run has spent anything, the next cannot fit.
    budget_dir = probe.settings.data_dir.parent / "budget"
    stack = await make_stack("failure", data_dir=budget_dir, daily_budget=estimate)
    failed = await run_until_processing_then(stack, face, voice, TIME_BILLED, "wait")
    assert failed.status is JobStatus.FAILED
    assert (await stack.ledger.spend()).spent > 0
    second = await stack.jobs.start(OWNER, str(face), str(voice), TIME_BILLED, {})
    refused = await stack.jobs.wait(OWNER, second.job_id)
    assert refused.status is JobStatus.REJECTED
    assert "budget for today" in refused.message
    assert await settlement_lines(stack.ledger, OWNER, second.job_id) == []
