"""Jobs and videos are kept for a configured time, and the videos' disk use stays under its bound."""

from __future__ import annotations

from pathlib import Path

from demo_app.jobs import JobStatus
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
