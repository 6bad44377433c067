"""End to end through the job manager against the built-in engine over HTTP, one test per scenario."""

from __future__ import annotations

from pathlib import Path

import pytest

from demo_app.jobs import JobStatus, ProgressSource
from tests.jobs.checks import assert_playable, settlement_lines
from tests.jobs.conftest import OWNER, StackFactory

MODEL = "wan-video/wan-2.2-s2v"


async def run_job(make_stack: StackFactory, face: Path, voice: Path, scenario: str, **kw: object):  # type: ignore[no-untyped-def]
    stack = await make_stack(scenario, **kw)
    await stack.ledger.open_account(OWNER)
    first = await stack.jobs.start(OWNER, str(face), str(voice), MODEL, {})
    final = await stack.jobs.wait(OWNER, first.job_id)
    return stack, first, final


@pytest.mark.parametrize(
    "scenario",
    [
        "normal",
        "cold_start",
        "slow_progress",
        "rate_limit_burst",
        "server_error_burst",
        "drop_on_get",
        "list_output",
    ],
)
async def test_success_paths_capture_once_and_keep_the_video(
    make_stack: StackFactory, face: Path, voice: Path, scenario: str
) -> None:
    stack, first, final = await run_job(make_stack, face, voice, scenario)
    assert first.status is JobStatus.QUEUED
    assert final.status is JobStatus.SUCCEEDED, final.message
    assert final.held > 0
    assert final.charged is not None and 0 < final.charged <= final.held
    assert final.returned == final.held - final.charged
    assert await settlement_lines(stack.ledger, OWNER, final.job_id) == [("capture", final.charged)]
    duration = assert_playable(final.video_path)
    assert abs(duration - 2.0) < 0.2
    assert Path(final.video_path or "").is_relative_to(stack.settings.data_dir)
    balance = await stack.ledger.balance(OWNER)
    assert balance.balance == stack.settings.starting_grant - final.charged
    assert balance.held == 0


async def test_cold_start_is_seen_as_starting_before_processing(
    make_stack: StackFactory, face: Path, voice: Path
) -> None:
    stack, _, final = await run_job(make_stack, face, voice, "cold_start")
    seen = [snap.status for snap in stack.transitions if snap.job_id == final.job_id]
    assert seen.index(JobStatus.STARTING) < seen.index(JobStatus.PROCESSING) < seen.index(JobStatus.SUCCEEDED)


async def test_progress_comes_from_the_model_logs(make_stack: StackFactory, face: Path, voice: Path) -> None:
    stack = await make_stack("slow_progress")
    await stack.ledger.open_account(OWNER)
    first = await stack.jobs.start(OWNER, str(face), str(voice), MODEL, {})
    progress = [
        (snap.progress, snap.progress_source)
        async for snap in stack.jobs.subscribe(OWNER, first.job_id)
        if snap.status is JobStatus.PROCESSING and snap.progress is not None
    ]
    values = [p for p, source in progress if source is ProgressSource.LOGS]
    assert len(values) >= 3, progress
    assert values == sorted(values)
    assert 0 < values[0] < values[-1] <= 1


async def test_drop_on_create_creates_exactly_one_prediction(
    make_stack: StackFactory, face: Path, voice: Path
) -> None:
    stack, _, final = await run_job(make_stack, face, voice, "drop_on_create")
    assert final.status is JobStatus.SUCCEEDED, final.message
    creates = sum(
        n
        for (method, route), n in stack.engine.requests.items()
        if method == "POST" and "predictions" in route and "cancel" not in route
    )
    assert creates == 1
    assert await settlement_lines(stack.ledger, OWNER, final.job_id) == [("capture", final.charged)]


@pytest.mark.parametrize(
    ("scenario", "status", "fragment"),
    [
        ("failure", JobStatus.FAILED, "The model failed"),
        ("upstream_cancel", JobStatus.CANCELED, "Canceled on Replicate"),
        ("aborted", JobStatus.TIMED_OUT, "did not start"),
        ("missing_output", JobStatus.FAILED, "returned no video"),
        ("expired_output", JobStatus.FAILED, "expired"),
        ("invalid_input", JobStatus.FAILED, "refused the input"),
        ("unauthorized", JobStatus.FAILED, "token was refused"),
    ],
)
async def test_unhappy_paths_release_in_full(
    make_stack: StackFactory, face: Path, voice: Path, scenario: str, status: JobStatus, fragment: str
) -> None:
    stack, _, final = await run_job(make_stack, face, voice, scenario)
    assert final.status is status, final.message
    assert final.error is not None and fragment in final.error
    assert final.charged == 0 and final.returned == final.held > 0
    assert f"{final.held} credits" in final.message and "returned" in final.message
    assert await settlement_lines(stack.ledger, OWNER, final.job_id) == [("release", final.held)]
    assert final.video_path is None
    balance = await stack.ledger.balance(OWNER)
    assert (balance.balance, balance.held) == (stack.settings.starting_grant, 0)


async def test_ten_minute_time_out_on_a_fast_clock_ends_as_timed_out(
    make_stack: StackFactory, face: Path, voice: Path
) -> None:
    """Cancel-After is 10 min; the engine's clock runs 600x, so upstream's deadline passes in ~1 s."""
    stack, _, final = await run_job(make_stack, face, voice, "stall", time_scale=600.0, grace_s=600.0)
    assert stack.settings.job_timeout_s == 600
    assert final.status is JobStatus.TIMED_OUT, final.message
    assert final.elapsed_s < 30
    assert "time-out" in (final.error or "")
    assert await settlement_lines(stack.ledger, OWNER, final.job_id) == [("release", final.held)]


async def test_our_own_deadline_cancels_upstream_and_releases(
    make_stack: StackFactory, face: Path, voice: Path
) -> None:
    """When upstream never ends the prediction, our time-out does: cancel upstream, release."""
    stack, _, final = await run_job(make_stack, face, voice, "stall", time_scale=1.0, job_timeout_s=1.0)
    assert final.status is JobStatus.TIMED_OUT, final.message
    assert final.error == "Timed out after 1 s"
    assert await settlement_lines(stack.ledger, OWNER, final.job_id) == [("release", final.held)]
    assert stack.engine.requests[("POST", "/v1/predictions/{prediction_id}/cancel")] == 1
    prediction = await stack.client.get_prediction(final.prediction_id or "")
    assert prediction.status.value == "canceled"


async def test_visitor_cancel_returns_the_hold(make_stack: StackFactory, face: Path, voice: Path) -> None:
    stack = await make_stack("stall")
    await stack.ledger.open_account(OWNER)
    first = await stack.jobs.start(OWNER, str(face), str(voice), MODEL, {})
    async for snap in stack.jobs.subscribe(OWNER, first.job_id):
        if snap.status is JobStatus.PROCESSING:
            break
    final = await stack.jobs.cancel(OWNER, first.job_id)
    assert final.status is JobStatus.CANCELED
    assert final.message == f"Canceled — {final.held} credits ($0.102) returned."
    assert await settlement_lines(stack.ledger, OWNER, final.job_id) == [("release", final.held)]
    prediction = await stack.client.get_prediction(final.prediction_id or "")
    assert prediction.status.value == "canceled"
    again = await stack.jobs.cancel(OWNER, first.job_id)
    assert again == final
    assert await settlement_lines(stack.ledger, OWNER, final.job_id) == [("release", final.held)]
