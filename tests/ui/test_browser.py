"""The visitor's seven steps in a real Chromium against the launched app (built-in engine)."""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path

import pytest
from gradio_client import Client
from playwright.sync_api import Page, expect

from tests.ui.conftest import AppFactory, RunningApp, artifact
from tests.ui.studio import JUDGED_WITHIN_MS, Studio

pytestmark = [pytest.mark.slow, pytest.mark.browser]


@pytest.fixture(scope="module")
def app(start_app: AppFactory) -> RunningApp:
    return start_app(engine_scenario="slow_progress")


@pytest.fixture(scope="module")
def stalling_app(start_app: AppFactory) -> RunningApp:
    """Jobs stay `processing` until canceled: time to cancel, reload and look."""
    return start_app(engine_scenario="stall")


JOBS_SHOWN_JS = """
() => {
  const target = document.querySelector('#job-status');
  const now = target.querySelector('.ls-job');
  window.__jobsShown = now && now.dataset.job ? [now.dataset.job] : [];
  window.__framesOfLast = 0;
  new MutationObserver((mutations) => {
    const job = target.querySelector('.ls-job');
    if (!job || !job.dataset.job) return;
    const shown = window.__jobsShown;
    if (shown[shown.length - 1] !== job.dataset.job) {
      shown.push(job.dataset.job);
      window.__framesOfLast = 0;
    }
    if (mutations.some((m) => m.attributeName === 'data-elapsed')) window.__framesOfLast += 1;
  }).observe(target, {subtree: true, childList: true, attributes: true});
}
"""
"""Records, in order, each job the run panel switches to, and how many frames from the server it
rendered since the last switch (each frame of a running job carries the elapsed seconds at send
time)."""

CLOCK_JS = """
() => {
  window.__frames = 0;
  window.__clockShown = new Set();
  const target = document.querySelector('#job-status');
  new MutationObserver((mutations) => {
    if (mutations.some((m) => m.attributeName === 'data-elapsed')) window.__frames += 1;
    const clock = target.querySelector('.ls-clock');
    if (clock) window.__clockShown.add(clock.textContent);
  }).observe(target, {subtree: true, childList: true, attributes: true, characterData: true});
}
"""
"""Records the server frames the run panel renders and every time its clock shows."""


def clock_seconds(studio: Studio) -> int:
    """The run panel's elapsed time, in seconds, as the visitor reads it."""
    parts = [int(part) for part in studio.page.locator("#job-status .ls-clock").inner_text().split(":")]
    return sum(part * 60**power for power, part in enumerate(reversed(parts)))


def status_of(app: RunningApp, api_key: str, job_id: str) -> dict[str, object]:
    client = Client(app.url, verbose=False)
    try:
        snap = client.predict(api_key, job_id, api_name="/status")
    finally:
        client.close()
    assert isinstance(snap, dict)
    return snap


def test_page_says_what_it_does_and_offers_every_input_source(
    app: RunningApp, new_page: Callable[[], Page]
) -> None:
    studio = Studio(new_page(), app.url).open()
    page = studio.page
    expect(page.locator("#engine")).to_contain_text("Built-in offline engine — no REPLICATE_API_TOKEN set")
    assert studio.balance() == {"balance": 1000, "held": 0, "available": 1000}
    expect(page.locator("#face button[aria-label='Capture from camera']")).to_be_visible()
    expect(page.locator("#face button[aria-label='Paste from clipboard']")).to_be_visible()
    expect(page.locator("#voice button[aria-label='Record audio']")).to_be_visible()
    # Nothing given yet: Generate waits, and says why.
    expect(page.locator("#generate")).to_be_disabled()
    expect(page.locator("#estimate")).to_contain_text("Add a face image and an audio clip.")
    expect(page.locator("#model-info")).to_contain_text("Typically about")
    page.screenshot(path=artifact("page-on-arrival"), full_page=True)


