"""The job manager's promises beyond one scenario: viewers, owners, limits, history, quotes."""

from __future__ import annotations

import asyncio
import time
from pathlib import Path

import pytest

from demo_app.jobs import JobNotFound, JobRefused, JobSnapshot, JobStatus
from demo_app.jobs._live import PROGRESS_FRAME_S
from tests.jobs.conftest import OWNER, StackFactory

MODEL = "wan-video/wan-2.2-s2v"


def gets(stack) -> int:  # type: ignore[no-untyped-def]
    return sum(
        n
        for (method, route), n in stack.engine.requests.items()
        if method == "GET" and "{" in route and "predictions" in route
    )


async def test_viewers_and_status_calls_make_no_upstream_requests(
    make_stack: StackFactory, face: Path, voice: Path
) -> None:
    stack = await make_stack("stall", poll_interval_s=3600)
    await stack.ledger.open_account(OWNER)
    first = await stack.jobs.start(OWNER, str(face), str(voice), MODEL, {})
    async for snap in stack.jobs.subscribe(OWNER, first.job_id):
        if snap.prediction_id is not None:
            break
    before = gets(stack)
    viewers = [stack.jobs.subscribe(OWNER, first.job_id) for _ in range(50)]
    seen = [await anext(viewer) for viewer in viewers]
    assert {snap.job_id for snap in seen} == {first.job_id}
    for _ in range(1000):
        stack.jobs.snapshot(OWNER, first.job_id)
    assert gets(stack) == before
    for viewer in viewers:
        await viewer.aclose()
    await stack.jobs.cancel(OWNER, first.job_id)


async def test_fifty_subscribers_cost_what_one_costs(
    make_stack: StackFactory, face: Path, voice: Path
) -> None:
    """GETs follow the poll schedule only: the same bound with 1 viewer and with 50."""
    stack = await make_stack("slow_progress", poll_interval_s=0.1)
    await stack.ledger.open_account(OWNER)
    counts = []
    for viewers in (1, 50):
        before = gets(stack)
        first = await stack.jobs.start(OWNER, str(face), str(voice), MODEL, {})
        streams = [stack.jobs.subscribe(OWNER, first.job_id) for _ in range(viewers)]
        finals = await asyncio.gather(*[_last(stream) for stream in streams])
        assert all(f.status is JobStatus.SUCCEEDED for f in finals)
        polls = gets(stack) - before
        schedule = finals[0].elapsed_s / 0.1 + 2
        assert 0 < polls <= schedule
        counts.append(polls)
    assert counts[1] <= counts[0] * 1.5 + 2


async def test_progress_reaches_viewers_coalesced_and_status_changes_at_once(
    make_stack: StackFactory, face: Path, voice: Path
) -> None:
    """The model prints a progress line every 0.1 s and we read every 20 ms: viewers still get at
    most about four progress frames a second, and the ending as soon as it is known."""
    stack = await make_stack("failure", time_scale=1.0, poll_interval_s=0.02)
    await stack.ledger.open_account(OWNER)
    first = await stack.jobs.start(OWNER, str(face), str(voice), MODEL, {})
    frames: list[tuple[float, JobSnapshot]] = []
    async for snap in stack.jobs.subscribe(OWNER, first.job_id):
        frames.append((time.monotonic(), snap))
    processing = [t for t, snap in frames if snap.status is JobStatus.PROCESSING]
    progress = [snap.progress for _, snap in frames if snap.status is JobStatus.PROCESSING]
    assert len(processing) >= 3, "progress never reached the viewer"
    assert progress == sorted(progress)
    assert len(processing) <= (processing[-1] - processing[0]) / PROGRESS_FRAME_S + 2
    assert frames[-1][1].status is JobStatus.FAILED
    assert frames[-1][0] - processing[-1] < 1.0


async def _last(stream):  # type: ignore[no-untyped-def]
    last = None
    async for snap in stream:
        last = snap
    return last


async def test_owners_cannot_see_or_cancel_each_others_jobs(
    make_stack: StackFactory, face: Path, voice: Path
) -> None:
    stack = await make_stack("stall")
    await stack.ledger.open_account(OWNER)
    first = await stack.jobs.start(OWNER, str(face), str(voice), MODEL, {})
    with pytest.raises(JobNotFound):
        stack.jobs.snapshot("browser:intruder", first.job_id)
    with pytest.raises(JobNotFound):
        await stack.jobs.cancel("browser:intruder", first.job_id)
    with pytest.raises(JobNotFound):
        stack.jobs.snapshot(OWNER, "guessed-id")
    assert stack.jobs.history("browser:intruder") == []
    assert len(first.job_id) >= 20
    final = await stack.jobs.cancel(OWNER, first.job_id)
    assert final.status is JobStatus.CANCELED


