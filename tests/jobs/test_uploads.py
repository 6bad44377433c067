"""The inputs travel through the Files API: every read of the prediction is small, and the
uploaded files are deleted once the job has ended (succeeded or canceled)."""

from __future__ import annotations

import asyncio
import time
from pathlib import Path
from typing import Any

import httpx

from demo_app.engine import Engine
from demo_app.engine._routes import CREATE_FILE
from demo_app.jobs import JobStatus
from tests.jobs.conftest import OWNER, TOKEN, Stack, StackFactory

MODEL = "wan-video/wan-2.2-s2v"


def raw(stack: Stack) -> httpx.AsyncClient:
    """Plain HTTP to the engine, as anyone holding the token could read it."""
    return httpx.AsyncClient(
        base_url=Engine.base_url,
        transport=stack.engine.transport(),
        headers={"Authorization": f"Bearer {TOKEN}"},
    )


async def files_left(stack: Stack, *, within_s: float = 10.0) -> list[dict[str, Any]]:
    """The engine's uploaded files, once the background deletions had a chance to finish."""
    deadline = time.monotonic() + within_s
    async with raw(stack) as http:
        while True:
            files = (await http.get("/v1/files")).json()["results"]
            if not files or time.monotonic() > deadline:
                return list(files)
            await asyncio.sleep(0.05)


async def prediction_of(stack: Stack, job_id: str) -> str:
    async for snap in stack.jobs.subscribe(OWNER, job_id):
        if snap.prediction_id is not None:
            return snap.prediction_id
    raise AssertionError("the job ended before its prediction was created")


async def test_each_read_of_the_prediction_is_small_and_the_uploads_go_when_the_job_ends(
    make_stack: StackFactory, face: Path, voice: Path
) -> None:
    stack = await make_stack("slow_progress")
    await stack.ledger.open_account(OWNER)
    first = await stack.jobs.start(OWNER, str(face), str(voice), MODEL, {})
    prediction_id = await prediction_of(stack, first.job_id)
    async with raw(stack) as http:
        body = (await http.get(f"/v1/predictions/{prediction_id}")).content
        uploaded = (await http.get("/v1/files")).json()["results"]
    assert len(body) < 8 * 1024, f"a poll returned {len(body)} bytes"
    assert b"data:" not in body
    assert len(uploaded) == 2  # the face and the voice
    final = await stack.jobs.wait(OWNER, first.job_id, timeout_s=60)
    assert final.status is JobStatus.SUCCEEDED
    assert await files_left(stack) == []


async def test_a_canceled_job_deletes_its_uploads_too(
    make_stack: StackFactory, face: Path, voice: Path
) -> None:
    stack = await make_stack("stall")
    await stack.ledger.open_account(OWNER)
    first = await stack.jobs.start(OWNER, str(face), str(voice), MODEL, {})
    await prediction_of(stack, first.job_id)
    ended = await stack.jobs.cancel(OWNER, first.job_id)
    assert ended.status is JobStatus.CANCELED
    assert await files_left(stack) == []


async def test_tiny_inputs_still_travel_inline(make_stack: StackFactory, face: Path, voice: Path) -> None:
    """Below `inline_input_max_bytes` a file goes inside the create: nothing to upload or delete."""
    stack = await make_stack("normal", inline_input_max_bytes=64 * 1024 * 1024)
    await stack.ledger.open_account(OWNER)
    first = await stack.jobs.start(OWNER, str(face), str(voice), MODEL, {})
    final = await stack.jobs.wait(OWNER, first.job_id, timeout_s=60)
    assert final.status is JobStatus.SUCCEEDED
    assert stack.engine.requests[CREATE_FILE] == 0
