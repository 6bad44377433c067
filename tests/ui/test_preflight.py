"""The pre-flight in Chromium: faces found and chosen, a picture with none, a clip too long."""

from __future__ import annotations

import hashlib
import io
import wave
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest
from gradio_client import Client, handle_file
from gradio_client.exceptions import AppError
from PIL import Image, ImageOps
from playwright.sync_api import Locator, Page, expect

from demo_app.catalog import get_model
from demo_app.money import format_credits
from tests.ui.conftest import ASSETS, AppFactory, RunningApp, artifact
from tests.ui.studio import JUDGED_WITHIN_MS, Studio

pytestmark = [pytest.mark.slow, pytest.mark.browser]

WAN = "wan-video/wan-2.2-s2v"
PHONE = {"width": 390, "height": 844}


@pytest.fixture(scope="module")
def app(start_app: AppFactory) -> RunningApp:
    return start_app()


@pytest.fixture(scope="module")
def media(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """A group photo (the sample face and its mirror), a gradient with no face, a 65 s clip of speech."""
    folder = tmp_path_factory.mktemp("preflight")
    face = Image.open(ASSETS / "sample-face.png").convert("RGB")
    group = Image.new("RGB", (face.width * 2, face.height))
    group.paste(face, (0, 0))
    group.paste(ImageOps.mirror(face), (face.width, 0))  # two faces, not two identical crops
    group.save(folder / "group.png")
    ramp = np.linspace(40, 220, 512)
    pixels = np.stack(
        [np.tile(ramp, (512, 1)), np.tile(ramp[::-1], (512, 1)), np.full((512, 512), 128.0)], -1
    )
    Image.fromarray(pixels.astype(np.uint8)).save(folder / "gradient.png")
    with wave.open(str(ASSETS / "sample-voice.wav")) as src:
        params, frames = src.getparams(), src.readframes(src.getnframes())
    wanted = 65 * params.framerate * params.sampwidth
    with wave.open(str(folder / "long.wav"), "wb") as dst:
        dst.setparams(params)
        dst.writeframes((frames * (wanted // len(frames) + 1))[:wanted])
    return {"group": folder / "group.png", "gradient": folder / "gradient.png", "long": folder / "long.wav"}


def choose(page: Page, control: Locator) -> tuple[str, tuple[int, int]]:
    """Tick `control`, wait for the picture sent to change, and return it (`shown_picture`)."""
    image = page.locator("#sent-picture img")
    before = image.get_attribute("src") if image.is_visible() else None
    control.check()
    page.wait_for_function(
        "(before) => { const img = document.querySelector('#sent-picture img');"
        " return img && img.getAttribute('src') && img.getAttribute('src') !== before; }",
        arg=before,
        timeout=JUDGED_WITHIN_MS,
    )
    return shown_picture(page)


def shown_picture(page: Page) -> tuple[str, tuple[int, int]]:
    """SHA-256 and size of the picture "What the model will receive" shows, fetched as the browser does."""
    image = page.locator("#sent-picture img")
    expect(image).to_be_visible()
    src = image.get_attribute("src") or ""
    data = page.request.get(src).body()
    with Image.open(io.BytesIO(data)) as decoded:
        size = decoded.size
    return hashlib.sha256(data).hexdigest(), size


def ready(page: Page) -> None:
    """Generate enabled: the first judgement of a picture starts the media workers, so allow for it."""
    expect(page.locator("#generate")).to_be_enabled(timeout=JUDGED_WITHIN_MS)


def both_widths(page: Page, name: str) -> None:
    page.screenshot(path=artifact(f"{name}-desktop"), full_page=True)
    desktop = page.viewport_size
    page.set_viewport_size(PHONE)
    page.screenshot(path=artifact(f"{name}-phone"), full_page=True)
    if desktop is not None:
        page.set_viewport_size(desktop)


def test_a_group_photo_offers_a_choice_and_the_picture_sent_follows_it(
    app: RunningApp, new_page: Callable[[], Page], media: dict[str, Path], short_voice: Path
) -> None:
    studio = Studio(new_page(), app.url).open()
    page = studio.page
    studio.give(face=media["group"], voice=short_voice)
    expect(page.locator("#estimate")).to_contain_text(
        "The picture shows 2 faces; choose the one to animate", timeout=JUDGED_WITHIN_MS
    )
    expect(page.locator("#estimate")).not_to_contain_text("Add an audio clip", timeout=JUDGED_WITHIN_MS)
    expect(page.locator("#generate")).to_be_disabled()
    expect(page.locator("#faces img")).to_be_visible()
    expect(page.locator("#sent-picture")).to_be_hidden()

    right, right_size = choose(page, page.locator("#face-pick").get_by_label("Face 2"))
    assert right_size[0] == right_size[1] < 512  # a square framed on the face, not the group
    ready(page)
    both_widths(page, "preflight-group-photo")

    left, _ = choose(page, page.locator("#face-pick").get_by_label("Face 1"))
    assert left != right
    assert choose(page, page.locator("#framing").get_by_label("Whole picture"))[1] == (1024, 512)
    sent, _ = choose(page, page.locator("#framing").get_by_label("Focus on this face"))
    assert sent == left
    ready(page)
    studio.generate()
    assert studio.wait_status("succeeded") == "succeeded"
    # The job recorded the SHA-256 of the picture it sent: the one the preview showed.
    assert sent in (app.settings.data_dir / "jobs.json.journal").read_text()


def test_a_picture_without_a_face_is_stopped_before_any_hold_and_can_be_used_anyway(
    app: RunningApp, new_page: Callable[[], Page], media: dict[str, Path], short_voice: Path
) -> None:
    studio = Studio(new_page(), app.url).open()
    page = studio.page
    before = studio.balance()
    studio.give(face=media["gradient"], voice=short_voice)
    expect(page.locator("#estimate")).to_contain_text(
        "No face was found in this picture", timeout=JUDGED_WITHIN_MS
    )
    expect(page.locator("#generate")).to_be_disabled()
    both_widths(page, "preflight-no-face")
    assert studio.balance() == before

    page.locator("#use-anyway input").check()
    ready(page)
    expect(page.locator("#estimate")).to_contain_text("held now, charged only on success")
    studio.generate()
    assert studio.wait_status("succeeded") == "succeeded"


def test_a_too_long_clip_is_trimmed_and_held_as_priced(
    app: RunningApp, new_page: Callable[[], Page], media: dict[str, Path], face: Path
) -> None:
    studio = Studio(new_page(), app.url).open()
    page = studio.page
    studio.give(face=face, voice=media["long"])
    estimate = page.locator("#estimate")
    # The clip's problem and the short balance, both at once.
    expect(estimate).to_contain_text(
        "The audio is 65.0 s long; this model takes at most 60 s", timeout=JUDGED_WITHIN_MS
    )
    expect(estimate).to_contain_text(f"You have {format_credits(1000)} available")
    expect(page.locator("#generate")).to_be_disabled()
    expect(page.locator("#trim-use")).to_contain_text("The clip is 65.0 s; this model takes up to 60 s.")

    page.locator("#trim-end input").fill("4")
    page.locator("#trim-use input").check()
    ready(page)
    held = get_model(WAN).hold_for(4.0, {})
    expect(estimate).to_contain_text(
        f"≈ {format_credits(held)} for 4.0 s of audio (from 0 s to 4 s of a 65.0 s clip)"
    )
    both_widths(page, "preflight-trim")

    key = studio.api_key()
    job_id = studio.generate()
    assert studio.wait_status("succeeded") == "succeeded"
    client = Client(app.url, verbose=False)
    try:
        statement = client.predict(key, api_name="/credits")["statement"]
    finally:
        client.close()
    holds = [line["held_change"] for line in statement if line["kind"] == "hold" and line["job_id"] == job_id]
    assert holds == [held]


def test_the_api_refuses_a_face_problem_or_a_long_clip_unless_told_what_to_do(
    app: RunningApp, media: dict[str, Path], face: Path, short_voice: Path
) -> None:
    key = app.api_key("browser:preflight-api")
    client = Client(app.url, verbose=False)
    try:
        with pytest.raises(AppError, match=r'\{"use_anyway": true\}'):
            client.predict(key, handle_file(media["gradient"]), handle_file(short_voice), api_name="/start")
        with pytest.raises(
            AppError, match=r'shows 2 faces; pass \{"face": N\}.*right: 1: x=\d+ y=\d+ \d+×\d+ px; 2: '
        ):
            client.predict(key, handle_file(media["group"]), handle_file(short_voice), api_name="/generate")
        with pytest.raises(AppError, match=r'pass \{"trim": \[0, 60\]\} in preflight_json'):
            client.predict(key, handle_file(face), handle_file(media["long"]), api_name="/start")
        with pytest.raises(AppError, match="preflight_json must be a JSON object"):
            client.predict(
                key, handle_file(face), handle_file(short_voice), WAN, "{}", "[2]", api_name="/start"
            )
        assert client.predict(key, api_name="/credits")["statement"][-1]["kind"] == "grant"  # nothing held

        job = client.predict(
            key,
            handle_file(media["group"]),
            handle_file(media["long"]),
            WAN,
            "{}",
            '{"face": 1, "trim": [0, 2.5]}',
            api_name="/generate",
        )
        assert job["status"] == "succeeded" and job["held"] == get_model(WAN).hold_for(2.5, {})
    finally:
        client.close()
