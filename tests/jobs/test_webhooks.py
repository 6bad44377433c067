"""Push first, poll as a safety net: the engine's signed webhooks reach the app's route over real
HTTP, wake the job's follower, and nothing forged, replayed, stale or repeated changes a job."""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest

from demo_app.engine import GET_PREDICTION, Engine
from demo_app.engine._scenarios import WebhooksLost
from demo_app.jobs import JobStatus
from demo_app.replicate import (
    DEFAULT_CREATES_PER_MIN,
    DEFAULT_READS_PER_MIN,
    Pacing,
    Priority,
    SigningKey,
    TokenBucket,
)
from demo_app.services import webhook_links
from demo_app.settings import Settings
from tests.jobs.checks import settlement_lines
from tests.jobs.conftest import OWNER, Stack, StackFactory
from tests.jobs.receiver import Receiver, serve_receiver

MODEL = "wan-video/wan-2.2-s2v"
MAX_BODY = 1024 * 1024


@pytest.fixture
async def receiver() -> AsyncIterator[Receiver]:
    async with serve_receiver(MAX_BODY) as served:
        yield served


async def webhook_stack(make_stack: StackFactory, receiver: Receiver, scenario: Any, **kw: Any) -> Stack:
    stack = await make_stack(
        scenario, public_url=receiver.base_url, webhook_max_body_kb=MAX_BODY // 1024, **kw
    )
    receiver.inbox = stack.webhooks
    return stack


async def run_job(stack: Stack, face: Path, voice: Path) -> Any:
    await stack.ledger.open_account(OWNER)
    first = await stack.jobs.start(OWNER, str(face), str(voice), MODEL, {})
    return await stack.jobs.wait(OWNER, first.job_id, timeout_s=120)


async def test_a_job_followed_by_webhooks_ends_by_the_push_without_reading(
    make_stack: StackFactory, receiver: Receiver, face: Path, voice: Path
) -> None:
    # A first poll only after 60 s, then every 10 minutes: a job that ends within seconds without
    # a single read of its prediction was carried by the pushes alone (a loaded machine may take
    # a few seconds to deliver the first push; the poll must not win that race).
    stack = await webhook_stack(
        make_stack, receiver, "normal", poll_interval_s=60.0, webhook_safety_poll_s=600.0
    )
    final = await run_job(stack, face, voice)
    assert final.status is JobStatus.SUCCEEDED, final.message
    await stack.engine.runtime.webhooks.drained()
    sent = stack.engine.runtime.webhooks.sent
    assert sent["start 200"] == 1 and sent["completed 200"] == 1 and sent["logs 200"] >= 1
    assert stack.engine.requests[GET_PREDICTION] == 0
    assert final.log_tail  # the progress lines came by push too


async def test_a_lost_final_webhook_is_recovered_by_the_safety_poll(
    make_stack: StackFactory, receiver: Receiver, face: Path, voice: Path
) -> None:
    stack = await webhook_stack(
        make_stack, receiver, WebhooksLost(events=("completed",)), webhook_safety_poll_s=0.3
    )
    final = await run_job(stack, face, voice)
    assert final.status is JobStatus.SUCCEEDED, final.message
    await stack.engine.runtime.webhooks.drained()
    sent = stack.engine.runtime.webhooks.sent
    assert sent["completed lost"] == 1
    assert sum(n for answer, n in sent.items() if answer.split()[1] in ("200", "409")) >= 1  # pushes came
    assert stack.engine.requests[GET_PREDICTION] >= 1


