"""A finished job's manifest and share link, in Chromium against the launched app.

The owner runs a job, downloads its manifest from History and reads it from the API (the input
hashes are the files' own), shares the video, and a fresh browser context with no storage
opens the link: the video plays from the share route, nobody gets an account. Stop sharing
makes the page and the video answer "no longer shared".
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from gradio_client import Client
from gradio_client.exceptions import AppError
from playwright.sync_api import Browser, Page, expect

from demo_app.shares import NOT_SHARED
from tests.ui.conftest import AppFactory, RunningApp, artifact
from tests.ui.studio import Studio

pytestmark = [pytest.mark.slow, pytest.mark.browser]

PHONE = {"width": 390, "height": 844}
DESKTOP = {"width": 1280, "height": 900}
OWNER_IN_LEDGER = re.compile(r'"owner":\s*"([^"]+)"')


@pytest.fixture(autouse=True)
def patient_expect() -> Iterator[None]:
    """Assertions wait as long as the page's own waits: the machine may be busy."""
    expect.set_options(timeout=30_000)
    yield
    expect.set_options(timeout=5_000)


@pytest.fixture(scope="module")
def app(start_app: AppFactory) -> RunningApp:
    return start_app()


def sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def ledger_owners(app: RunningApp) -> set[str]:
    """Every owner the ledger's files name (the book and its journal)."""
    files = [p for p in app.settings.data_dir.iterdir() if p.name.startswith("ledger") and p.is_file()]
    return {owner for p in files for owner in OWNER_IN_LEDGER.findall(p.read_text(encoding="utf-8"))}


def assert_hashes(manifest: dict[str, Any], face: Path, voice: Path) -> None:
    inputs = manifest["inputs"]
    assert inputs["image"]["uploaded"]["sha256"] == sha256(face)
    assert inputs["image"]["uploaded"]["bytes"] == face.stat().st_size
    assert inputs["audio"]["uploaded"]["sha256"] == sha256(voice)
    assert inputs["audio"]["uploaded"]["bytes"] == voice.stat().st_size
    assert inputs["audio"]["sent"]["duration_s"] == pytest.approx(3.0, abs=0.05)
    assert re.fullmatch(r"[0-9a-f]{64}", inputs["image"]["sent"]["sha256"])
    assert inputs["image"]["sent"]["width"] > 0


def test_share_link_and_manifest(
    app: RunningApp,
    chromium: Browser,
    new_page: Callable[[], Page],
    connect: Callable[[RunningApp], Client],
    face: Path,
    short_voice: Path,
) -> None:
    studio = Studio(new_page(), app.url).open()
    studio.give(face, short_voice)
    studio.wait_ready()
    job_id = studio.generate()
    assert studio.wait_status("succeeded", "failed", timeout_s=120) == "succeeded"

    # The manifest, downloaded from History: its hashes are those of the files uploaded.
    studio.tab("History")
    page = studio.page
    page.locator("#history").get_by_role("gridcell", name=job_id).click()
    manifest_button = page.locator("#history-manifest")
    expect(manifest_button).to_be_visible()
    with page.expect_download() as download:
        manifest_button.click()
    assert download.value.suggested_filename == f"manifest-{job_id}.json"
    downloaded = json.loads(Path(download.value.path()).read_text(encoding="utf-8"))
    assert downloaded["job_id"] == job_id and downloaded["status"] == "succeeded"
    assert_hashes(downloaded, face, short_voice)
    assert downloaded["model"]["version"] and downloaded["prediction_id"]
    assert downloaded["credits"]["charged"] > 0
    assert downloaded["times"]["finished"] and downloaded["app"]["version"]

    # The same manifest from the API, with the owner's key.
    api = connect(app)
    key = studio.api_key()
    assert api.predict(key, job_id, api_name="/manifest") == downloaded
    stranger_key = app.api_key("browser:someone-else")
    for endpoint in ("/manifest", "/share", "/unshare"):
        with pytest.raises(AppError, match="No such job"):
            api.predict(stranger_key, job_id, api_name=endpoint)

    # Share: the link appears; screenshots of History with it, desktop and phone.
    studio.tab("History")
    page.locator("#history-share").click()
    link_box = page.locator("#history-share-link textarea, #history-share-link input").first
    expect(link_box).to_have_value(re.compile(r"^http://127\.0\.0\.1:\d+/share/[A-Za-z0-9_-]{32}$"))
    link = link_box.input_value()
    expect(page.locator("#history-unshare")).to_be_visible()
    page.screenshot(path=artifact("share-history-desktop"), full_page=True)
    page.set_viewport_size(PHONE)
    page.screenshot(path=artifact("share-history-phone"), full_page=True)
    page.set_viewport_size(DESKTOP)

    # A stranger: a fresh context with no storage opens the link; nobody gets an account.
    owners = ledger_owners(app)
    stranger = chromium.new_context(viewport=DESKTOP)
    try:
        view = stranger.new_page()
        answer = view.goto(link)
        assert answer is not None and answer.status == 200
        html = view.content()
        assert "gradio" not in html.lower() and "/file=" not in html
        expect(view.locator("#model")).to_have_text("Wan 2.2 S2V")
        view.wait_for_function("() => document.querySelector('#video').readyState >= 1")
        assert view.evaluate("() => document.querySelector('#video').duration") > 2
        ranged = stranger.request.get(link + "/video.mp4", headers={"Range": "bytes=0-99"})
        assert ranged.status == 206 and ranged.body()[4:8] == b"ftyp"
        shared_manifest = stranger.request.get(link + "/manifest.json").json()
        assert "credits" not in shared_manifest
        assert_hashes(shared_manifest, face, short_voice)
        view.screenshot(path=artifact("share-view-desktop"), full_page=True)
        view.set_viewport_size(PHONE)
        view.screenshot(path=artifact("share-view-phone"), full_page=True)
        assert ledger_owners(app) == owners

        # Stop sharing: the page and the video stop at once; a made-up token answers alike.
        page.locator("#history-unshare").click()
        expect(page.locator("#history-share")).to_be_visible()
        expect(page.locator("#history-share-link")).to_be_hidden()
        gone = view.goto(link)
        assert gone is not None and gone.status == 404
        expect(view.locator("h1")).to_have_text(NOT_SHARED)
        assert stranger.request.get(link + "/video.mp4").status == 404
        assert stranger.request.get(link + "/manifest.json").status == 404
        guessed = stranger.request.get(re.sub(r"[^/]{32}$", "A" * 32, link))
        assert guessed.status == 404 and NOT_SHARED in guessed.text()
    finally:
        stranger.close()
