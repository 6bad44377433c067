"""The owner's desk: only admins see or call it; the command line and the Admin tab agree.

Two launched apps: one as on a Space (Hugging Face sign-in through Gradio's mocked OAuth, which
Gradio serves only off a Space; LIPSYNC_ADMINS=alice), one self-hosted where the admin key
unlocks the tab. The command runs as the owner runs it, `python -m demo_app.admin`, against the
running app.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import gradio.oauth
import httpx
import pytest
from gradio_client import Client, handle_file
from playwright.sync_api import Browser, Page, expect
from starlette.applications import Starlette
from starlette.testclient import TestClient

from demo_app.admin import AdminAccess, AdminDesk, admin_routes
from demo_app.ui._admin_handlers import NOT_AN_ADMIN
from tests.ui.conftest import REPO, AppFactory, RunningApp, artifact
from tests.ui.raw import RawSession

pytestmark = [pytest.mark.slow]

KEY = "admin-key-of-the-tests-0123456789"
ROUTES = [
    ("GET", "/admin/api/spend"),
    ("GET", "/admin/api/jobs"),
    ("GET", "/admin/api/failures"),
    ("GET", "/admin/api/statement?owner=hf:bob"),
    ("POST", "/admin/api/jobs/some-job/cancel"),
    ("POST", "/admin/api/grant"),
    ("POST", "/admin/api/take"),
]
PAGE_EVENTS = {
    "page_admin": [None],
    "page_admin_cancel": [None, "some-job"],
    "page_admin_statement": [None, "hf:bob"],
    "page_admin_grant": [None, "hf:bob", 1000, "free money"],
    "page_admin_take": [None, "hf:bob", 1, "why not"],
}
"""Every admin page event with arguments a caller could send (the first, the session's admin, is
server-side state: whatever a caller sends there is ignored)."""


class MockedHub:
    """Gradio's mocked Hugging Face sign-in (served off a Space), signing in as `sign_in_as(name)`."""

    def __init__(self) -> None:
        self.info: dict[str, Any] = {
            "access_token": "mock",
            "token_type": "bearer",
            "expires_in": 3600,
            "id_token": "mock",
            "scope": "openid profile",
            "expires_at": int(time.time()) + 3600,
            "userinfo": {},
        }

    def sign_in_as(self, app: RunningApp, name: str) -> str:
        """The session cookie Gradio's mocked callback sets for `name`."""
        self.info["userinfo"] = {
            "sub": name,
            "name": name,
            "preferred_username": name,
            "profile": f"https://huggingface.co/{name}",
            "picture": "",
        }
        answer = httpx.get(app.url + "login/callback", follow_redirects=False)
        return answer.headers["set-cookie"].split(";", 1)[0].split("=", 1)[1]


@pytest.fixture(scope="module")
def hub() -> MockedHub:
    return MockedHub()


@pytest.fixture(scope="module")
def space_app(start_app: AppFactory, hub: MockedHub) -> RunningApp:
    """As on a Space: Sign in with Hugging Face; alice is the admin; jobs run until canceled."""
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(gradio.oauth, "_get_mocked_oauth_info", lambda: hub.info)
        return start_app(
            space_id="owner/lipsync-studio",
            admins="alice",
            admin_key=KEY,
            engine_scenario="stall",
            engine_time_scale=1.0,  # the engine's clock scales its deadline: the job outlives the test
        )


@pytest.fixture(scope="module")
def own_app(start_app: AppFactory) -> RunningApp:
    """Self-hosted: nobody can sign in with Hugging Face, the admin key opens the desk; jobs fail."""
    return start_app(admin_key=KEY, engine_scenario="failure")


@pytest.fixture(scope="module")
def browser_page(chromium: Browser) -> Iterator[Callable[[int], Page]]:
    """Pages of one browser context per module (each page is a visitor's tab)."""
    context = chromium.new_context(viewport={"width": 1280, "height": 1000})
    yield lambda width: _page(context.new_page(), width)
    context.close()


def _page(page: Page, width: int) -> Page:
    page.set_viewport_size({"width": width, "height": 1000})
    page.set_default_timeout(30_000)
    return page


