"""Knowing when a job ends from another tab, and the page after a reload and on a phone (Chromium)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from gradio_client import Client
from playwright.sync_api import Browser, BrowserContext, Page, expect

from tests.ui.conftest import AppFactory, RunningApp, artifact
from tests.ui.studio import Studio

pytestmark = [pytest.mark.slow, pytest.mark.browser]

PHONE = {"width": 390, "height": 844}
DESKTOP = {"width": 1280, "height": 1000}

BACKGROUND_TAB_JS = """
window.__hidden = false;
Object.defineProperty(Document.prototype, 'hidden', {configurable: true, get: () => window.__hidden});
Object.defineProperty(Document.prototype, 'visibilityState',
  {configurable: true, get: () => (window.__hidden ? 'hidden' : 'visible')});
window.__shown = [];
const Shown = window.Notification;
window.Notification = class extends Shown {
  constructor(title, options) {
    super(title, options);
    window.__shown.push(title + ' | ' + (options?.body ?? ''));
  }
};
"""
"""Lets the test put the tab in the background as a tab switch does (`hidden` plus the
`visibilitychange` event), and records each notification the page shows."""


@pytest.fixture(scope="module")
def one_job_app(start_app: AppFactory) -> RunningApp:
    """Jobs stay `processing` until canceled; one job at a time per visitor."""
    return start_app(engine_scenario="stall", max_jobs_per_owner=1)


@pytest.fixture(scope="module")
def rendering_app(start_app: AppFactory) -> RunningApp:
    return start_app()


@pytest.fixture(scope="module")
def desktop(chromium: Browser, one_job_app: RunningApp) -> Iterator[BrowserContext]:
    context = chromium.new_context(viewport=DESKTOP)
    context.grant_permissions(["notifications"], origin=one_job_app.url.rstrip("/"))
    context.add_init_script(BACKGROUND_TAB_JS)
    yield context
    context.close()


def wait_ready(page: Page) -> None:
    """Generate is offered (the estimate measures the clip first: slow on a busy machine)."""
    expect(page.locator("#generate")).to_be_enabled(timeout=30_000)


def set_background(page: Page, hidden: bool) -> None:
    page.evaluate(
        "(hidden) => { window.__hidden = hidden; document.dispatchEvent(new Event('visibilitychange')); }",
        hidden,
    )


def cancel_by_api(app: RunningApp, api_key: str, job_id: str) -> None:
    client = Client(app.url, verbose=False)
    try:
        client.predict(api_key, job_id, api_name="/cancel")
    finally:
        client.close()


def test_a_job_ending_in_a_background_tab_after_a_reload_titles_notifies_and_tries_again(
    one_job_app: RunningApp, desktop: BrowserContext, face: Path, short_voice: Path
) -> None:
    studio = Studio(desktop.new_page(), one_job_app.url).open()
    page = studio.page
    page.set_default_timeout(30_000)
    key = studio.api_key()
    page.locator("#notify input[type=checkbox]").check()
    expect(page.locator("#notify")).to_contain_text("You will get a notification")
    studio.give(face=face, voice=short_voice)
    wait_ready(page)
    first = studio.generate()
    studio.wait_status("processing")

    # A reload resumes the job with empty inputs; the opt-in is remembered.
    studio.reload()
    studio.wait_status("processing")
    expect(page.locator("#estimate")).to_contain_text("you may run no more at once")
    expect(page.locator("#notify input[type=checkbox]")).to_be_checked()
    title = page.title()

    # The visitor looks at another tab; the job ends there.
    set_background(page, True)
    cancel_by_api(one_job_app, key, first)
    studio.wait_status("canceled")
    page.wait_for_function("() => document.title.startsWith('■ Canceled')")
    assert page.title() == f"■ Canceled — {title}"
    shown = page.evaluate("() => window.__shown")
    assert len(shown) == 1 and shown[0].startswith(f"■ Canceled — {title} | ") and "returned" in shown[0]
    # The estimate no longer speaks of a running job.
    expect(page.locator("#estimate")).to_contain_text("Add a face image and an audio clip.")
    expect(page.locator("#estimate")).not_to_contain_text("running")
    expect(page.locator("#generate")).to_be_disabled()
    page.screenshot(path=artifact("desktop-ended-in-background"), full_page=True)

    # Back on the tab: its title is the page's again.
    set_background(page, False)
    page.wait_for_function("(title) => document.title === title", arg=title)

    # Try again repeats the job from the face and voice the server kept, inputs empty or not.
    page.locator("#retry").click()
    second = studio.wait_new_job(first)
    studio.wait_status("processing")
    snap = Client(one_job_app.url, verbose=False).predict(key, second, api_name="/status")
    assert snap["status"] == "processing" and snap["model"] == "wan-video/wan-2.2-s2v"
    studio.cancel()
    studio.wait_status("canceled")
    # While the tab was in view, neither the title nor a notification said anything.
    assert page.title() == title
    assert len(page.evaluate("() => window.__shown")) == 1


def test_on_a_phone_generate_shows_the_run_panel_the_log_follows_and_every_column_fits(
    rendering_app: RunningApp, chromium: Browser, face: Path, short_voice: Path
) -> None:
    context = chromium.new_context(viewport=PHONE, is_mobile=True, has_touch=True)
    try:
        studio = Studio(context.new_page(), rendering_app.url).open()
        page = studio.page
        page.set_default_timeout(60_000)
        studio.give(face=face, voice=short_voice)
        wait_ready(page)
        page.evaluate("() => window.scrollTo(0, 0)")
        page.locator("#generate").tap()
        page.wait_for_function(
            "() => { const box = document.querySelector('#job-status').getBoundingClientRect();"
            " return box.top > -1 && box.top < window.innerHeight / 2; }"  # -1: sub-pixel layout
        )
        page.screenshot(path=artifact("phone-after-generate"))
        studio.wait_status("succeeded", timeout_s=90)

        # The log box shows its newest line.
        logs = page.locator("#logs textarea")
        page.wait_for_function(
            "() => { const t = document.querySelector('#logs textarea');"
            " return t.scrollHeight > t.clientHeight && t.scrollTop + t.clientHeight >= t.scrollHeight - 2; }"
        )
        assert "Wrote" in logs.input_value().splitlines()[-1]

        for tab, table, name in (("History", "#history", "history"), ("Credits", "#statement", "credits")):
            studio.tab(tab)
            expect(page.locator(f"{table} [role=row]").nth(1)).to_be_visible()
            page.screenshot(path=artifact(f"phone-{name}"), full_page=True)
            assert _cells_off_screen(page, table) == []
        expect(page.locator("#history")).to_contain_text(studio.job_id())
        expect(page.locator("#credits-summary")).to_contain_text("python -m demo_app.admin grant browser:")
        page.set_viewport_size(DESKTOP)
        page.screenshot(path=artifact("desktop-credits"), full_page=True)
        studio.tab("History")
        page.screenshot(path=artifact("desktop-history"), full_page=True)
    finally:
        context.close()


def _cells_off_screen(page: Page, table: str) -> list[str]:
    """Header and body cells of `table` that do not fit the screen or cut their text."""
    return list(
        page.evaluate(
            """(table) => [...document.querySelectorAll(table + ' th, ' + table + ' td')]
                 .filter((cell) => cell.offsetParent !== null)
                 .filter((cell) => { const box = cell.getBoundingClientRect();
                   const text = cell.querySelector('span') || cell;
                   return box.right > window.innerWidth + 1 || text.scrollWidth > text.clientWidth + 1; })
                 .map((cell) => cell.textContent.trim())""",
            table,
        )
    )
