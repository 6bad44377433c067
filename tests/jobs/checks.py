"""Assertions shared by the job tests: the ledger's story of one job, and the delivered video."""

from __future__ import annotations

import av

from demo_app.credits import Ledger


async def settlement_lines(ledger: Ledger, owner: str, ref: str) -> list[tuple[str, int]]:
    """(kind, credits) of every capture/release entry of this job: what was charged, or returned."""
    return [(kind, n) for kind, n in await job_lines(ledger, owner, ref) if kind in {"capture", "release"}]


async def job_lines(ledger: Ledger, owner: str, ref: str) -> list[tuple[str, int]]:
    """(kind, credits) of every ledger entry of this job; a release counts the credits it returned."""
    lines = await ledger.statement(owner)
    return [
        (line.kind, settled_credits(line.kind, line.amount, line.held_change))
        for line in lines
        if line.ref == ref
    ]


def settled_credits(kind: str, amount: int, held_change: int) -> int:
    """A capture moves `-amount` credits out; a hold or release moves `held_change` in or back."""
    return -amount if kind == "capture" else abs(held_change)


def assert_playable(path: str | None) -> float:
    """The file decodes, has a video and an audio stream; returns its duration in seconds."""
    assert path is not None
    with av.open(path) as container:
        assert container.streams.video, "no video stream"
        assert container.streams.audio, "no audio stream"
        frames = sum(1 for _ in container.decode(video=0))
        assert frames > 0
        assert container.duration is not None
        return container.duration / 1_000_000