def desk(app: RunningApp, *args: str, key: str = KEY) -> subprocess.CompletedProcess[str]:
    """`python -m demo_app.admin --url <app> …` as the owner types it."""
    env = {**os.environ, "LIPSYNC_ADMIN_KEY": key, "PYTHONPATH": str(REPO)}
    command = [sys.executable, "-m", "demo_app.admin", "--url", app.url, *args]
    return subprocess.run(
        command, env=env, cwd=REPO, capture_output=True, text=True, timeout=120, check=False
    )


def visitor(app: RunningApp, owner: str) -> str:
    """`owner`'s API key, their account opened as a first API call opens it."""
    key = app.api_key(owner)
    client = Client(app.url, verbose=False)
    try:
        client.predict(key, api_name="/credits")
    finally:
        client.close()
    return key


# ---- nobody else ------------------------------------------------------------------------------


def test_routes_refuse_a_missing_or_wrong_key_with_a_sentence(space_app: RunningApp) -> None:
    with httpx.Client(base_url=space_app.url.rstrip("/")) as http:
        for method, path in ROUTES:
            for headers in ({}, {"Authorization": "Bearer not-the-key-at-all-00000"}, {"Authorization": KEY}):
                answer = http.request(method, path, headers=headers, json={"owner": "hf:bob", "credits": 5})
                assert answer.status_code == 401, (method, path, headers)
                assert answer.json()["error"].endswith(".")
                assert KEY not in answer.text
    info = httpx.get(space_app.url + "gradio_api/info").json()
    assert not [name for name in info["named_endpoints"] if "admin" in name], (
        "admin stays out of the public API"
    )


def test_without_an_admin_key_the_routes_are_closed() -> None:
    app = Starlette(routes=admin_routes(AdminDesk(_never_opened), AdminAccess(frozenset({"alice"}), None)))
    with TestClient(app) as http:
        answer = http.get("/admin/api/spend", headers={"Authorization": f"Bearer {KEY}"})
    assert answer.status_code == 403
    assert "set LIPSYNC_ADMIN_KEY" in answer.json()["error"]


async def _never_opened() -> Any:
    raise AssertionError("a refused request never reaches the services")


def test_page_events_refuse_visitors_signed_in_or_not(space_app: RunningApp, hub: MockedHub) -> None:
    visitor(space_app, "hf:bob")
    strangers = [RawSession(space_app), RawSession(space_app)]
    strangers[1].http.headers["cookie"] = f"session={hub.sign_in_as(space_app, 'mallory')}"
    try:
        for raw in strangers:
            check = raw.join("page_admin_check", [])
            assert check.output is not None and check.output[0]["visible"] is False
            for event, data in PAGE_EVENTS.items():
                assert raw.join(event, data).error == NOT_AN_ADMIN, event
    finally:
        for raw in strangers:
            raw.close()
    assert "free money" not in desk(space_app, "statement", "hf:bob").stdout


def test_the_unlock_box_refuses_a_wrong_key(own_app: RunningApp) -> None:
    raw = RawSession(own_app)
    try:
        assert "not the admin key" in (
            raw.join("page_admin_unlock", ["not-the-key-at-all-000", "eve"]).error or ""
        )
        assert raw.join("page_admin_grant", [None, "hf:bob", 5, "x"]).error == NOT_AN_ADMIN
    finally:
        raw.close()


def test_the_command_refuses_a_wrong_key_and_a_stopped_app(space_app: RunningApp, tmp_path: Path) -> None:
    wrong = desk(space_app, "spend", key="not-the-key-at-all-000")
    assert wrong.returncode == 1 and "not this app's admin key" in wrong.stderr
    stopped = desk(RunningApp("http://127.0.0.1:9/", space_app.settings, space_app.demo), "jobs")
    assert stopped.returncode == 2 and "Start it" in stopped.stderr


# ---- an admin -------------------------------------------------------------------------------


