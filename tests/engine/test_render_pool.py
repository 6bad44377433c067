"""Renders in worker processes: progress comes back in order, cancel and crashes are contained."""

from __future__ import annotations

import asyncio
import functools
from collections.abc import AsyncIterator, Callable
from pathlib import Path

import httpx
import pytest

from demo_app.engine import RecordStatus, RenderPool
from demo_app.engine._render_pool import RenderCrashed, RenderJob
from tests.conftest import EngineFactory
from tests.engine.conftest import FACE
from tests.engine.fakes import crashing_render, failing_render, quick_render, slow_render
from tests.engine.helpers import create, reach, record, wan_input

Api = Callable[..., httpx.AsyncClient]


@pytest.fixture
async def single_worker() -> AsyncIterator[RenderPool]:
    """A pool of one worker: a second render can only start once the first one has returned."""
    pool = RenderPool(workers=1)
    yield pool
    await asyncio.to_thread(pool.close)


def _job(tmp_path: Path, voice: Path, name: str = "out.mp4") -> RenderJob:
    return RenderJob(image=FACE, audio=voice, out=tmp_path / name, fps=25, max_side=128)


async def _ignore(done: int, total: int) -> None:
    return None


async def test_progress_arrives_in_order_before_the_result(
    render_pool: RenderPool, tmp_path: Path, voice: Path
) -> None:
    seen: list[tuple[int, int]] = []

    async def on_progress(done: int, total: int) -> None:
        await asyncio.sleep(0)  # a slow consumer must not lose or reorder messages
        seen.append((done, total))

    report = await render_pool.render(quick_render, _job(tmp_path, voice), on_progress)
    assert seen == [(1, 5), (2, 5), (3, 5), (4, 5), (5, 5)]
    assert report.frames == 5 and (tmp_path / "out.mp4").exists()


async def test_real_renderer_reports_about_every_percent(
    render_pool: RenderPool, tmp_path: Path, voice: Path
) -> None:
    from demo_app.engine._render_pool import real_renderer

    seen: list[int] = []

    async def on_progress(done: int, total: int) -> None:
        seen.append(done)

    report = await render_pool.render(real_renderer, _job(tmp_path, voice), on_progress)
    assert seen == sorted(seen) and seen[-1] == report.frames == 25 and report.face_found


async def test_canceling_the_caller_stops_the_worker(
    single_worker: RenderPool, tmp_path: Path, voice: Path
) -> None:
    marker = tmp_path / "frames-drawn"
    reached = asyncio.Event()

    async def on_progress(done: int, total: int) -> None:
        if done >= 10:
            reached.set()

    slow = functools.partial(slow_render, marker=marker, frames=100)
    render = asyncio.create_task(single_worker.render(slow, _job(tmp_path, voice), on_progress))
    await reached.wait()
    render.cancel()
    with pytest.raises(asyncio.CancelledError):
        await render
    await single_worker.render(quick_render, _job(tmp_path, voice, "next.mp4"), _ignore)
    assert 10 <= int(marker.read_text()) < 100
    assert not (tmp_path / "out.mp4").exists()


async def test_renderer_errors_pass_through(render_pool: RenderPool, tmp_path: Path, voice: Path) -> None:
    with pytest.raises(ValueError, match="The sound could not be decoded"):
        await render_pool.render(failing_render, _job(tmp_path, voice), _ignore)


async def test_a_dead_worker_is_reported_and_replaced(
    single_worker: RenderPool, tmp_path: Path, voice: Path
) -> None:
    with pytest.raises(RenderCrashed, match="stopped unexpectedly"):
        await single_worker.render(crashing_render, _job(tmp_path, voice), _ignore)
    report = await single_worker.render(quick_render, _job(tmp_path, voice), _ignore)
    assert report.frames == 5


async def test_engine_fails_the_prediction_when_the_worker_dies(
    engine_factory: EngineFactory, api: Api, voice: Path, single_worker: RenderPool
) -> None:
    engine = await engine_factory(renderer=crashing_render, render_pool=single_worker)
    client = api(engine)
    created = await create(client, await wan_input(client, voice))
    await record(engine, created["id"]).settled.wait()
    prediction = record(engine, created["id"])
    assert prediction.status is RecordStatus.FAILED
    assert (
        prediction.error
        == "The video could not be rendered: The render worker stopped unexpectedly; try again."
    )


async def test_closing_the_engine_stops_a_running_render(
    engine_factory: EngineFactory, api: Api, voice: Path, tmp_path: Path
) -> None:
    marker = tmp_path / "frames-drawn"
    slow = functools.partial(slow_render, marker=marker)
    engine = await engine_factory(renderer=slow, render_workers=1, render_pool=None)  # owns its pool
    client = api(engine)
    created = await create(client, await wan_input(client, voice))
    await reach(engine, created["id"], lambda r: "10/100 [" in r.logs)
    await engine.aclose()  # stops the worker within a frame, then returns
    assert int(marker.read_text()) < 100
