"""The live estimate answers the latest inputs, in Chromium against the launched app.

A visitor drops a picture and a clip while the estimate asked once they are known (no files
yet) is still out: the browser's own network holds that request, as a busy server would. A page
whose estimate has one event waits for it and then asks again with the files. A page with
several writers asks at once, and the answer that arrives last wins whatever inputs it was asked
for: the load's late "add a face image" could overwrite the files' estimate and leave Generate
disabled with valid files on the page.
"""

from __future__ import annotations

import contextlib
import re
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import Page, Request, Route, expect
from playwright.sync_api import TimeoutError as PlaywrightTimeout

from tests.ui.conftest import AppFactory, RunningApp
from tests.ui.studio import JUDGED_WITHIN_MS

pytestmark = [pytest.mark.slow, pytest.mark.browser]

JOIN = "**/gradio_api/queue/join*"
UPLOAD = "**/gradio_api/upload?*"
SECOND_ASK_WITHIN_MS = 2_000
"""A page that asks for another estimate while one is out does so as the files arrive: the
request leaves within milliseconds of the change, far inside this."""


@pytest.fixture(scope="module")
def app(start_app: AppFactory) -> RunningApp:
    return start_app()


@pytest.fixture(autouse=True)
def patient_expect() -> Iterator[None]:
    """Assertions wait as long as the page's own waits: the machine may be busy."""
    expect.set_options(timeout=30_000)
    yield
    expect.set_options(timeout=5_000)


class EstimateRequests:
    """Sorts the page's queue requests: those that write the estimate, with or without files."""

    def __init__(self, app: RunningApp) -> None:
        writers = [fn for fn in app.demo.fns.values() if any(_named(b, "estimate") for b in fn.outputs)]
        assert writers, "no event writes the estimate"
        self.fn_ids = {fn._id for fn in writers}
        self.file_slots = {
            fn._id: [slot for slot, block in enumerate(fn.inputs) if _named(block, "face", "voice")]
            for fn in writers
        }

    def body(self, request: Request) -> dict[str, Any] | None:
        """The join's body when it asks for an estimate, else None."""
        body = request.post_data_json
        if isinstance(body, dict) and body.get("fn_index") in self.fn_ids:
            return body
        return None

    def with_files(self, request: Request) -> bool:
        """An estimate asked with a picture or a clip on the page."""
        body = self.body(request)
        if body is None:
            return False
        return any(body["data"][slot] is not None for slot in self.file_slots[body["fn_index"]])

    def without_files(self, request: Request) -> bool:
        body = self.body(request)
        return body is not None and not self.with_files(request)


def _named(block: Any, *elem_ids: str) -> bool:
    return getattr(block, "elem_id", None) in elem_ids


def test_files_dropped_while_the_load_estimate_is_out_get_their_own_estimate(
    app: RunningApp, new_page: Callable[[], Page], face: Path, short_voice: Path
) -> None:
    page = new_page()
    requests = EstimateRequests(app)
    held: list[Route] = []
    asked_with_files: list[Request] = []

    def route(route: Route) -> None:
        if requests.without_files(route.request):
            held.append(route)
            return
        if requests.with_files(route.request):
            asked_with_files.append(route.request)
        route.continue_()

    page.route(JOIN, route)
    with page.expect_request(requests.without_files, timeout=JUDGED_WITHIN_MS):
        page.goto(app.url)
    # The visitor is known and their first estimate is out (held); the files arrive now.
    for field, path in (("#face", face), ("#voice", short_voice)):
        with page.expect_response(UPLOAD, timeout=JUDGED_WITHIN_MS):
            page.locator(f"{field} input[type=file]").set_input_files(path)
    # Both files are uploaded and on the page: their changes are out.
    expect(page.locator("#face img[src*='/file=']")).to_be_visible()
    if not asked_with_files:
        with contextlib.suppress(PlaywrightTimeout):
            asked_with_files.append(
                page.wait_for_event("request", requests.with_files, timeout=SECOND_ASK_WITHIN_MS)
            )
    assert not asked_with_files, "the page asked for a second estimate while the first was out"
    for late in held:
        late.continue_()
    held.clear()

    expect(page.locator("#estimate")).to_have_text(
        re.compile(r"≈ .* for 3\.0 s of audio"), timeout=JUDGED_WITHIN_MS
    )
    expect(page.locator("#generate")).to_be_enabled()
