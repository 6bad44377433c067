"""The launched app serves its webhook route beside the page: the built-in engine pushes a job's
changes to it over loopback, so a job ends by push while polling is slowed to a safety net."""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path

import httpx
import pytest
from gradio_client import Client, handle_file

from demo_app.services import webhook_links
from tests.ui.conftest import AppFactory, RunningApp, free_port

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def pushed_app(start_app: AppFactory) -> RunningApp:
    port = free_port()
    # Reads every 30 s at most: a job that ends in a few seconds ended by push.
    return start_app(
        server_port=port,
        public_url=f"http://127.0.0.1:{port}",
        poll_interval_s=30.0,
        webhook_safety_poll_s=600.0,
    )


def test_a_job_ends_by_push_through_the_launched_app(
    pushed_app: RunningApp, connect: Callable[[RunningApp], Client], face: Path, short_voice: Path
) -> None:
    client = connect(pushed_app)
    key = pushed_app.api_key("browser:pushed")
    began = time.monotonic()
    job = client.submit(
        key, handle_file(face), handle_file(short_voice), "wan-video/wan-2.2-s2v", "{}", api_name="/generate"
    )
    snapshots = list(job)
    assert snapshots[-1]["status"] == "succeeded"
    assert "processing" in [snap["status"] for snap in snapshots]
    assert time.monotonic() - began < 25.0


def test_the_route_refuses_what_it_did_not_issue_and_anything_but_post(pushed_app: RunningApp) -> None:
    links = webhook_links(pushed_app.settings)
    assert links is not None
    url = links.url_for("some-job")
    headers = {
        "webhook-id": "msg_1",
        "webhook-timestamp": str(int(time.time())),
        "webhook-signature": "v1,AAAA",
    }
    with httpx.Client(timeout=10) as http:
        assert http.post(url, content=b"{}", headers=headers).status_code == 401
        assert http.post(url.rsplit("/", 1)[0] + "/forged", content=b"{}").status_code == 403
        assert http.get(url).status_code == 405
        assert http.get(pushed_app.url).status_code == 200
