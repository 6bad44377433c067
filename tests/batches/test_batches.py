"""Batches over the real job stack: checked whole before any hold, items run within the owner's
limit, fail and refund one by one, cancel, and one zip of videos with their manifests."""

from __future__ import annotations

import json
import zipfile
from pathlib import Path

import av
import pytest

from demo_app.batches import BatchRefused, BatchView, Pair
from demo_app.engine import Engine, RenderPool
from demo_app.engine._scenarios import FailNth
from demo_app.jobs import JobStatus
from demo_app.media import MediaWorkers
from demo_app.services import LocalEngine, Services, open_services
from demo_app.settings import Settings
from tests.batches.conftest import OWNER, TOKEN, ServicesFactory

MODEL = "wan-video/wan-2.2-s2v"
RUNNING = {"queued", "uploading", "starting", "processing", "downloading"}


def pairs(face: Path, clips: list[Path]) -> list[Pair]:
    return [Pair(str(face), str(clip), clip.name) for clip in clips]


async def follow(services: Services, view: BatchView) -> list[BatchView]:
    assert services.batches is not None
    return [seen async for seen in services.batches.watch(OWNER, view.batch_id)]


@pytest.mark.slow
async def test_a_valid_batch_runs_every_item_within_the_owner_limit_and_zips_them(
    open_app_services: ServicesFactory, face: Path, clips: list[Path]
) -> None:
    services = await open_app_services(max_jobs_per_owner=2)
    assert services.batches is not None
    first = await services.batches.start(OWNER, pairs(face, clips), MODEL, {})
    assert [item.status for item in first.items][1:] == ["waiting", "waiting"]
    seen = await follow(services, first)
    assert max(sum(item.status in RUNNING for item in view.items) for view in seen) == 2
    final = seen[-1]
    assert final.finished and [item.status for item in final.items] == ["succeeded"] * 3
    charged = [item.charged or 0 for item in final.items]
    assert all(charged) and (await services.ledger.balance(OWNER)).balance == 1000 - sum(charged)

    archive = await services.batches.results(OWNER, final.batch_id)
    assert archive is not None
    with zipfile.ZipFile(archive) as zipped:
        assert sorted(zipped.namelist()) == [f"item-0{n}.{ext}" for n in (1, 2, 3) for ext in ("json", "mp4")]
        for item in final.items:
            manifest = json.loads(zipped.read(f"item-0{item.number}.json"))
            assert manifest["job_id"] == item.job_id and manifest["clip"] == item.clip
            assert manifest["credits"]["charged"] == item.charged and manifest["model"]["id"] == MODEL
            video = archive.parent / f"check-{item.number}.mp4"
            video.write_bytes(zipped.read(f"item-0{item.number}.mp4"))
            with av.open(str(video)) as container:
                assert container.streams.video and container.duration is not None


async def test_one_bad_item_refuses_the_batch_before_anything_is_held(
    open_app_services: ServicesFactory, face: Path, clips: list[Path], tmp_path: Path
) -> None:
    services = await open_app_services()
    assert services.batches is not None
    bad = tmp_path / "not-audio.wav"
    bad.write_bytes(b"RIFF" + b"\x00" * 400)
    before = await services.ledger.statement(OWNER)
    with pytest.raises(BatchRefused, match=r"^Item 3 \(not-audio\.wav\): ") as refused:
        await services.batches.start(OWNER, pairs(face, [*clips[:2], bad]), MODEL, {})
    assert "." in str(refused.value)[len("Item 3 (not-audio.wav): ") :]
    assert await services.ledger.statement(OWNER) == before
    assert services.jobs.history(OWNER) == [] and await services.batches.latest(OWNER) is None


@pytest.mark.slow
async def test_a_failed_item_is_refunded_and_the_others_are_charged(
    open_app_services: ServicesFactory, face: Path, clips: list[Path]
) -> None:
    services = await open_app_services(FailNth(2))
    assert services.batches is not None
    final = (await follow(services, await services.batches.start(OWNER, pairs(face, clips), MODEL, {})))[-1]
    assert [item.status for item in final.items] == ["succeeded", "failed", "succeeded"]
    failed = final.items[1]
    assert failed.error and failed.held > 0 and failed.charged in (0, None) and failed.returned == failed.held
    statement = await services.ledger.statement(OWNER)
    assert [line.kind for line in statement if line.ref == failed.job_id] == ["hold", "release"]
    paid = final.items[0].charged or 0, final.items[2].charged or 0
    assert all(paid) and (await services.ledger.balance(OWNER)).balance == 1000 - sum(paid)
    archive = await services.batches.results(OWNER, final.batch_id)
    assert archive is not None
    with zipfile.ZipFile(archive) as zipped:
        assert sorted(zipped.namelist()) == ["item-01.json", "item-01.mp4", "item-03.json", "item-03.mp4"]


async def test_cancel_stops_the_running_item_and_drops_the_rest_unheld(
    open_app_services: ServicesFactory, face: Path, clips: list[Path]
) -> None:
    services = await open_app_services("stall")
    assert services.batches is not None
    first = await services.batches.start(OWNER, pairs(face, clips), MODEL, {})
    async for view in services.batches.watch(OWNER, first.batch_id):
        if view.items[0].status == JobStatus.PROCESSING.value:
            break
    canceled = await services.batches.cancel(OWNER, first.batch_id)
    assert [item.status for item in canceled.items] == ["canceled", "dropped", "dropped"]
    assert canceled.items[1].job_id is None and canceled.items[2].job_id is None
    final = (await follow(services, first))[-1]
    assert final.finished and final.canceled
    assert await services.ledger.open_holds(OWNER) == []
    held_for = {line.ref for line in await services.ledger.statement(OWNER) if line.kind == "hold"}
    assert held_for == {canceled.items[0].job_id}
    assert await services.batches.results(OWNER, first.batch_id) is None


@pytest.mark.slow
async def test_a_restart_carries_the_batch_on_started_and_unstarted_items_alike(
    tmp_path: Path, render_pool: RenderPool, media_workers: MediaWorkers, face: Path, clips: list[Path]
) -> None:
    engine = Engine(token=TOKEN, data_dir=tmp_path / "engine", time_scale=20.0, render_pool=render_pool)
    await engine.start()
    settings = Settings(
        _env_file=None,
        data_dir=tmp_path / "data",
        poll_interval_s=0.05,
        starting_grant=1000,
        max_jobs_per_owner=1,
    )
    try:
        async with open_services(
            settings, engine=LocalEngine(engine, TOKEN), media_workers=media_workers
        ) as before:
            assert before.batches is not None
            await before.ledger.open_account(OWNER)
            first = await before.batches.start(OWNER, pairs(face, clips[:2]), MODEL, {})
            async for view in before.batches.watch(OWNER, first.batch_id):
                if view.items[0].status == JobStatus.PROCESSING.value:
                    break
        assert [item.status for item in view.items] == ["processing", "waiting"]
        async with open_services(
            settings, engine=LocalEngine(engine, TOKEN), media_workers=media_workers
        ) as after:
            final = (await follow(after, first))[-1]
            assert [item.status for item in final.items] == ["succeeded", "succeeded"]
            assert final.items[0].job_id == view.items[0].job_id
            assert await after.ledger.open_holds(OWNER) == []
    finally:
        await engine.aclose()