def test_generate_shows_progress_plays_the_video_and_charges_the_actual_cost(
    app: RunningApp, new_page: Callable[[], Page], face: Path, short_voice: Path, tmp_path: Path
) -> None:
    studio = Studio(new_page(), app.url).open()
    before = studio.balance()
    studio.give(face=face, voice=short_voice)
    studio.wait_ready()
    expect(studio.page.locator("#estimate")).to_contain_text(
        "for 3.0 s of audio — held now, charged only on success"
    )

    studio.watch_run()
    studio.generate()
    assert studio.wait_status("succeeded") == "succeeded"
    studio.page.screenshot(path=artifact("generate-succeeded"), full_page=True)

    log = studio.run_log()
    statuses = [entry["status"] for entry in log]
    assert statuses[0] == "idle"
    assert "processing" in statuses and statuses[-1] == "succeeded"
    fractions = [float(str(entry["progress"])) for entry in log if entry["progress"] is not None]
    partial = sorted({f for f in fractions if 0.0 < f < 1.0})
    assert len(partial) >= 2, f"progress never advanced in steps: {log}"
    assert fractions == sorted(fractions), "progress went backwards"
    assert fractions[-1] == 1.0
    expect(studio.page.locator("#job-status")).to_contain_text("100% — from the model's logs")

    video = studio.page.locator("#result video")
    expect(video).to_have_attribute("src", re.compile(r"/gradio_api/file=.+\.mp4$"))
    # Its metadata loads, then it really plays (muted, so no user gesture is needed).
    studio.page.wait_for_function(
        "() => { const v = document.querySelector('#result video'); return v && v.duration > 0; }"
    )
    video.evaluate("v => { v.muted = true; return v.play(); }")
    studio.page.wait_for_function("() => document.querySelector('#result video').currentTime > 0.2")

    with studio.page.expect_download() as download:
        studio.page.locator("#download").click()
    saved = tmp_path / "video.mp4"
    download.value.save_as(saved)
    assert saved.read_bytes()[4:8] == b"ftyp"

    snap = status_of(app, studio.api_key(), studio.job_id())
    charged = snap["charged"]
    assert isinstance(charged, int) and 0 < charged <= int(str(snap["held"]))
    studio.wait_balance(available=before["available"] - charged, held=0)
    expect(studio.page.locator("#job-status")).to_contain_text("charged")

    # The History tab lists it with its cost; clicking the row plays it from our storage.
    studio.tab("History")
    history = studio.page.locator("#history")
    expect(history).to_contain_text(studio.job_id())
    expect(history).to_contain_text("Succeeded")
    history.get_by_role("gridcell", name=studio.job_id()).click()
    expect(studio.page.locator("#history-video video")).to_have_attribute("src", re.compile(r"\.mp4$"))


def test_cancel_returns_the_held_credits(
    stalling_app: RunningApp, new_page: Callable[[], Page], face: Path, short_voice: Path
) -> None:
    studio = Studio(new_page(), stalling_app.url).open()
    before = studio.balance()
    studio.give(face=face, voice=short_voice)
    studio.wait_ready()
    studio.generate()
    studio.wait_status("processing")
    expect(studio.page.locator("#cancel")).to_be_visible()
    studio.page.wait_for_function("() => document.querySelector('#balance .ls-balance').dataset.held !== '0'")
    held = studio.balance()["held"]
    assert held > 0

    studio.cancel()
    assert studio.wait_status("canceled") == "canceled"
    assert f"{held} credits" in studio.message() and "returned" in studio.message()
    studio.wait_balance(available=before["available"], held=0)
    expect(studio.page.locator("#cancel")).to_be_hidden()
    expect(studio.page.locator("#retry")).to_be_visible()


def test_bad_files_are_refused_with_their_sentence_and_the_balance_unchanged(
    app: RunningApp,
    new_page: Callable[[], Page],
    face: Path,
    tiny_face: Path,
    short_voice: Path,
    tmp_path: Path,
) -> None:
    studio = Studio(new_page(), app.url).open()
    before = studio.balance()
    page = studio.page

    # Unreadable audio: the estimate says what is wrong and Generate stays off.
    not_audio = tmp_path / "voice.wav"
    not_audio.write_text("this is not a recording")
    studio.give(face=face, voice=not_audio)
    expect(page.locator("#estimate")).to_contain_text("not audio we can read", timeout=JUDGED_WITHIN_MS)
    expect(page.locator("#generate")).to_be_disabled()

    # Not a picture at all, then a picture too small for the model: each judged as soon as it is
    # given, as audio is, with its own sentence; Generate stays off and nothing is held.
    not_image = tmp_path / "face.png"
    not_image.write_text("this is not a picture")
    page.locator("#voice button[aria-label='Clear']").click()
    studio.give(voice=short_voice)
    for bad_face, sentence in [(not_image, "not a picture we can read"), (tiny_face, "40 × 40 pixels")]:
        page.locator("#face button[aria-label='Remove Image']").click()
        studio.give(face=bad_face)
        expect(page.locator("#estimate")).to_contain_text(sentence, timeout=JUDGED_WITHIN_MS)
        expect(page.locator("#generate")).to_be_disabled()
        assert studio.balance() == before
    assert "Traceback" not in page.content()
    page.screenshot(path=artifact("bad-file-refused"), full_page=True)


