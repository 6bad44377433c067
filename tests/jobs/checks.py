"""Assertions shared by the job tests: the ledger's story of one job, and the delivered video."""

from __future__ import annotations

import av
from demo_app.credits import Ledger


async def settlement_lines(ledger: Ledger, owner: str, ref: str) -> list[tuple[str, int]]:
    """(kind, amount) of every capture/release entry of this job, in order."""
    lines = await ledger.statement(owner)
    return [
        (line.kind, abs(line.amount))
        for line in lines
        if line.ref == ref and line.kind in {"capture", "release"}
    ]


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
