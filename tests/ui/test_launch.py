"""`python app.py`, exactly as the README says, answers on its port and names its engine first."""

from __future__ import annotations

import os
import queue
import signal
import subprocess
import sys
import threading
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.ui.conftest import REPO, free_port

pytestmark = pytest.mark.slow

README_COMMAND = "python app.py"


def test_readme_names_this_command() -> None:
    assert README_COMMAND in (REPO / "README.md").read_text(encoding="utf-8").split("\n## ", 1)[0]


@pytest.fixture
def app_process(tmp_path: Path) -> Iterator[tuple[subprocess.Popen[str], queue.Queue[str], int]]:
    port = free_port()
    env = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith("LIPSYNC_") and key != "REPLICATE_API_TOKEN"
    }
    env.update(
        GRADIO_SERVER_PORT=str(port),
        LIPSYNC_DATA_DIR=str(tmp_path / "data"),
        GRADIO_ANALYTICS_ENABLED="False",
        PYTHONUNBUFFERED="1",
    )
    argv = [sys.executable, *README_COMMAND.split()[1:]]
    process = subprocess.Popen(
        argv, cwd=REPO, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True
    )
    lines: queue.Queue[str] = queue.Queue()

    def pump() -> None:
        assert process.stdout is not None
        for line in process.stdout:
            lines.put(line.rstrip("\n"))

    threading.Thread(target=pump, daemon=True).start()
    yield process, lines, port
    process.send_signal(signal.SIGINT)
    try:
        process.wait(timeout=30)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()


def test_python_app_py_serves_the_page_and_logs_its_engine_first(
    app_process: tuple[subprocess.Popen[str], queue.Queue[str], int],
) -> None:
    process, lines, port = app_process
    seen: list[str] = []
    while not any(f":{port}" in line for line in seen):
        try:
            seen.append(lines.get(timeout=60))
        except queue.Empty:
            pytest.fail(f"app.py never said it was listening; it printed: {seen}, exit code {process.poll()}")
    assert "using the built-in offline engine (no REPLICATE_API_TOKEN set)" in seen[0]

    page = httpx.get(f"http://127.0.0.1:{port}/", timeout=30)
    assert page.status_code == 200
    assert "gradio" in page.text.lower()
    config = httpx.get(f"http://127.0.0.1:{port}/config", timeout=30).json()
    assert config["title"] == "Lipsync Studio"
    assert "Built-in offline engine — no REPLICATE_API_TOKEN set" in str(config["components"])