def test_a_failed_job_returns_the_credits_and_try_again_keeps_the_inputs(
    start_app: AppFactory, new_page: Callable[[], Page], face: Path, short_voice: Path
) -> None:
    failing = start_app(engine_scenario="failure")
    studio = Studio(new_page(), failing.url).open()
    before = studio.balance()
    studio.give(face=face, voice=short_voice)
    studio.wait_ready()
    studio.generate()
    assert studio.wait_status("failed") == "failed"
    first_job = studio.job_id()
    message = studio.message()
    assert "The model failed" in message and "credits" in message and "returned" in message
    studio.wait_balance(available=before["available"], held=0)

    retry = studio.page.locator("#retry")
    expect(retry).to_be_visible()
    retry.click()
    studio.wait_new_job(first_job)
    assert studio.wait_status("failed") == "failed"
    studio.wait_balance(available=before["available"], held=0)
    # The inputs are still there for a third try.
    expect(studio.page.locator("#face img")).to_have_attribute("src", re.compile(r".+"))
    expect(studio.page.locator("#generate")).to_be_enabled()


def test_a_timed_out_job_says_so_and_returns_the_credits(
    start_app: AppFactory, new_page: Callable[[], Page], face: Path, short_voice: Path
) -> None:
    # The engine never finishes; our 3 s time-out (sent upstream as a 5 s Cancel-After) ends it.
    slow = start_app(engine_scenario="stall", job_timeout_s=3.0, engine_time_scale=1.0)
    studio = Studio(new_page(), slow.url).open()
    before = studio.balance()
    studio.give(face=face, voice=short_voice)
    studio.wait_ready()
    studio.generate()
    assert studio.wait_status("timed_out") == "timed_out"
    expect(studio.page.locator("#job-status .ls-badge")).to_have_text("Timed out")
    message = studio.message()
    assert "time-out" in message and "credits" in message and "returned" in message
    studio.wait_balance(available=before["available"], held=0)
    expect(studio.page.locator("#retry")).to_be_visible()


def test_reload_mid_job_resumes_its_progress_and_history(
    stalling_app: RunningApp, new_page: Callable[[], Page], face: Path, short_voice: Path
) -> None:
    studio = Studio(new_page(), stalling_app.url).open()
    before = studio.balance()
    studio.give(face=face, voice=short_voice)
    studio.wait_ready()
    studio.generate()
    studio.wait_status("processing")
    job_id = studio.job_id()

    studio.reload()
    # The same visitor (same credits), the same job, followed live again.
    studio.wait_status("processing")
    assert studio.job_id() == job_id
    expect(studio.page.locator("#job-status")).to_contain_text("Elapsed")
    expect(studio.page.locator("#cancel")).to_be_visible()
    expect(studio.page.locator("#generate")).to_be_disabled()
    studio.tab("History")
    row = studio.page.locator("#history tr", has_text=job_id)
    expect(row).to_contain_text("Processing")
    studio.page.screenshot(path=artifact("reload-history"), full_page=True)
    studio.tab("Create")

    # The resumed page controls the job: cancel it and get the credits back.
    studio.cancel()
    studio.wait_status("canceled")
    studio.wait_balance(available=before["available"], held=0)
    studio.tab("History")
    expect(studio.page.locator("#history tr", has_text=job_id)).to_contain_text("Canceled")


def test_the_page_runs_as_many_jobs_as_the_owner_limit_and_follows_the_newest(
    stalling_app: RunningApp, new_page: Callable[[], Page], face: Path, short_voice: Path
) -> None:
    """LIPSYNC_MAX_JOBS_PER_OWNER (2 here) holds on the page too: a second Generate while a job
    runs starts another, the run panel follows it, and at the limit Generate waits and says why."""
    studio = Studio(new_page(), stalling_app.url).open()
    before = studio.balance()
    studio.give(face=face, voice=short_voice)
    studio.wait_ready()
    first = studio.generate()
    studio.wait_status("processing")
    studio.wait_ready()
    studio.page.evaluate(JOBS_SHOWN_JS)
    second = studio.generate(previous=first)
    assert second != first
    studio.wait_status("processing")
    expect(studio.page.locator("#generate")).to_be_disabled()
    expect(studio.page.locator("#estimate")).to_contain_text("you may run no more at once")
    # The older job's follower stopped, and its end drew nothing: over twelve frames of the newest
    # job (the estimated progress of both stalled jobs moves every poll, so the older follower
    # sees its job change and ends meanwhile), the panel went from the first job to the second
    # and never back. Gradio sends an ended event's last frame again; without the follower's
    # closing frame that changes nothing, the first job was drawn once more here.
    studio.page.wait_for_function("() => window.__framesOfLast >= 12", timeout=60_000)
    assert studio.page.evaluate("() => window.__jobsShown") == [first, second]
    studio.tab("History")
    for job_id in (first, second):
        row = studio.page.locator("#history [role=row]", has_text=job_id)
        expect(row).to_contain_text("Processing")
    studio.tab("Create")

    # Canceling the followed job frees a slot: Generate is offered again; the other job runs on.
    studio.cancel()
    studio.wait_status("canceled")
    studio.wait_ready()
    snap = status_of(stalling_app, studio.api_key(), first)
    assert snap["status"] == "processing"
    client = Client(stalling_app.url, verbose=False)
    try:
        canceled = client.predict(studio.api_key(), first, api_name="/cancel")
    finally:
        client.close()
    assert canceled["status"] == "canceled"
    studio.tab("Credits")  # showing the tab refreshes the balance: the page did not follow that job
    studio.wait_balance(available=before["available"], held=0)