@pytest.mark.parametrize(
    ("scenario", "refused"),
    [
        ("webhooks_duplicated", False),
        ("webhooks_out_of_order", False),
        ("webhooks_late", False),
        ("webhooks_badly_signed", True),
    ],
)
async def test_unreliable_webhooks_still_end_the_job_once(
    make_stack: StackFactory, receiver: Receiver, face: Path, voice: Path, scenario: str, refused: bool
) -> None:
    stack = await webhook_stack(make_stack, receiver, scenario, webhook_safety_poll_s=0.5)
    final = await run_job(stack, face, voice)
    assert final.status is JobStatus.SUCCEEDED, final.message
    assert await settlement_lines(stack.ledger, OWNER, final.job_id) == [("capture", final.charged)]
    answers = stack.engine.runtime.webhooks.sent
    assert (answers["start 401"] == 1) is refused
    accepted = sum(n for answer, n in answers.items() if answer.endswith(" 200"))
    assert (accepted >= 1) is not refused


# --- deliveries crafted by hand: each one that must change nothing changes nothing ---------------


@dataclass
class Followed:
    """A job whose prediction is processing (the engine's `stall`), and a way to push to it."""

    stack: Stack
    job_id: str
    prediction: dict[str, Any]
    key: SigningKey
    url: str
    http: httpx.AsyncClient

    def seen(self) -> tuple[JobStatus, str, float | None]:
        snap = self.stack.jobs.snapshot(OWNER, self.job_id)
        return snap.status, snap.log_tail, snap.progress

    async def push(
        self,
        prediction: dict[str, Any] | bytes,
        *,
        webhook_id: str | None = None,
        at: float | None = None,
        key: SigningKey | None = None,
        url: str | None = None,
    ) -> httpx.Response:
        body = prediction if isinstance(prediction, bytes) else json.dumps(prediction).encode()
        webhook_id = webhook_id or f"msg_{time.monotonic_ns()}"
        stamp = str(int(at if at is not None else time.time()))
        signature = (key or self.key).sign(webhook_id, stamp, body)
        headers = {
            "webhook-id": webhook_id,
            "webhook-timestamp": stamp,
            "webhook-signature": f"v1,{'A' * 43}= v1,{signature}",
        }
        return await self.http.post(url or self.url, content=body, headers=headers)


def logs(percent: int) -> str:
    return "".join(
        f"{p:3d}%|#         | {p}/100 [00:01<00:01, 9.00it/s]\n" for p in range(0, percent + 1, 10)
    )


async def stalled_job(stack: Stack, face: Path, voice: Path, http: httpx.AsyncClient) -> Followed:
    """A job of `stack` (engine scenario `stall`) whose prediction is processing, with one genuine
    push: it shows 30 % from the model's logs."""
    processing = asyncio.Event()
    stack.hooks.append(lambda snap: processing.set() if snap.status is JobStatus.PROCESSING else None)
    await stack.ledger.open_account(OWNER)
    first = await stack.jobs.start(OWNER, str(face), str(voice), MODEL, {})
    await asyncio.wait_for(processing.wait(), 60)
    snap = stack.jobs.snapshot(OWNER, first.job_id)
    assert snap.prediction_id is not None
    prediction = stack.engine.runtime.get(snap.prediction_id).to_json(Engine.base_url)
    links = webhook_links(stack.settings)
    assert links is not None
    key = await stack.client.webhook_signing_key()
    job = Followed(stack, first.job_id, prediction, key, links.url_for(first.job_id), http)
    answer = await job.push({**prediction, "logs": logs(30)})
    assert answer.status_code == 200, answer.text
    assert job.seen()[1].endswith("30/100 [00:01<00:01, 9.00it/s]")
    return job


@pytest.fixture
async def followed(
    make_stack: StackFactory, receiver: Receiver, face: Path, voice: Path
) -> AsyncIterator[Followed]:
    stack = await webhook_stack(make_stack, receiver, "stall", webhook_safety_poll_s=600.0)
    async with httpx.AsyncClient(timeout=30) as http:
        job = await stalled_job(stack, face, voice, http)
        yield job
        await stack.jobs.cancel(OWNER, job.job_id)


async def unchanged(job: Followed, send: Callable[[], Awaitable[httpx.Response]], status: int) -> None:
    before = job.seen()
    answer = await send()
    assert answer.status_code == status, answer.text
    assert job.seen() == before