async def test_history_is_newest_first_and_survives_a_reopen(
    make_stack: StackFactory, face: Path, voice: Path
) -> None:
    stack = await make_stack("normal")
    await stack.ledger.open_account(OWNER)
    ids = []
    for _ in range(2):
        snap = await stack.jobs.start(OWNER, str(face), str(voice), MODEL, {})
        await stack.jobs.wait(OWNER, snap.job_id)
        ids.append(snap.job_id)
    history = stack.jobs.history(OWNER)
    assert [h.job_id for h in history] == ids[::-1]
    assert all(h.status is JobStatus.SUCCEEDED and h.video_path for h in history)
    assert stack.jobs.active_job(OWNER) is None


async def test_unknown_model_and_a_full_studio_are_refused_before_anything_starts(
    make_stack: StackFactory, face: Path, voice: Path
) -> None:
    stack = await make_stack("stall", max_jobs_total=1)
    await stack.ledger.open_account(OWNER)
    with pytest.raises(JobRefused, match="nope/model"):
        await stack.jobs.start(OWNER, str(face), str(voice), "nope/model", {})
    first = await stack.jobs.start(OWNER, str(face), str(voice), MODEL, {})
    with pytest.raises(JobRefused, match="busy"):
        await stack.jobs.start("browser:other", str(face), str(voice), MODEL, {})
    await stack.jobs.cancel(OWNER, first.job_id)


async def test_per_owner_limit_and_balance_refusals_hold_nothing(
    make_stack: StackFactory, face: Path, voice: Path
) -> None:
    # 2 s on Wan holds one whole chunk of video: 102 credits.
    stack = await make_stack("stall", max_jobs_per_owner=1, starting_grant=150)
    await stack.ledger.open_account(OWNER)
    running = await stack.jobs.start(OWNER, str(face), str(voice), MODEL, {})
    async for snap in stack.jobs.subscribe(OWNER, running.job_id):
        if snap.status is JobStatus.UPLOADING or snap.terminal:
            break
    # Refused at the door: no job record, no media work, nothing held.
    with pytest.raises(JobRefused, match=r"already have 1 job running \(the limit is 1\)"):
        await stack.jobs.start(OWNER, str(face), str(voice), MODEL, {})
    assert [h.ref for h in await stack.ledger.open_holds()] == [running.job_id]
    assert [s.job_id for s in stack.jobs.history(OWNER)] == [running.job_id]
    await stack.jobs.cancel(OWNER, running.job_id)
    balance = await stack.ledger.balance(OWNER)
    assert (balance.balance, balance.held) == (150, 0)


async def test_quote_explains_what_is_missing_and_what_it_costs(
    make_stack: StackFactory, face: Path, voice: Path
) -> None:
    stack = await make_stack("normal", starting_grant=10)
    await stack.ledger.open_account(OWNER)
    assert (await stack.jobs.quote(OWNER, MODEL, None, None)).reason == "Add a face image and an audio clip."
    short = await stack.jobs.quote(OWNER, MODEL, str(face), str(voice))
    # 2 s of audio make one whole chunk of 81 frames (5.06 s of video at 16 fps): 102 credits.
    assert not short.ready and short.estimate == 102
    assert "$0.01" in short.reason and "$0.102" in short.reason
    await stack.ledger.adjust(OWNER, 100, reason="test top-up")
    ok = await stack.jobs.quote(OWNER, MODEL, str(face), str(voice))
    assert ok.ready and ok.text.startswith("≈ $0.102 for 2.0 s of audio")


async def test_many_running_jobs_share_the_read_rate_limit(
    make_stack: StackFactory, face: Path, voice: Path
) -> None:
    """Five jobs polling every 10 ms would read ~500 times a second; 300 reads a minute allow 5."""
    stack = await make_stack(
        "stall",
        time_scale=1.0,
        poll_interval_s=0.01,
        reads_per_min=300,
        job_timeout_s=2.0,
        max_jobs_per_owner=5,
    )
    await stack.ledger.open_account(OWNER)
    await stack.ledger.adjust(OWNER, 1000, reason="room for five jobs")
    started = [await stack.jobs.start(OWNER, str(face), str(voice), MODEL, {}) for _ in range(5)]
    finals = [await stack.jobs.wait(OWNER, snap.job_id) for snap in started]
    assert all(f.status is JobStatus.TIMED_OUT for f in finals)
    longest = max(f.elapsed_s for f in finals)
    assert 0 < gets(stack) <= 5.0 * longest + len(finals)
