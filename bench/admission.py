"""Owners with no credits starting at once: how soon each gets its refusal, through the public API.

The app runs as its own process (`python app.py`, as a Space runs it) on the built-in engine
with no starting grant; N API keys (N owners with
0 credits) each call `/start` at the same moment with the sample face and voice through
`gradio_client`, as a researcher's script would: the whole `predict()`, its two uploads
included. Then the same owners call `/start` over Gradio's queue protocol directly (join +
event stream, one new session each, files uploaded before), which leaves out the client's own
overhead: what the server takes per refusal. Also whether any media work happened.

    python bench/admission.py [--owners 40]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from gradio_client import Client, handle_file  # noqa: E402

from demo_app.settings import Settings  # noqa: E402
from demo_app.visitors import KeyRing  # noqa: E402

MODEL = "wan-video/wan-2.2-s2v"
FACE = REPO / "assets" / "sample-face.png"
VOICE = REPO / "assets" / "sample-voice.wav"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def race(
    clients: list[Client], keys: KeyRing, files: Callable[[int], tuple[Any, Any]]
) -> tuple[list[float], list[str]]:
    """Every client calls /start at the same moment; each call's wall time and answer."""
    barrier = threading.Barrier(len(clients))
    times: list[float] = []
    answers: list[str] = []

    def start(index: int) -> None:
        key = keys.key_for(f"browser:broke-{index:04d}")
        image, audio = files(index)
        barrier.wait()
        began = time.perf_counter()
        try:
            clients[index].predict(key, image, audio, api_name="/start")
            answers.append("started")
        except Exception as exc:  # the refusal arrives as gradio_client's AppError
            answers.append(str(exc))
        times.append(time.perf_counter() - began)

    threads = [threading.Thread(target=start, args=(i,)) for i in range(len(clients))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return times, answers


async def race_raw(url: str, keys: KeyRing, files: list[tuple[Any, Any]]) -> list[float]:
    """Every owner's /start at once over the queue protocol; each refusal's wall time."""
    limits = httpx.Limits(max_connections=len(files) * 2)
    async with httpx.AsyncClient(base_url=url, timeout=120, limits=limits) as http:
        config = (await http.get("config")).json()
        fn_index = next(dep["id"] for dep in config["dependencies"] if dep.get("api_name") == "start")

        async def start(index: int) -> float:
            session = f"bench{index:04d}"
            image, audio = files[index]
            key = keys.key_for(f"browser:broke-{index:04d}")
            body = {"data": [key, image, audio, MODEL, "{}"], "fn_index": fn_index, "session_hash": session}
            began = time.perf_counter()
            (await http.post("gradio_api/queue/join", json=body)).raise_for_status()
            stream = http.stream("GET", "gradio_api/queue/data", params={"session_hash": session})
            async with stream as events:
                async for line in events.aiter_lines():
                    if line.startswith("data:") and json.loads(line[5:]).get("msg") == "process_completed":
                        return time.perf_counter() - began
            raise RuntimeError("the event stream ended without an answer")

        return list(await asyncio.gather(*(start(i) for i in range(len(files)))))


def upload(url: str) -> tuple[dict[str, Any], dict[str, Any]]:
    """The two sample files uploaded the way the page does; their file values for the API."""
    with FACE.open("rb") as face, VOICE.open("rb") as voice:
        response = httpx.post(
            url + "gradio_api/upload", files=[("files", (FACE.name, face)), ("files", (VOICE.name, voice))]
        )
    response.raise_for_status()
    image, audio = response.json()
    meta = {"_type": "gradio.FileData"}
    return {"path": image, "meta": meta}, {"path": audio, "meta": meta}


def serve(settings: Settings) -> subprocess.Popen[bytes]:
    """`python app.py` with these settings, once it answers on its port."""
    env = {
        **os.environ,
        "GRADIO_SERVER_PORT": str(settings.server_port),
        "LIPSYNC_DATA_DIR": str(settings.data_dir),
        "LIPSYNC_STARTING_GRANT": "0",
        "GRADIO_ANALYTICS_ENABLED": "False",
    }
    env.pop("REPLICATE_API_TOKEN", None)
    app = subprocess.Popen(
        [sys.executable, str(REPO / "app.py")], env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        try:
            if httpx.get(f"http://127.0.0.1:{settings.server_port}/", timeout=1).status_code == 200:
                return app
        except httpx.HTTPError:
            time.sleep(0.2)  # the server is still starting; nothing to await from another process
    app.kill()
    raise SystemExit("the app did not start within 120 s")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--owners", type=int, default=40)
    args = parser.parse_args()
    data_dir = Path(tempfile.mkdtemp(prefix="bench-admission-"))
    port = free_port()
    settings = Settings(
        _env_file=None,  # type: ignore[call-arg]
        data_dir=data_dir,
        server_port=port,
        replicate_api_token=None,
        starting_grant=0,
    )
    url = f"http://127.0.0.1:{port}/"
    app = serve(settings)
    keys = KeyRing.from_file(data_dir / "api-key-secret")
    clients = [Client(url, verbose=False) for _ in range(args.owners)]
    whole, answers = race(clients, keys, lambda i: (handle_file(str(FACE)), handle_file(str(VOICE))))
    uploaded = [upload(url) for _ in range(args.owners)]
    raw = asyncio.run(race_raw(url, keys, uploaded))
    single = asyncio.run(race_raw(url, keys, uploaded[:1]))
    inputs = data_dir / "inputs"
    media_work = inputs.exists() and any(inputs.iterdir())
    app.terminate()
    app.wait(30)
    refused = sum("credits" in answer for answer in answers)
    print(f"owners: {args.owners}, refused naming their credits: {refused}, media work done: {media_work}")
    for label, times in (
        (f"{args.owners} at once through gradio_client, uploads included", whole),
        (f"{args.owners} at once over the queue protocol, files uploaded before", raw),
        ("one alone over the queue protocol", single),
    ):
        print(
            f"refusal time, {label}: p50 {statistics.median(times) * 1000:.0f} ms, "
            f"max {max(times) * 1000:.0f} ms"
        )
    print(f"example: {answers[0]}")


if __name__ == "__main__":
    main()