async def test_a_forged_signature_is_refused(followed: Followed) -> None:
    forged = SigningKey(b"not the account's key, but long enough")
    ended = {**followed.prediction, "status": "failed", "error": "forged"}
    await unchanged(followed, lambda: followed.push(ended, key=forged), 401)


async def test_an_address_we_did_not_sign_is_refused(followed: Followed) -> None:
    ended = {**followed.prediction, "status": "failed", "error": "forged"}
    other = followed.url.rsplit("/", 1)[0] + "/" + "A" * 32
    await unchanged(followed, lambda: followed.push(ended, url=other), 403)


async def test_a_replay_signed_too_long_ago_is_refused(followed: Followed) -> None:
    ended = {**followed.prediction, "status": "failed", "error": "replayed"}
    await unchanged(followed, lambda: followed.push(ended, at=time.time() - 600), 401)


async def test_an_older_state_never_overwrites_a_newer_one(followed: Followed) -> None:
    earlier = {**followed.prediction, "logs": logs(10)}
    queued = {**followed.prediction, "status": "starting", "logs": ""}
    await unchanged(followed, lambda: followed.push(earlier), 409)
    await unchanged(followed, lambda: followed.push(queued), 409)


async def test_a_duplicate_is_acknowledged_and_changes_nothing(followed: Followed) -> None:
    later = {**followed.prediction, "logs": logs(50)}
    first = await followed.push(later, webhook_id="msg_twice")
    assert first.status_code == 200
    assert followed.seen()[1].endswith("50/100 [00:01<00:01, 9.00it/s]")
    ended = {**followed.prediction, "status": "failed", "error": "a different body under the same id"}
    await unchanged(followed, lambda: followed.push(ended, webhook_id="msg_twice"), 200)


async def test_out_of_order_states_keep_the_newest(followed: Followed) -> None:
    newer, older = {**followed.prediction, "logs": logs(70)}, {**followed.prediction, "logs": logs(40)}
    assert (await followed.push(newer)).status_code == 200
    await unchanged(followed, lambda: followed.push(older), 409)
    assert followed.seen()[1].endswith("70/100 [00:01<00:01, 9.00it/s]")


async def test_an_unknown_job_is_acknowledged_and_changes_nothing(followed: Followed) -> None:
    links = webhook_links(followed.stack.settings)
    assert links is not None
    ended = {**followed.prediction, "status": "failed"}
    await unchanged(followed, lambda: followed.push(ended, url=links.url_for("no-such-job")), 200)