def test_the_clock_ticks_in_the_browser_while_no_frame_arrives_and_is_right_after_a_reload(
    start_app: AppFactory, new_page: Callable[[], Page], face: Path, short_voice: Path
) -> None:
    """A job waiting for a worker (30 s `starting`) changes nothing the visitor sees but its
    elapsed time: the server sends no frame, and the browser's clock ticks on its own."""
    cold = start_app(engine_scenario="cold_start", engine_time_scale=1.0)
    studio = Studio(new_page(), cold.url).open()
    before = studio.balance()
    studio.give(face=face, voice=short_voice)
    studio.wait_ready()
    studio.generate()
    studio.wait_status("starting")
    studio.page.evaluate(CLOCK_JS)
    studio.page.wait_for_function("() => window.__clockShown.size >= 3", timeout=10_000)
    assert studio.page.evaluate("() => window.__frames") == 0
    assert studio.status() == "starting"
    shown = clock_seconds(studio)
    assert shown >= 2

    # After a reload the resumed panel starts from the server's elapsed time, not from zero.
    studio.reload()
    studio.wait_status("starting")
    assert clock_seconds(studio) >= shown
    studio.cancel()
    studio.wait_status("canceled")
    studio.wait_balance(available=before["available"], held=0)


def test_closing_the_tab_never_stops_the_job(
    app: RunningApp, new_page: Callable[[], Page], face: Path, short_voice: Path
) -> None:
    first_tab = Studio(new_page(), app.url).open()
    first_tab.give(face=face, voice=short_voice)
    first_tab.wait_ready()
    first_tab.generate()
    first_tab.wait_status("starting", "processing")
    job_id = first_tab.job_id()
    context = first_tab.page.context
    first_tab.page.close()

    # Coming back (same browser, so the same visitor): the job carried on to its end.
    back = Studio(context.new_page(), app.url).open()
    back.tab("History")
    expect(back.page.locator("#history")).to_contain_text(job_id)
    back.tab("Create")
    if back.status() != "succeeded":
        back.wait_status("succeeded")
        assert back.job_id() == job_id
    snap = status_of(app, back.api_key(), job_id)
    assert snap["status"] == "succeeded"
    assert isinstance(snap["charged"], int) and snap["charged"] > 0


def test_new_anonymous_visitors_past_the_address_cap_get_no_grant(
    start_app: AppFactory, new_page: Callable[[], Page]
) -> None:
    """Clearing the browser's storage makes a new visitor, but not a new grant without end."""
    app = start_app(grants_per_address_per_day=1)
    first = Studio(new_page(), app.url).open()
    assert first.balance()["balance"] == 1000
    second = Studio(new_page(), app.url).open()  # a fresh context: empty storage, same address
    assert second.balance() == {"balance": 0, "held": 0, "available": 0}
    first.reload()
    assert first.balance()["balance"] == 1000, "a returning visitor keeps the grant"


def test_a_drifted_model_says_why_it_cannot_run_and_generate_stays_off(
    start_app: AppFactory, new_page: Callable[[], Page], face: Path, short_voice: Path
) -> None:
    drifted = start_app(engine_scenario="schema_drift")  # Wan's "image" renamed upstream
    studio = Studio(new_page(), drifted.url).open()
    page = studio.page
    reason = "no longer has the input “image” this Space sends"
    expect(page.locator("#model-info")).to_contain_text("Typically about")
    expect(page.locator("#model-info")).to_contain_text(reason)
    studio.give(face=face, voice=short_voice)
    expect(page.locator("#estimate")).to_contain_text(reason)
    expect(page.locator("#generate")).to_be_disabled()
    assert studio.balance() == {"balance": 1000, "held": 0, "available": 1000}
    page.screenshot(path=artifact("model-unavailable"), full_page=True)
