"""Comparisons through the whole stack on the engine: admitted as one (any refusal refuses all with
nothing held), counted once against the owner's job limit, each member settled on its own."""

from __future__ import annotations

import wave
from pathlib import Path

import pytest

from demo_app.engine._scenarios import ModelFails
from demo_app.jobs import CannotAffordComparison, JobRefused, JobStatus, OwnerBusy, fold
from tests.jobs.checks import settlement_lines
from tests.jobs.conftest import OWNER, SAMPLES, StackFactory

PVIDEO = "prunaai/p-video-avatar"
OMNI = "bytedance/omni-human"
WAN = "wan-video/wan-2.2-s2v"


@pytest.mark.slow
async def test_a_comparison_counts_once_and_a_failed_member_returns_only_its_own_hold(
    make_stack: StackFactory, face: Path, voice: Path
) -> None:
    stack = await make_stack(ModelFails(OMNI), max_jobs_per_owner=2)
    await stack.ledger.open_account(OWNER)
    comparison = await stack.jobs.start_comparison(OWNER, str(face), str(voice), [PVIDEO, OMNI])
    assert [m.model for m in comparison.members] == [PVIDEO, OMNI]
    assert stack.jobs.open_jobs(OWNER) == 1
    single = await stack.jobs.start(OWNER, str(face), str(voice), WAN, {})
    with pytest.raises(OwnerBusy, match="You already have 2 jobs running"):
        await stack.jobs.start(OWNER, str(face), str(voice), WAN, {})

    ok, failed = [await stack.jobs.wait(OWNER, m.job_id) for m in comparison.members]
    await stack.jobs.wait(OWNER, single.job_id)
    assert ok.status is JobStatus.SUCCEEDED, ok.message
    assert failed.status is JobStatus.FAILED, failed.message
    assert await settlement_lines(stack.ledger, OWNER, ok.job_id) == [("capture", ok.charged)]
    assert await settlement_lines(stack.ledger, OWNER, failed.job_id) == [("release", failed.held)]
    assert failed.held > 0 and failed.charged == 0

    final = stack.jobs.comparison(OWNER, comparison.group_id)
    assert final.terminal and final.succeeded == 1 and final.charged == ok.charged
    entries = fold(stack.jobs.history(OWNER))
    assert len(entries) == 2  # the comparison as one entry, beside the single job


async def test_any_refusal_refuses_the_whole_comparison_before_any_hold(
    make_stack: StackFactory, face: Path, voice: Path, tmp_path: Path
) -> None:
    long_voice = tmp_path / "voice-25s.wav"  # OmniHuman takes at most 15 s, P-Video 60
    with wave.open(str(SAMPLES / "sample-voice.wav")) as src, wave.open(str(long_voice), "wb") as dst:
        dst.setparams(src.getparams())
        frames = src.readframes(src.getnframes())
        dst.writeframes(frames + frames)
    # Each model alone fits in 300 credits (50 and 280 for 2 s); the two together do not.
    stack = await make_stack("normal", starting_grant=300)
    await stack.ledger.open_account(OWNER)
    with pytest.raises(CannotAffordComparison, match=r"holds 330 .* compare fewer models"):
        await stack.jobs.start_comparison(OWNER, str(face), str(voice), [PVIDEO, OMNI])
    await stack.ledger.adjust(OWNER, 5000, reason="test")
    with pytest.raises(JobRefused, match="OmniHuman takes at most 15"):
        await stack.jobs.start_comparison(OWNER, str(face), str(long_voice), [PVIDEO, OMNI])
    with pytest.raises(JobRefused, match="Choose 2 or 3 different models"):
        await stack.jobs.start_comparison(OWNER, str(face), str(voice), [PVIDEO, PVIDEO])
    assert stack.jobs.history(OWNER) == []
    assert await stack.ledger.open_holds() == []
