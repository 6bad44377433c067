"""Two replicas on one PostgreSQL behind HAProxy (deploy/haproxy.cfg), through its front door: each
visitor stays on one replica, visitors spread over both, every job settles exactly once, and each
visitor's statement is the one a single app on TinyDB writes for the same history."""

from __future__ import annotations

import asyncio
import json
import uuid
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import httpx
import pytest
from gradio_client import Client, handle_file
from playwright.sync_api import Page

from bench._queue import FACE, fn_index
from demo_app.visitors import KeyRing
from tests.postgres import Cluster
from tests.replicas.harness import REPLICAS, Deployment, Engine, comparable, deployment, engine, single_app
from tests.ui.conftest import chromium, new_page
from tests.ui.studio import Studio

__all__ = ["chromium", "new_page"]  # the browser fixtures of tests/ui, used last in this module

pytestmark = [pytest.mark.slow, pytest.mark.timeout(600)]

VISITORS = ("browser:ada", "browser:bo")
JOBS_EACH = 2
SETTINGS = {"LIPSYNC_STARTING_GRANT": "2000", "LIPSYNC_GRANTS_PER_ADDRESS_PER_DAY": "100"}


@pytest.fixture(scope="module")
def work(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("replicas")


@pytest.fixture(scope="module")
def shared_engine(work: Path) -> Iterator[Engine]:
    with engine(work) as running:
        yield running


@pytest.fixture(scope="module")
def lb(work: Path, shared_engine: Engine, postgres: Cluster) -> Iterator[Deployment]:
    url = postgres.new_database()
    with deployment(work, shared_engine, url, SETTINGS) as running:
        yield running


@pytest.fixture(scope="module")
def voice(work: Path, shared_engine: Engine) -> Path:
    """Two seconds of the sample voice (the ready clip's length)."""
    return work / "ready-clip-voice.wav"


def visit(url: str, key: str, voice: Path) -> tuple[str, dict[str, Any]]:
    """One visitor's history: JOBS_EACH jobs one after another, then /credits; the replica that
    served them (its SERVERID cookie) and the credits."""
    client = Client(url, verbose=False)
    try:
        for _ in range(JOBS_EACH):
            final = client.predict(
                key,
                handle_file(FACE),
                handle_file(voice),
                "wan-video/wan-2.2-s2v",
                "{}",
                api_name="/generate",
            )
            assert final["status"] == "succeeded", final
        credits: dict[str, Any] = client.predict(key, api_name="/credits")
        return client.cookies.get("SERVERID", ""), credits
    finally:
        client.close()


def history(url: str, secret: str, voice: Path) -> list[tuple[str, dict[str, Any]]]:
    """Both visitors at once, each with its own gradio_client."""
    keys = KeyRing(secret.encode())
    with ThreadPoolExecutor(len(VISITORS)) as pool:
        return list(pool.map(lambda owner: visit(url, keys.key_for(owner), voice), VISITORS))


def test_jobs_through_the_balancer_spread_over_both_replicas_and_match_tinydb(
    lb: Deployment, shared_engine: Engine, work: Path, voice: Path
) -> None:
    replicated = history(lb.url, lb.api_key_secret, voice)
    assert sorted(server for server, _ in replicated) == sorted(REPLICAS)
    for _, credits in replicated:
        assert credits["open_holds"] == [] and credits["held"] == 0
        settled = [line for line in credits["statement"] if line["kind"] in ("capture", "release")]
        holds = [line for line in credits["statement"] if line["kind"] == "hold"]
        assert len(holds) == JOBS_EACH
        assert sorted(line["job_id"] for line in settled) == sorted(line["job_id"] for line in holds)

    env = {**SETTINGS, "LIPSYNC_API_KEY_SECRET": lb.api_key_secret}
    with single_app(work, shared_engine, env) as url:
        alone = history(url, lb.api_key_secret, voice)
    assert [comparable(c) for _, c in replicated] == [comparable(c) for _, c in alone]


def test_a_client_that_drops_cookies_still_streams_from_the_replica_it_joined(lb: Deployment) -> None:
    """Join and stream without the cookie, several times so round robin would split them."""
    key = KeyRing(lb.api_key_secret.encode()).key_for("browser:cookieless")

    async def once() -> dict[str, Any]:
        async with httpx.AsyncClient(base_url=lb.url, timeout=60) as http:
            fn = await fn_index(http, "credits")
            http.cookies.clear()
            session = uuid.uuid4().hex
            body = {"data": [key], "fn_index": fn, "session_hash": session}
            (await http.post("gradio_api/queue/join", json=body)).raise_for_status()
            http.cookies.clear()
            async with http.stream(
                "GET", "gradio_api/queue/data", params={"session_hash": session}
            ) as events:
                async for line in events.aiter_lines():
                    message = json.loads(line[5:]) if line.startswith("data:") else {}
                    if message.get("msg") == "process_completed":
                        assert message["success"], message
                        result: dict[str, Any] = message["output"]["data"][0]
                        return result
        raise AssertionError("the stream ended without the event's answer")

    for _ in range(4):
        assert asyncio.run(once())["owner"] == "browser:cookieless"


def test_pages_through_the_balancer_run_jobs_on_both_replicas(
    lb: Deployment, new_page: Callable[[], Page], voice: Path
) -> None:
    """Last in this module: Playwright's sync API holds the thread's event loop while it is open."""
    studios = [Studio(new_page(), lb.url).open() for _ in REPLICAS]
    servers = {
        cookie["value"]
        for studio in studios
        for cookie in studio.page.context.cookies()
        if cookie["name"] == "SERVERID"
    }
    assert servers == set(REPLICAS)
    for studio in studios:
        studio.give(face=FACE, voice=voice)
        studio.wait_ready()
        studio.generate()
    for studio in studios:
        assert studio.wait_status("succeeded") == "succeeded"
        studio.wait_balance(held=0)
        client = Client(lb.url, verbose=False)
        try:
            credits = client.predict(studio.api_key(), api_name="/credits")
        finally:
            client.close()
        kinds = [line["kind"] for line in credits["statement"]]
        assert kinds.count("hold") == kinds.count("capture") == 1, credits
        assert studio.balance() == {k: credits[k] for k in ("balance", "held", "available")}
