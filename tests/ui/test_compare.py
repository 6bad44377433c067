"""A comparison in a real Chromium against the launched app (built-in engine): two models on the same
face and voice, both results side by side and played together, each charged, one History entry."""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path

import pytest
from gradio_client import Client
from playwright.sync_api import Page, expect

from tests.ui.conftest import AppFactory, RunningApp, artifact
from tests.ui.studio import Studio

pytestmark = [pytest.mark.slow, pytest.mark.browser]

PVIDEO = ("prunaai/p-video-avatar", "P-Video Avatar")
FABRIC = ("veed/fabric-1.0", "Fabric 1.0")
PLAYING_JS = """
(selector) => {
  const videos = [...document.querySelectorAll(selector)];
  return videos.length === 2 && videos.every((v) => !v.paused && v.currentTime > 0.2);
}
"""


@pytest.fixture(scope="module")
def app(start_app: AppFactory) -> RunningApp:
    # A slower engine clock: two renders at once on a busy machine stay well within their deadlines.
    return start_app(engine_time_scale=4.0)


def test_a_comparison_runs_both_models_plays_them_together_and_charges_each(
    app: RunningApp,
    new_page: Callable[[], Page],
    connect: Callable[[RunningApp], Client],
    face: Path,
    short_voice: Path,
) -> None:
    studio = Studio(new_page(), app.url).open()
    page = studio.page
    studio.tab("Compare")
    page.locator("#compare-face input[type=file]").set_input_files(face)
    page.locator("#compare-voice input[type=file]").set_input_files(short_voice)
    # The estimate of both uploads first, so no older estimate is still on its way.
    expect(page.locator("#compare-estimate")).to_contain_text("for 3.0 s of audio", timeout=30_000)
    models = page.locator("#compare-models")
    for label in models.locator("label").all():
        if label.locator("input").is_checked():
            label.click()
    expect(page.locator("#compare-estimate")).to_contain_text("Choose 2 or 3 models", timeout=30_000)
    models.get_by_text(PVIDEO[1], exact=True).click()
    models.get_by_text(FABRIC[1], exact=True).click()
    expect(page.locator("#compare-estimate")).to_contain_text(
        "for 3.0 s of audio (P-Video Avatar", timeout=30_000
    )
    expect(page.locator("#compare-start")).to_be_enabled()

    page.locator("#compare-start").click()
    for index in range(2):
        panel = page.locator(f"#compare-status-{index}")
        expect(panel.locator(".ls-job[data-status=succeeded]")).to_be_visible(timeout=60_000)
        expect(panel).to_contain_text("Done — charged")
    expect(page.locator("#compare-panel-2")).to_be_hidden()
    summary = page.locator("#compare-summary .ls-compare-summary")
    expect(summary).to_have_attribute("data-state", "done")
    expect(summary).to_contain_text("Compare: P-Video Avatar vs Fabric 1.0: 2 of 2 succeeded")

    # One button plays both results together (in the browser, no request to the server).
    videos = "#compare-results video"
    for index in range(2):
        expect(page.locator(f"#compare-video-{index} video")).to_have_attribute("src", re.compile(r"\.mp4$"))
    page.wait_for_function(f"() => [...document.querySelectorAll('{videos}')].every((v) => v.duration > 0)")
    page.evaluate(f"() => document.querySelectorAll('{videos}').forEach((v) => {{ v.muted = true; }})")
    page.locator("#compare-play").click()
    page.wait_for_function(PLAYING_JS, arg=videos)
    page.screenshot(path=artifact("compare-desktop"), full_page=True)
    page.locator("#compare-play").click()
    page.wait_for_function(f"() => [...document.querySelectorAll('{videos}')].every((v) => v.paused)")

    # Each model was charged on its own: two charges in the statement, nothing left held.
    studio.tab("Credits")
    statement = page.locator("#statement")
    for model_id, _title in (PVIDEO, FABRIC):
        expect(statement.locator("[role=row]", has_text=f"{model_id}: video delivered")).to_contain_text(
            "Charge"
        )
    assert studio.balance()["held"] == 0
    group_id = summary.get_attribute("data-group") or ""
    api_key = page.locator("#api-key textarea, #api-key input").first.input_value()
    status = connect(app).predict(api_key, group_id, api_name="/compare_status")
    assert status["terminal"] and status["succeeded"] == 2
    assert status["charged"] == sum(job["charged"] for job in status["jobs"]) > 0

    # History: the comparison is one entry; picking it shows both videos.
    studio.tab("History")
    rows = page.locator("#history tbody tr")
    expect(rows).to_have_count(1)
    expect(rows.first).to_contain_text("Compare: P-Video Avatar vs Fabric 1.0")
    expect(rows.first).to_contain_text("Succeeded")
    page.locator("#history").get_by_role("gridcell", name=group_id).click()
    expect(page.locator("#history-compare video")).to_have_count(2)
    expect(page.locator("#history-compare-play")).to_be_visible()
    page.screenshot(path=artifact("compare-history-desktop"), full_page=True)

    page.set_viewport_size({"width": 390, "height": 844})
    page.screenshot(path=artifact("compare-history-phone"), full_page=True)
    studio.tab("Compare")
    page.screenshot(path=artifact("compare-phone"), full_page=True)
