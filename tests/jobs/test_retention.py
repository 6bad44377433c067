"""Jobs and videos are kept for a configured time, and the videos' disk use stays under its bound."""

from __future__ import annotations

from pathlib import Path

import pytest

from demo_app.jobs import JobStatus, NothingToRetry
from tests.jobs.conftest import OWNER, StackFactory

MODEL = "wan-video/wan-2.2-s2v"


async def finished_jobs(stack, face: Path, voice: Path, count: int) -> list:  # type: ignore[no-untyped-def]
    await stack.ledger.open_account(OWNER)
    finals = []
    for _ in range(count):
        snap = await stack.jobs.start(OWNER, str(face), str(voice), MODEL, {})
        finals.append(await stack.jobs.wait(OWNER, snap.job_id))
    assert all(f.status is JobStatus.SUCCEEDED for f in finals)
    return finals


async def test_jobs_older_than_the_keep_time_go_with_their_videos(
    make_stack: StackFactory, face: Path, voice: Path
) -> None:
    stack = await make_stack("normal")
    (final,) = await finished_jobs(stack, face, voice, 1)
    await stack.jobs.prune()
    assert [h.job_id for h in stack.jobs.history(OWNER)] == [final.job_id], "young jobs stay"
    stack.settings.keep_jobs_days = 1e-9
    await stack.jobs.prune()
    assert stack.jobs.history(OWNER) == []
    assert not Path(final.video_path or "").exists()


async def test_the_oldest_videos_go_first_when_the_disk_bound_is_reached(
    make_stack: StackFactory, face: Path, voice: Path
) -> None:
    stack = await make_stack("normal")
    older, newer = await finished_jobs(stack, face, voice, 2)
    newest_size = Path(newer.video_path or "").stat().st_size
    stack.settings.max_video_disk_mb = (newest_size + 1) / 2**20
    await stack.jobs.prune()
    kept = {h.job_id: h for h in stack.jobs.history(OWNER)}
    assert kept[newer.job_id].video_path == newer.video_path
    assert Path(newer.video_path or "").exists()
    assert kept[older.job_id].video_path is None
    assert "removed to free space" in kept[older.job_id].message
    assert not Path(older.video_path or "").exists()


async def test_a_failed_job_keeps_its_inputs_for_try_again_until_its_keep_time(
    make_stack: StackFactory, face: Path, voice: Path
) -> None:
    stack = await make_stack("failure")
    await stack.ledger.open_account(OWNER)
    first = await stack.jobs.start(OWNER, str(face), str(voice), MODEL, {})
    failed = await stack.jobs.wait(OWNER, first.job_id)
    assert failed.status is JobStatus.FAILED
    kept = stack.settings.data_dir / "inputs" / first.job_id
    assert kept.is_dir()

    again = await stack.jobs.retry(OWNER, first.job_id)
    assert again.job_id != first.job_id and again.model == MODEL
    assert (await stack.jobs.wait(OWNER, again.job_id)).status is JobStatus.FAILED

    await stack.jobs.prune()
    assert kept.is_dir(), "kept within retry_keep_hours"
    stack.settings.retry_keep_hours = 1e-9
    await stack.jobs.prune()
    assert not kept.is_dir()
    with pytest.raises(NothingToRetry, match="no longer kept"):
        await stack.jobs.retry(OWNER, first.job_id)
