"""The "Several clips" tab in a real Chromium: anonymous visitors are asked to sign in; a visitor
signed in with Hugging Face (Gradio's mocked OAuth) runs one face with two clips, watches the
table update, and downloads the zip. Screenshots at 1280 px and 390 px."""

from __future__ import annotations

import re
import time
import wave
import zipfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import gradio.oauth
import pytest
from playwright.sync_api import Browser, expect

from tests.ui.conftest import ASSETS, AppFactory, RunningApp, artifact

pytestmark = [pytest.mark.slow, pytest.mark.browser]
expect.set_options(timeout=30_000)

USER = "batch-researcher"


def mocked_profile() -> dict[str, Any]:
    """What Gradio's mocked OAuth puts in the session (it would ask the Hub who is logged in)."""
    return {
        "access_token": "mock-oauth-token-for-local-dev",
        "token_type": "bearer",
        "expires_in": 3600,
        "scope": "openid profile",
        "expires_at": int(time.time()) + 3600,
        "userinfo": {
            "sub": "11111111111111111111111",
            "name": "Batch Researcher",
            "preferred_username": USER,
            "profile": f"https://huggingface.co/{USER}",
            "picture": "",
            "website": "",
        },
    }


@pytest.fixture(scope="module")
def app(start_app: AppFactory) -> Iterator[RunningApp]:
    """On a Space's settings, so the page has Sign in with Hugging Face; one job at a time per owner."""
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(gradio.oauth, "_get_mocked_oauth_info", mocked_profile)
        yield start_app(space_id="studio/lipsync", max_jobs_per_owner=1)


@pytest.fixture(scope="module")
def clips(tmp_path_factory: pytest.TempPathFactory) -> list[Path]:
    folder = tmp_path_factory.mktemp("clips")
    made = []
    for number in (1, 2):
        out = folder / f"line {number}.wav"
        with wave.open(str(ASSETS / "sample-voice.wav")) as src, wave.open(str(out), "wb") as dst:
            dst.setparams(src.getparams())
            dst.writeframes(src.readframes(src.getframerate()))
        made.append(out)
    return made


def test_signed_in_visitors_run_several_clips_and_download_one_zip(
    app: RunningApp, chromium: Browser, face: Path, clips: list[Path], tmp_path: Path
) -> None:
    desktop = chromium.new_context(viewport={"width": 1280, "height": 1000}, accept_downloads=True)
    page = desktop.new_page()
    page.set_default_timeout(60_000)
    page.goto(app.url)
    page.get_by_role("tab", name="Several clips").click()
    expect(page.locator("#batch-sign-in")).to_contain_text("Sign in with Hugging Face")
    expect(page.locator("#batch-form")).to_be_hidden()

    page.goto(app.url + "login/huggingface")
    page.get_by_role("tab", name="Several clips").click()
    expect(page.locator("#batch-form")).to_be_visible()
    expect(page.locator("#batch-sign-in")).to_be_hidden()
    page.locator("#batch-face input[type=file]").set_input_files(face)
    page.locator("#batch-clips input[type=file]").set_input_files(clips)
    expect(page.locator("#batch-clips")).to_contain_text(re.compile(r"line 2\s*\.wav"))
    page.locator("#batch-start").click()
    table = page.locator("#batch-items")
    expect(table).to_contain_text("line 2.wav")
    expect(page.locator("#batch-cancel")).to_be_visible()
    expect(table).to_contain_text("waiting")
    expect(page.locator("#batch-status")).to_contain_text("Finished: 2 of 2 clips succeeded", timeout=120_000)
    expect(table).not_to_contain_text("waiting")
    expect(page.locator("#batch-cancel")).to_be_hidden()
    page.screenshot(path=artifact("batch-desktop-1280"), full_page=True)

    with page.expect_download() as download:
        page.locator("#batch-download").click()
    saved = tmp_path / "results.zip"
    download.value.save_as(saved)
    with zipfile.ZipFile(saved) as zipped:
        assert sorted(zipped.namelist()) == ["item-01.json", "item-01.mp4", "item-02.json", "item-02.mp4"]

    phone = chromium.new_context(
        viewport={"width": 390, "height": 844}, storage_state=desktop.storage_state()
    )
    small = phone.new_page()
    small.set_default_timeout(60_000)
    small.goto(app.url)
    small.get_by_role("tab", name="Several clips").click()
    expect(small.locator("#batch-status")).to_contain_text("Finished: 2 of 2 clips succeeded")
    small.screenshot(path=artifact("batch-phone-390"), full_page=True)
    phone.close()
    desktop.close()
