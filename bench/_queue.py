"""Talking to a launched app the way its page does: uploads, then Gradio's queue protocol.

Shared by the benchmarks that start `python app.py` in its own process: a free port, starting
the app (and waiting until it answers), uploading the sample files, finding an endpoint's
fn_index, and one event's messages (join, then the session's event stream), each stamped with
the moment it arrived.
"""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import AsyncIterator, Mapping
from pathlib import Path
from typing import Any

import httpx

REPO = Path(__file__).resolve().parents[1]
FACE = REPO / "assets" / "sample-face.png"
VOICE = REPO / "assets" / "sample-voice.wav"
MODEL = "wan-video/wan-2.2-s2v"
START_TIMEOUT_S = 120.0

FileValue = dict[str, Any]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def start_app(env: Mapping[str, str], port: int, log: Path | None = None) -> subprocess.Popen[bytes]:
    """`python app.py` with exactly `env`, once it answers on `port`; its output goes to `log`."""
    with log.open("ab") if log is not None else open(os.devnull, "wb") as out:
        app = subprocess.Popen(
            [sys.executable, str(REPO / "app.py")],
            env=dict(env),
            cwd=REPO,
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    wait_until_up(f"http://127.0.0.1:{port}/", app)
    return app


def wait_until_up(
    url: str, process: subprocess.Popen[bytes], headers: Mapping[str, str] | None = None
) -> None:
    """Return once `url` answers 200; stop `process` and exit if it never does."""
    deadline = time.monotonic() + START_TIMEOUT_S
    while time.monotonic() < deadline and process.poll() is None:
        try:
            if httpx.get(url, headers=headers, timeout=1).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.2)  # the server is still starting; nothing to await from another process
    process.kill()
    raise SystemExit(f"{url} did not answer within {START_TIMEOUT_S:.0f} s (exit code {process.poll()})")


def stop(process: subprocess.Popen[bytes], timeout_s: float = 60.0) -> None:
    """Ctrl-C, as an operator stops it (the lifespan closes the ledger); killed if it hangs."""
    if process.poll() is None:
        process.send_signal(signal.SIGINT)
        try:
            process.wait(timeout_s)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def file_values(names: list[str]) -> list[FileValue]:
    """Uploaded paths as the file values an endpoint takes."""
    return [{"path": name, "meta": {"_type": "gradio.FileData"}} for name in names]


def upload(url: str) -> tuple[FileValue, FileValue]:
    """The sample face and voice uploaded the way the page does; their file values."""
    with FACE.open("rb") as face, VOICE.open("rb") as voice:
        response = httpx.post(
            url + "gradio_api/upload", files=[("files", (FACE.name, face)), ("files", (VOICE.name, voice))]
        )
    response.raise_for_status()
    image, audio = file_values(response.json())
    return image, audio


async def upload_async(http: httpx.AsyncClient, face: bytes, voice: bytes) -> tuple[FileValue, FileValue]:
    """As `upload`, on a shared async client, with the files' bytes read once by the caller."""
    files = [("files", (FACE.name, face, "image/png")), ("files", (VOICE.name, voice, "audio/wav"))]
    response = await http.post("gradio_api/upload", files=files)
    response.raise_for_status()
    image, audio = file_values(response.json())
    return image, audio


async def fn_index(http: httpx.AsyncClient, api_name: str) -> int:
    """The fn_index of the endpoint named `api_name` in the app's config."""
    config = (await http.get("config")).json()
    return int(next(dep["id"] for dep in config["dependencies"] if dep.get("api_name") == api_name))


async def event_messages(
    http: httpx.AsyncClient, fn: int, data: list[Any], session: str
) -> AsyncIterator[tuple[float, dict[str, Any]]]:
    """Join the queue with one event, then its messages (arrival time.time(), message) to the end."""
    body = {"data": data, "fn_index": fn, "session_hash": session}
    (await http.post("gradio_api/queue/join", json=body)).raise_for_status()
    async with http.stream("GET", "gradio_api/queue/data", params={"session_hash": session}) as events:
        async for line in events.aiter_lines():
            if not line.startswith("data:"):
                continue
            message = json.loads(line[5:])
            yield time.time(), message
            if message.get("msg") == "process_completed":
                return
    raise RuntimeError("the event stream ended without an answer")
