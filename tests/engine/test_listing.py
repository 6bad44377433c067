"""`GET /v1/predictions`: newest first, full-URL `next`/`previous`, date filters."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any
from urllib.parse import parse_qs, urlsplit

import httpx

from demo_app.engine import Engine
from demo_app.engine._routes import LIST_PREDICTIONS
from tests.conftest import EngineFactory
from tests.engine.fakes import ManualClock
from tests.engine.helpers import create

Api = Callable[..., httpx.AsyncClient]
DATA = "data:image/png;base64,AAAA"


async def _make(client: httpx.AsyncClient, clock: ManualClock, count: int) -> list[dict[str, Any]]:
    """`count` predictions one minute apart, oldest first."""
    made = []
    for index in range(count):
        made.append(await create(client, {"image": DATA, "audio": DATA, "prompt": f"take {index}"}))
        clock.advance(60)
    return made


async def _page(client: httpx.AsyncClient, url: str) -> dict[str, Any]:
    response = await client.get(url)
    assert response.status_code == 200
    body: dict[str, Any] = response.json()
    return body


async def test_pages_run_newest_first_and_back(
    engine_factory: EngineFactory, api: Api, manual_clock: ManualClock
) -> None:
    engine = await engine_factory("stall", clock=manual_clock, page_size=2)
    client = api(engine)
    made = [p["id"] for p in await _make(client, manual_clock, 5)]

    pages, url = [], f"{Engine.base_url}/v1/predictions"
    while url:
        page = await _page(client, url)
        pages.append(page)
        url = page["next"]
    assert [[p["id"] for p in page["results"]] for page in pages] == [made[4:2:-1], made[2:0:-1], made[:1]]
    assert pages[0]["previous"] is None
    assert all(page["next"].startswith(f"{Engine.base_url}/v1/predictions?cursor=") for page in pages[:2])

    back = await _page(client, pages[2]["previous"])
    assert [p["id"] for p in back["results"]] == made[2:0:-1]
    first = await _page(client, back["previous"])
    assert [p["id"] for p in first["results"]] == made[4:2:-1] and first["previous"] is None
    assert engine.requests[LIST_PREDICTIONS] == 5


async def test_a_new_prediction_does_not_shift_the_next_page(
    engine_factory: EngineFactory, api: Api, manual_clock: ManualClock
) -> None:
    engine = await engine_factory("stall", clock=manual_clock, page_size=2)
    client = api(engine)
    made = [p["id"] for p in await _make(client, manual_clock, 4)]
    first = await _page(client, "/v1/predictions")
    await _make(client, manual_clock, 1)
    second = await _page(client, first["next"])
    assert [p["id"] for p in second["results"]] == [made[1], made[0]] and second["next"] is None


async def test_results_carry_the_input_as_sent(
    engine_factory: EngineFactory, api: Api, manual_clock: ManualClock
) -> None:
    engine = await engine_factory("stall", clock=manual_clock)
    client = api(engine)
    made = await _make(client, manual_clock, 2)
    listed = (await _page(client, "/v1/predictions"))["results"]
    assert [p["input"] for p in listed] == [made[1]["input"], made[0]["input"]]
    assert listed[0]["input"]["prompt"] == "take 1"


async def test_created_after_and_before_filter_and_stay_in_links(
    engine_factory: EngineFactory, api: Api, manual_clock: ManualClock
) -> None:
    engine = await engine_factory("stall", clock=manual_clock, page_size=1)
    client = api(engine)
    made = await _make(client, manual_clock, 4)
    after = datetime.fromisoformat(made[1]["created_at"])
    before = datetime.fromisoformat(made[3]["created_at"])
    params = {"created_after": after.isoformat(), "created_before": before.isoformat()}

    page = (await client.get("/v1/predictions", params=params)).json()
    assert [p["id"] for p in page["results"]] == [made[2]["id"]]
    query = parse_qs(urlsplit(page["next"]).query)
    assert query["created_after"] == [params["created_after"]] and query["created_before"] == [
        params["created_before"]
    ]
    last = await _page(client, page["next"])
    assert [p["id"] for p in last["results"]] == [made[1]["id"]] and last["next"] is None

    later = {"created_after": (before + timedelta(seconds=1)).isoformat().replace("+00:00", "Z")}
    assert (await client.get("/v1/predictions", params=later)).json()["results"] == []


async def test_bad_cursor_and_dates_are_refused(engine_factory: EngineFactory, api: Api) -> None:
    client = api(await engine_factory())
    for params in (
        {"cursor": "garbage!"},
        {"created_after": "yesterday"},
        {"created_before": "2025-01-01T00:00:00"},
    ):
        response = await client.get("/v1/predictions", params=params)
        assert response.status_code == 422, params
        assert response.headers["content-type"] == "application/problem+json"
