"""The hostile-input corpus through the launched app: each file uploaded and sent to the API's
`/generate` and to the page's Generate event, as an attacker would.

Each case must end in its refusal sentence, with nothing held, nothing sent to the model service
(here a loopback engine standing in for Replicate, so its request counts are visible), no request
to the canary the files point at, and the app's memory growth (its process and every child: the
media workers) under 200 MiB, measured by the kernel's peak-RSS counters reset before each case.
"""

from __future__ import annotations

import html
import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from gradio_client import Client, handle_file
from gradio_client.exceptions import AppError

from demo_app.engine import CREATE_FILE, CREATES
from tests.conftest import ENGINE_TOKEN, LoopbackFactory
from tests.media.canary import canary_server
from tests.media.hostile import CASES
from tests.ui.conftest import AppFactory
from tests.ui.raw import RawSession
from tests.ui.test_hostile import META, page_args

pytestmark = pytest.mark.slow

MODEL = "wan-video/wan-2.2-s2v"
MEMORY_BOUND = 200 * 1024 * 1024


def process_tree(pid: int) -> list[int]:
    """`pid` and all its descendants (the app runs in this process; media workers are children)."""
    found = [pid]
    for task in Path(f"/proc/{pid}/task").iterdir():
        children = (task / "children").read_text().split()
        for child in children:
            found.extend(process_tree(int(child)))
    return found


def _status_kib(pid: int, field: str) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1])
    return 0


class PeakMeter:
    """Peak memory growth of a process tree since `reset()`, from the kernel's VmHWM."""

    def __init__(self, root: int) -> None:
        self.root = root
        self.baseline: dict[int, int] = {}

    def reset(self) -> None:
        self.baseline = {}
        for pid in process_tree(self.root):
            try:
                Path(f"/proc/{pid}/clear_refs").write_text("5")  # resets VmHWM to the current RSS
                self.baseline[pid] = _status_kib(pid, "VmRSS") * 1024
            except OSError:
                continue  # the process ended meanwhile

    def growth(self) -> int:
        """The largest growth of any one process (a new process counts from zero)."""
        worst = 0
        for pid in process_tree(self.root):
            try:
                peak = _status_kib(pid, "VmHWM") * 1024
            except OSError:
                continue
            worst = max(worst, peak - self.baseline.get(pid, 0))
        return worst


@pytest.fixture
def engine(loopback_engine: LoopbackFactory) -> Iterator[Any]:
    with loopback_engine("normal") as server:
        yield server


def test_every_hostile_file_is_refused_by_the_api_and_the_page(
    start_app: AppFactory, engine: Any, tmp_path: Path
) -> None:
    app = start_app(replicate_api_token=ENGINE_TOKEN, replicate_base_url=engine.base_url)
    client = Client(app.url, verbose=False)
    key = app.api_key("browser:attacker")
    page = RawSession(app)
    assert page.join("page_load", [None]).output is not None
    face = Path(__file__).parents[2] / "assets" / "sample-face.png"
    voice = Path(__file__).parents[2] / "assets" / "sample-voice.wav"
    meter = PeakMeter(os.getpid())
    worst: tuple[int, str] = (0, "")
    try:
        with canary_server() as canary:
            for case in CASES:
                path = case.write(tmp_path, canary.url)
                image, audio = (path, voice) if case.kind == "image" else (face, path)
                meter.reset()
                files = handle_file(image), handle_file(audio)
                if case.code == "audio_too_long":
                    # The API's pre-flight refuses a too-long clip before any job, naming the trim.
                    with pytest.raises(AppError, match="preflight_json"):
                        client.predict(key, *files, MODEL, "{}", api_name="/generate")
                    continue
                final = client.predict(key, *files, MODEL, "{}", api_name="/generate")
                assert final["status"] == "rejected", (case.name, final)
                sentence = final["message"]
                assert _one_sentence(sentence), (case.name, sentence)
                uploaded = _upload(page, image, audio)
                answer = page.join("page_generate", page_args(page, "page_generate", **uploaded))
                assert answer.error is None, (case.name, answer.error)
                assert html.escape(sentence, quote=False) in str(answer.output), (case.name, sentence)
                growth = meter.growth()
                assert growth < MEMORY_BOUND, (case.name, growth)
                worst = max(worst, (growth, case.name))
            assert canary.requests == [], canary.requests
        credits = client.predict(key, api_name="/credits")
        assert credits["open_holds"] == []
        assert [line for line in credits["statement"] if line["kind"] == "hold"] == []
        assert sum(engine.engine.requests[route] for route in (*CREATES, CREATE_FILE)) == 0
    finally:
        page.close()
        client.close()
    print(f"worst memory growth over the corpus: {worst[0] / 2**20:.1f} MiB ({worst[1]})")


def _upload(page: RawSession, image: Path, audio: Path) -> dict[str, Any]:
    """Upload both files the way the page's components do; the page's file values."""
    with image.open("rb") as face, audio.open("rb") as voice:
        response = page.http.post(
            "/gradio_api/upload", files=[("files", (image.name, face)), ("files", (audio.name, voice))]
        )
    response.raise_for_status()
    paths = response.json()
    return {
        "image": {"path": paths[0], "orig_name": image.name, "meta": META},
        "audio": {"path": paths[1], "orig_name": audio.name, "meta": META},
    }


def _one_sentence(text: str) -> bool:
    return bool(text) and "\n" not in text and "Traceback" not in text and text.rstrip().endswith((".", "!"))