@pytest.mark.browser
def test_the_command_and_the_tab_agree(
    space_app: RunningApp,
    hub: MockedHub,
    browser_page: Callable[[int], Page],
    face: Path,
    short_voice: Path,
) -> None:
    bob = visitor(space_app, "hf:bob")
    client = Client(space_app.url, verbose=False)
    job = client.predict(bob, handle_file(face), handle_file(short_voice), api_name="/start")["job_id"]
    client.close()

    gift = desk(space_app, "--as", "ops", "grant", "hf:bob", "500", "--reason", "Welcome to the beta")
    assert gift.returncode == 0, gift.stderr
    page = browser_page(1280)
    page.context.add_cookies(
        [{"name": "session", "value": hub.sign_in_as(space_app, "alice"), "url": space_app.url}]
    )
    page.goto(space_app.url)
    page.get_by_role("tab", name="Admin").click()
    expect(page.locator("#admin-who")).to_contain_text("alice")
    expect(page.locator("#admin-spend [data-cap]")).to_contain_text("daily budget $50.00")
    expect(page.locator("#admin-running")).to_contain_text(job)

    page.locator("#admin-owner textarea, #admin-owner input").first.fill("hf:bob")
    page.locator("#admin-show").click()
    expect(page.locator("#admin-statement")).to_contain_text(
        "Granted by ops (admin key): Welcome to the beta"
    )

    page.locator("#admin-credits input").fill("250")
    page.locator("#admin-reason textarea, #admin-reason input").first.fill("Found a bug")
    page.locator("#admin-grant").click()
    expect(page.locator("#admin-message")).to_contain_text("hf:bob now has")
    page.screenshot(path=artifact("admin-tab-desktop"), full_page=True)
    statement = desk(space_app, "statement", "hf:bob").stdout
    assert "Granted by alice (Hugging Face): Found a bug" in statement
    own = Client(space_app.url, verbose=False)
    reasons = [line["reason"] for line in own.predict(bob, api_name="/credits")["statement"]]
    own.close()
    assert "Granted by alice (Hugging Face): Found a bug" in reasons, (
        "the visitor's own statement names the admin"
    )

    too_much = desk(space_app, "--as", "ops", "take", "hf:bob", "1750", "--reason", "Everything")
    assert too_much.returncode == 1 and "held by running jobs" in too_much.stderr

    assert job in desk(space_app, "jobs").stdout
    assert desk(space_app, "cancel", job).returncode == 0
    page.locator("#admin-refresh").click()
    expect(page.locator("#admin-running")).not_to_contain_text(job)
    assert "No jobs running." in desk(space_app, "jobs").stdout

    phone = browser_page(390)
    phone.goto(space_app.url)
    phone.get_by_role("tab", name="Admin").click()
    expect(phone.locator("#admin-spend [data-cap]")).to_be_visible()
    phone.screenshot(path=artifact("admin-tab-phone"), full_page=True)


@pytest.mark.browser
def test_a_visitor_never_sees_the_tab(space_app: RunningApp, chromium: Browser) -> None:
    context = chromium.new_context(viewport={"width": 1280, "height": 1000})
    page = context.new_page()
    page.goto(space_app.url)
    page.wait_for_selector("#balance .ls-balance")
    expect(page.get_by_role("tab", name="Credits")).to_be_visible()
    expect(page.get_by_role("tab", name="Admin")).to_have_count(0)
    context.close()


@pytest.mark.browser
def test_the_admin_key_opens_the_tab_where_nobody_signs_in(
    own_app: RunningApp, browser_page: Callable[[int], Page], face: Path, short_voice: Path
) -> None:
    bob = visitor(own_app, "hf:bob")
    client = Client(own_app.url, verbose=False)
    failed = client.predict(bob, handle_file(face), handle_file(short_voice), api_name="/generate")
    client.close()
    assert failed["status"] == "failed"
    page = browser_page(390)
    page.goto(own_app.url)
    page.wait_for_selector("#balance .ls-balance")
    expect(page.get_by_role("tab", name="Admin")).to_have_count(0)
    page.get_by_text("Owner's desk").click()
    page.locator("#admin-key input").fill(KEY)
    page.locator("#admin-name textarea, #admin-name input").first.fill("Sam")
    page.locator("#admin-open").click()
    page.get_by_role("tab", name="Admin").click()
    expect(page.locator("#admin-who")).to_contain_text("Sam")
    expect(page.locator("#admin-failures")).to_contain_text(failed["job_id"])
    page.screenshot(path=artifact("admin-unlocked-phone"), full_page=True)
    listed = desk(own_app, "failures").stdout
    assert failed["job_id"] in listed and str(failed["error"] or failed["message"]) in listed
