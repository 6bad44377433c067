"""Fixtures of the media tests: one pool of media workers and one canary server per session."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator

import pytest

from demo_app.media import MediaWorkers
from tests.media.canary import Canary, canary_server

MEMORY_BOUND = 200 * 1024 * 1024
"""Growth of a worker's resident memory that no check may exceed."""


@pytest.fixture(scope="session")
def media_workers() -> Iterator[MediaWorkers]:
    workers = MediaWorkers(2, deadline_s=15.0)
    yield workers
    asyncio.run(workers.aclose())


@pytest.fixture(scope="session")
def canary() -> Iterator[Canary]:
    with canary_server() as server:
        yield server