async def test_an_oversized_body_is_refused_before_it_is_read(followed: Followed) -> None:
    huge = {**followed.prediction, "status": "failed", "logs": "x" * (MAX_BODY + 1)}
    await unchanged(followed, lambda: followed.push(huge), 413)

    async def chunks() -> AsyncIterator[bytes]:  # no Content-Length: counted while streaming
        for _ in range(MAX_BODY // 1024 + 2):
            yield b" " * 1024

    headers = {
        "webhook-id": "msg_stream",
        "webhook-timestamp": str(int(time.time())),
        "webhook-signature": "v1,x",
    }
    await unchanged(
        followed, lambda: followed.http.post(followed.url, content=chunks(), headers=headers), 413
    )


def test_plain_http_webhooks_only_to_loopback() -> None:
    assert Settings(_env_file=None, public_url="http://127.0.0.1:9").webhook_base_url == "http://127.0.0.1:9"
    with pytest.raises(ValueError, match="https"):
        Settings(_env_file=None, public_url="http://studio.example.com")
    space = Settings(_env_file=None, space_host="owner-studio.hf.space")
    assert space.webhook_base_url == "https://owner-studio.hf.space"


async def test_logs_are_pushed_for_as_many_running_predictions_as_the_limit_counting_only_those(
    make_stack: StackFactory, receiver: Receiver, face: Path, voice: Path
) -> None:
    # Limit 1. A pushes its logs; B, created while A runs, does not; once A has ended, C pushes
    # again although B is still followed (a follower without logs webhooks costs the loop none).
    stack = await webhook_stack(
        make_stack, receiver, "stall", webhook_safety_poll_s=600.0, webhook_progress_max_jobs=1
    )
    processing: dict[str, asyncio.Event] = {}
    stack.hooks.append(
        lambda snap: (
            processing.setdefault(snap.job_id, asyncio.Event()).set()
            if snap.status is JobStatus.PROCESSING
            else None
        )
    )
    await stack.ledger.open_account(OWNER)

    async def running() -> str:
        job = await stack.jobs.start(OWNER, str(face), str(voice), MODEL, {})
        await asyncio.wait_for(processing.setdefault(job.job_id, asyncio.Event()).wait(), 60)
        return job.job_id

    def pushes_logs(job_id: str) -> bool:
        return stack.jobs._jobs[job_id].progress_pushed  # what the create asked of the webhook

    a = await running()
    b = await running()
    assert pushes_logs(a) and not pushes_logs(b)
    await stack.jobs.cancel(OWNER, a)
    await stack.jobs.wait(OWNER, a, timeout_s=60)
    c = await running()
    assert pushes_logs(c)
    for job_id in (b, c):
        await stack.jobs.cancel(OWNER, job_id)


class HeldReads:
    """The read budget as a crowd's arrival leaves it: while held, every read waits (behind a
    thousand uploads, say); a cancel, which goes first, still passes."""

    def __init__(self, inner: TokenBucket) -> None:
        self._inner = inner
        self.released = asyncio.Event()
        self.released.set()
        self.someone_waits = asyncio.Event()

    @property
    def per_minute(self) -> int:
        return self._inner.per_minute

    @property
    def rate_per_s(self) -> float:
        return self._inner.rate_per_s

    def available(self) -> float:
        return self._inner.available()

    def waiting(self) -> int:
        return self._inner.waiting()

    async def acquire(self, priority: Priority = Priority.NORMAL) -> None:
        if priority is not Priority.URGENT and not self.released.is_set():
            self.someone_waits.set()
            await self.released.wait()
        await self._inner.acquire(priority)


async def progress_reaches(stack: Stack, job_id: str, fraction: float) -> None:
    async for snap in stack.jobs.subscribe(OWNER, job_id):
        if snap.progress is not None and snap.progress >= fraction:
            return


async def test_pushes_that_arrive_while_a_read_waits_for_the_budget_are_shown_and_a_cancel_acts(
    make_stack: StackFactory, receiver: Receiver, face: Path, voice: Path
) -> None:
    # The follower's safety-net read (every 0.2 s here) waits for a read budget that is spent.
    # A push arriving meanwhile reaches the visitor now, not when the read is answered; a cancel
    # stops the job now. Before, the follower sat in the read: neither happened while it waited.
    reads = HeldReads(TokenBucket(DEFAULT_READS_PER_MIN))
    pacing = Pacing(reads=reads, creates=TokenBucket(DEFAULT_CREATES_PER_MIN))
    stack = await webhook_stack(make_stack, receiver, "stall", webhook_safety_poll_s=0.2, pacing=pacing)
    async with httpx.AsyncClient(timeout=30) as http:
        job = await stalled_job(stack, face, voice, http)
        reads.released.clear()
        await asyncio.wait_for(reads.someone_waits.wait(), 30)

        answer = await job.push({**job.prediction, "logs": logs(60)})
        assert answer.status_code == 200, answer.text
        await asyncio.wait_for(progress_reaches(stack, job.job_id, 0.6), 10)
        assert not reads.released.is_set()

        final = await asyncio.wait_for(stack.jobs.cancel(OWNER, job.job_id), 30)
        assert final.status is JobStatus.CANCELED, final.message
        settled = [("capture", final.charged)] if final.charged else [("release", final.returned)]
        assert await settlement_lines(stack.ledger, OWNER, job.job_id) == settled
        reads.released.set()
