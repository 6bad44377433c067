"""Output URLs the engine serves: public, and gone after `output_ttl_s` like Replicate's."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta
from pathlib import Path

import httpx

from demo_app.engine import Engine, RecordStatus
from demo_app.engine._routes import GET_OUTPUT
from tests.conftest import EngineFactory
from tests.engine.fakes import ManualClock, quick_render
from tests.engine.helpers import create, record, settled, wan_input

Api = Callable[..., httpx.AsyncClient]


async def test_output_expires_and_the_prediction_loses_it(
    engine_factory: EngineFactory, api: Api, voice: Path, manual_clock: ManualClock
) -> None:
    engine = await engine_factory(clock=manual_clock, output_ttl_s=3600, renderer=quick_render)
    client = api(engine)
    created = await create(client, await wan_input(client, voice))
    await manual_clock.sleeping_until(datetime.fromisoformat(created["created_at"]) + timedelta(seconds=0.5))
    manual_clock.advance(0.5)
    body = await settled(engine, client, created["id"])
    url = body["output"]

    async with httpx.AsyncClient(transport=engine.transport(), base_url=Engine.base_url) as anonymous:
        live = await anonymous.get(url)  # no token needed, as with replicate.delivery
        assert live.status_code == 200 and live.content.startswith(b"\x00\x00\x00\x18ftyp")
        manual_clock.advance(3599)
        assert (await anonymous.get(url)).status_code == 200
        assert (await client.get(f"/v1/predictions/{created['id']}")).json()["output"] == url
        manual_clock.advance(1)
        gone = await anonymous.get(url)
    assert gone.status_code == 410
    assert gone.headers["content-type"] == "application/problem+json" and "expired" in gone.json()["detail"]
    after = (await client.get(f"/v1/predictions/{created['id']}")).json()
    assert (after["status"], after["output"], after["data_removed"]) == ("succeeded", None, True)
    assert list((engine.runtime.run_dir / "outputs").glob("*/output.mp4")) == []
    assert engine.requests[GET_OUTPUT] == 3


async def test_janitor_deletes_expired_outputs_without_a_request(
    engine_factory: EngineFactory, api: Api, voice: Path
) -> None:
    engine = await engine_factory(time_scale=1000.0, output_ttl_s=2.0, renderer=quick_render)
    client = api(engine)
    created = await create(client, await wan_input(client, voice))
    kept = record(engine, created["id"])  # forgotten a lifetime after it ends (a few ms here): no GET
    await kept.settled.wait()
    await kept.wait_until(lambda r: r.data_removed)
    assert kept.status is RecordStatus.SUCCEEDED
    assert list((engine.runtime.run_dir / "outputs").glob("*/output.mp4")) == []


async def test_unknown_output_is_404(engine_factory: EngineFactory, api: Api) -> None:
    response = await api(await engine_factory()).get("/delivery/nothing/output.mp4")
    assert response.status_code == 404


async def test_finished_predictions_are_forgotten_so_memory_stays_bounded(
    engine_factory: EngineFactory, api: Api, voice: Path, manual_clock: ManualClock
) -> None:
    """A success answers with its output for a lifetime, with `data_removed` for one more, then 404."""
    engine = await engine_factory(clock=manual_clock, output_ttl_s=600, renderer=quick_render)
    client = api(engine)
    created = await create(client, await wan_input(client, voice))
    await manual_clock.sleeping_until(datetime.fromisoformat(created["created_at"]) + timedelta(seconds=0.5))
    manual_clock.advance(0.5)
    url = (await settled(engine, client, created["id"]))["output"]
    path = f"/v1/predictions/{created['id']}"

    manual_clock.advance(600)
    after_expiry = (await client.get(path)).json()
    assert (after_expiry["status"], after_expiry["data_removed"]) == ("succeeded", True)
    assert (await client.get(url)).status_code == 410
    manual_clock.advance(600)
    assert (await client.get(path)).status_code == 404
    assert (await client.get("/v1/predictions")).json()["results"] == []
    assert (await client.get(url)).status_code == 404, "the expired output's token is forgotten too"
    assert engine.runtime.predictions == {} and len(engine.runtime.outputs) == 0


async def test_a_canceled_prediction_and_its_input_are_forgotten_one_lifetime_after_it_ended(
    engine_factory: EngineFactory, api: Api, manual_clock: ManualClock
) -> None:
    engine = await engine_factory(clock=manual_clock, output_ttl_s=600)
    client = api(engine)
    audio = "data:audio/wav;base64," + "A" * 200_000  # an inline input the record keeps in memory
    created = await create(
        client, {"prompt": "A person talking.", "image": "data:image/png;base64,AAAA", "audio": audio}
    )
    path = f"/v1/predictions/{created['id']}"
    assert (await client.post(f"{path}/cancel")).json()["status"] == "canceled"
    manual_clock.advance(599)
    assert (await client.get(path)).json()["input"]["audio"] == audio
    manual_clock.advance(1)
    assert (await client.get(path)).status_code == 404
    assert engine.runtime.predictions == {}
