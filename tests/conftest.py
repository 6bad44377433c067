"""Fixtures shared by every test package: the built-in engine, in-process and on loopback.

- `engine_factory` (async): `await engine_factory("cold_start", time_scale=200)` returns a
  started `Engine` on its own folder under `tmp_path`; use it with `engine.transport()` and
  `Engine.base_url`, authenticate with `ENGINE_TOKEN`. Closed after the test.
- `loopback_engine`: `with loopback_engine("drop_on_get") as server:` serves a fresh engine
  with uvicorn on 127.0.0.1 (`server.base_url`, `server.engine`), for black-box tests over
  real sockets.
- `render_pool`: one pool of render workers for the whole session, shared by the engines
  above, so the worker start-up is paid once; `media_workers` likewise for the media checks.
Both factories take the `Engine` keyword arguments (`output_ttl_s`, `renderer`, `clock`, ...).
- `postgres`, `database_url`, `database`: a throw-away PostgreSQL (see `tests.postgres`).

The longest files are collected first (`LONGEST_FIRST`); `tests/run.sh` keeps that order for xdist.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from demo_app.engine import Engine, LoopbackServer, RenderPool, Scenario
from demo_app.media import MediaWorkers
from tests import forked  # noqa: F401  (before any worker starts: the fork server preloads the test workers)
from tests.postgres import database, database_url, postgres

__all__ = ["database", "database_url", "postgres"]  # fixtures shared with every package

ENGINE_TOKEN = "r8_engine-test-token"
DEFAULT_TIME_SCALE = 100.0

LONGEST_FIRST = (
    "tests/jobs/test_restart.py",
    "tests/crowd/test_crowd.py",
    "tests/ui/test_browser.py",
    "tests/replicas/test_takeover.py",
    "tests/replicas/test_replicas.py",
    "tests/credits/test_state_machine.py",
    "tests/credits/test_crash.py",
    "tests/ui/test_preflight.py",
    "tests/ui/test_api.py",
    "tests/ui/test_admin.py",
    "tests/jobs/test_replicas.py",
    "tests/jobs/test_every_model.py",
    "tests/jobs/test_hostile_inputs.py",
    "tests/jobs/test_scenarios.py",
    "tests/jobs/test_billing.py",
)
"""The files that take minutes each, longest first (measured with `--durations`). With
`--dist loadfile` one worker runs a whole file: a long file handed out last would keep one worker
busy while the other sits idle, so these start first and the short files fill in around them."""


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Move the tests of `LONGEST_FIRST` to the front, in that order; the rest keep theirs."""
    rank = {path: index for index, path in enumerate(LONGEST_FIRST)}
    items.sort(key=lambda item: rank.get(item.nodeid.split("::", 1)[0], len(rank)))


EngineFactory = Callable[..., Awaitable[Engine]]
LoopbackFactory = Callable[..., LoopbackServer]


@pytest.fixture(scope="session")
def render_pool() -> Iterator[RenderPool]:
    pool = RenderPool(workers=2)
    yield pool
    pool.close()


@pytest.fixture(scope="session")
def media_workers() -> Iterator[MediaWorkers]:
    workers = MediaWorkers(workers=2, deadline_s=15.0, memory_mb=320)
    yield workers
    workers.close()


@pytest.fixture
async def engine_factory(tmp_path: Path, render_pool: RenderPool) -> AsyncIterator[EngineFactory]:
    engines: list[Engine] = []

    async def make(
        scenario: str | Scenario = "normal", *, time_scale: float = DEFAULT_TIME_SCALE, **options: Any
    ) -> Engine:
        options.setdefault("render_pool", render_pool)
        engine = Engine(
            token=ENGINE_TOKEN,
            data_dir=tmp_path / f"engine-{len(engines)}",
            scenario=scenario,
            time_scale=time_scale,
            **options,
        )
        await engine.start()
        engines.append(engine)
        return engine

    yield make
    for engine in reversed(engines):
        await engine.aclose()


@pytest.fixture
def loopback_engine(tmp_path: Path, render_pool: RenderPool) -> LoopbackFactory:
    count = 0

    def make(
        scenario: str | Scenario = "normal", *, time_scale: float = DEFAULT_TIME_SCALE, **options: Any
    ) -> LoopbackServer:
        nonlocal count
        count += 1
        options.setdefault("render_pool", render_pool)
        engine = Engine(
            token=ENGINE_TOKEN,
            data_dir=tmp_path / f"loopback-{count}",
            scenario=scenario,
            time_scale=time_scale,
            **options,
        )
        return LoopbackServer(engine)

    return make
