"""Fixtures of the client tests: a waiting recorder and clients on scripted transports."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable

import httpx
import pytest

from demo_app.replicate import ReplicateClient, RetryPolicy
from tests.replicate.fakes import API, TOKEN, FakeResolver, Handler, SleepRecorder


@pytest.fixture
def sleeps() -> SleepRecorder:
    return SleepRecorder()


@pytest.fixture
def policy() -> RetryPolicy:
    """No jitter, so recorded waits are exact."""
    return RetryPolicy(max_attempts=4, base_delay_s=0.5, max_delay_s=4.0, max_retry_after_s=10.0, jitter=0.0)


@pytest.fixture
def resolver() -> FakeResolver:
    return FakeResolver(
        {
            "internal.example.test": ["10.0.0.5"],
            "metadata.example.test": ["169.254.169.254"],
            "split.example.test": ["93.184.216.34", "127.0.0.1"],
        }
    )


@pytest.fixture
async def make_client(
    sleeps: SleepRecorder, policy: RetryPolicy, resolver: FakeResolver
) -> AsyncIterator[Callable[[Handler], ReplicateClient]]:
    """Factory: a client on a scripted `httpx.MockTransport`, closed after the test."""
    clients: list[ReplicateClient] = []

    def make(handler: Handler) -> ReplicateClient:
        client = ReplicateClient(
            API, TOKEN, transport=httpx.MockTransport(handler), retry=policy, sleep=sleeps, resolve=resolver
        )
        clients.append(client)
        return client

    yield make
    for client in clients:
        await client.aclose()
