"""The batch endpoints with gradio_client against the launched app: start, status, the zip,
a bad item refused before any hold, cancel, and another owner's batch out of reach."""

from __future__ import annotations

import json
import time
import wave
import zipfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from gradio_client import Client, handle_file
from gradio_client.exceptions import AppError

from tests.ui.conftest import ASSETS, AppFactory, RunningApp

pytestmark = pytest.mark.slow

POLL_S = 0.5
"""How often the test asks /batch_status, as an API caller would."""


@pytest.fixture(scope="module")
def app(start_app: AppFactory) -> RunningApp:
    return start_app()


@pytest.fixture(scope="module")
def clips(tmp_path_factory: pytest.TempPathFactory) -> list[Path]:
    """Three one-second clips of the sample voice."""
    folder = tmp_path_factory.mktemp("clips")
    made = []
    for number in (1, 2, 3):
        out = folder / f"take {number}.wav"
        with wave.open(str(ASSETS / "sample-voice.wav")) as src, wave.open(str(out), "wb") as dst:
            dst.setparams(src.getparams())
            src.readframes(src.getframerate() * (number - 1))
            dst.writeframes(src.readframes(src.getframerate()))
        made.append(out)
    return made


def finished(c: Client, key: str, batch_id: str, timeout_s: float = 120.0) -> dict[str, Any]:
    deadline = time.monotonic() + timeout_s
    while True:
        status = c.predict(key, batch_id, api_name="/batch_status")
        if status["finished"] or time.monotonic() > deadline:
            return status
        time.sleep(POLL_S)


def test_a_batch_runs_to_one_zip_of_videos_and_manifests(
    app: RunningApp, connect: Callable[[RunningApp], Client], face: Path, clips: list[Path]
) -> None:
    key, c = app.api_key("hf:researcher"), connect(app)
    first = c.predict(key, [handle_file(face)], [handle_file(p) for p in clips[:2]], api_name="/batch_start")
    assert [item["clip"] for item in first["items"]] == ["take 1.wav", "take 2.wav"]
    with pytest.raises(AppError, match="No such batch"):
        c.predict(app.api_key("hf:someone-else"), first["batch_id"], api_name="/batch_status")
    with pytest.raises(AppError, match="No item of this batch has a video yet"):
        c.predict(key, first["batch_id"], api_name="/batch_results")
    final = finished(c, key, first["batch_id"])
    assert [item["status"] for item in final["items"]] == ["succeeded", "succeeded"]
    archive = c.predict(key, first["batch_id"], api_name="/batch_results")
    with zipfile.ZipFile(archive) as zipped:
        assert sorted(zipped.namelist()) == ["item-01.json", "item-01.mp4", "item-02.json", "item-02.mp4"]
        assert zipped.read("item-02.mp4")[4:8] == b"ftyp"
        manifest = json.loads(zipped.read("item-02.json"))
    assert (
        manifest["job_id"] == final["items"][1]["job_id"]
        and manifest["credits"]["charged"] == final["items"][1]["charged"]
    )


def test_a_bad_item_is_refused_by_number_and_cancel_drops_what_has_not_started(
    app: RunningApp, connect: Callable[[RunningApp], Client], face: Path, clips: list[Path], tmp_path: Path
) -> None:
    key, c = app.api_key("hf:canceller"), connect(app)
    before = c.predict(key, api_name="/credits")
    not_audio = tmp_path / "notes.wav"
    not_audio.write_text("these are not sounds")
    with pytest.raises(AppError, match=r"Item 2 \(notes\.wav\): "):
        c.predict(
            key, [handle_file(face)], [handle_file(clips[0]), handle_file(not_audio)], api_name="/batch_start"
        )
    with pytest.raises(AppError, match="list of 1 to 20 files"):
        c.predict(key, [handle_file(face)], [handle_file(clips[0])] * 21, api_name="/batch_start")
    assert c.predict(key, api_name="/credits")["statement"] == before["statement"]

    first = c.predict(key, [handle_file(face)], [handle_file(p) for p in clips], api_name="/batch_start")
    canceled = c.predict(key, first["batch_id"], api_name="/batch_cancel")
    assert canceled["canceled"] and canceled["items"][2]["status"] == "dropped"
    assert canceled["items"][2]["job_id"] is None
    final = finished(c, key, first["batch_id"])
    assert final["finished"] and all(item["status"] in ("canceled", "dropped") for item in final["items"])
    assert c.predict(key, api_name="/credits")["open_holds"] == []
