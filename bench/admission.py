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
import os
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

from bench._queue import FACE, MODEL, VOICE, event_messages, fn_index, free_port, start_app, stop, upload  # noqa: E402
from demo_app.settings import Settings  # noqa: E402
from demo_app.visitors import KeyRing  # noqa: E402


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
        fn = await fn_index(http, "start")

        async def start(index: int) -> float:
            image, audio = files[index]
            key = keys.key_for(f"browser:broke-{index:04d}")
            began = time.perf_counter()
            async for _, _message in event_messages(
                http, fn, [key, image, audio, MODEL, "{}", "{}"], f"bench{index:04d}"
            ):
                pass
            return time.perf_counter() - began

        return list(await asyncio.gather(*(start(i) for i in range(len(files)))))


def serve(settings: Settings) -> subprocess.Popen[bytes]:
    """`python app.py` with these settings, once it answers on its port."""
    env = {
        **os.environ,
        "GRADIO_SERVER_PORT": str(settings.server_port),
        "LIPSYNC_DATA_DIR": str(settings.data_dir),
        "LIPSYNC_STARTING_GRANT": "0",
        "GRADIO_ANALYTICS_ENABLED": "False",
        "REPLICATE_API_TOKEN": "",
    }
    return start_app(env, settings.server_port)


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
    stop(app, 30)
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
