"""Memory per waiting visitor: the app's resident size with N visitors following running jobs.

The app runs as its own process (`python app.py`, as a Space runs it) on the built-in engine,
scripted to keep every prediction running (`stall`). Each visitor uploads the sample face and
voice the way the page does (`/gradio_api/upload`), joins Gradio's queue on `/generate` with its
own API key and reads the event stream until its job is `processing`, then keeps the stream
open. The app's RSS is read from /proc before the visitors come (after one warm-up visitor) and
once all wait; the difference over N is the memory each waiting visitor costs. VmHWM is the
peak. The built-in engine runs inside the app process, so its own records count too (on
Replicate they would not).

    python -m bench.visitor_memory [--visitors 200] [--inline-max 262144]

`--inline-max` sets LIPSYNC_INLINE_INPUT_MAX_BYTES (262144 reproduces inputs sent as data:
URLs up to 256 KiB, the rule before the Files API took them).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from bench.admission import free_port  # noqa: E402
from demo_app.visitors import KeyRing  # noqa: E402

MODEL = "wan-video/wan-2.2-s2v"
FACE = REPO / "assets" / "sample-face.png"
VOICE = REPO / "assets" / "sample-voice.wav"


def memory_kib(pid: int) -> dict[str, int]:
    """VmRSS and VmHWM (peak) of a process, in KiB, and its thread count."""
    fields = {}
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        name, _, value = line.partition(":")
        if name in ("VmRSS", "VmHWM", "Threads"):
            fields[name] = int(value.split()[0])
    return fields


def serve(port: int, data_dir: Path, visitors: int, inline_max: int | None) -> subprocess.Popen[bytes]:
    """`python app.py` with limits wide enough for every visitor to run one job at once."""
    env = {
        **os.environ,
        "GRADIO_SERVER_PORT": str(port),
        "GRADIO_ANALYTICS_ENABLED": "False",
        "LIPSYNC_DATA_DIR": str(data_dir),
        "LIPSYNC_ENGINE_SCENARIO": "stall",
        "LIPSYNC_STARTING_GRANT": "1000",
        "LIPSYNC_DAILY_BUDGET": str(10**9),
        "LIPSYNC_MAX_JOBS_TOTAL": str(visitors + 10),
        "LIPSYNC_JOB_TIMEOUT_S": "3600",
    }
    if inline_max is not None:
        env["LIPSYNC_INLINE_INPUT_MAX_BYTES"] = str(inline_max)
    env.pop("REPLICATE_API_TOKEN", None)
    app = subprocess.Popen(
        [sys.executable, str(REPO / "app.py")], env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        try:
            if httpx.get(f"http://127.0.0.1:{port}/", timeout=1).status_code == 200:
                return app
        except httpx.HTTPError:
            time.sleep(0.2)  # the server is still starting; nothing to await from another process
    app.kill()
    raise SystemExit("the app did not start within 120 s")


async def visitor(
    http: httpx.AsyncClient,
    fn_index: int,
    key: str,
    session: str,
    processing: asyncio.Event,
    done: asyncio.Event,
) -> int:
    """Upload, join /generate, read until `processing`, then hold the stream open until `done`.
    Returns the number of snapshots the stream delivered."""
    files = [("files", (FACE.name, FACE.read_bytes())), ("files", (VOICE.name, VOICE.read_bytes()))]
    response = await http.post("gradio_api/upload", files=files)
    response.raise_for_status()
    meta = {"_type": "gradio.FileData"}
    image, audio = ({"path": path, "meta": meta} for path in response.json())
    body = {"data": [key, image, audio, MODEL, "{}", "{}"], "fn_index": fn_index, "session_hash": session}
    (await http.post("gradio_api/queue/join", json=body)).raise_for_status()
    snapshots = 0
    async with http.stream("GET", "gradio_api/queue/data", params={"session_hash": session}) as events:
        lines = events.aiter_lines()
        async for line in lines:
            if not line.startswith("data:"):
                continue
            message = json.loads(line[5:])
            if message.get("msg") in ("process_generating", "process_completed"):
                snapshots += 1
                output = message.get("output", {})
                if not message.get("success", True) or output.get("error"):
                    raise RuntimeError(f"{session}: {output.get('error') or message}")
                if _status(output.get("data") or []) == "processing":
                    break
        processing.set()
        await done.wait()
    return snapshots


def _status(data: list[object]) -> str | None:
    """The snapshot's status in a stream message: the first is whole, later ones are Gradio's diffs
    (`["replace", ["status"], "processing"]`)."""
    if not data:
        return None
    value = data[-1]
    if isinstance(value, dict):
        return value.get("status")
    for op in value if isinstance(value, list) else []:
        if isinstance(op, list) and len(op) == 3 and op[1] == ["status"]:
            return str(op[2])
    return None


async def drive(url: str, keys: KeyRing, pid: int, visitors: int) -> None:
    # A fresh connection per request: a pooled one that the server closes meanwhile would fail a join.
    limits = httpx.Limits(max_connections=visitors * 2 + 10, max_keepalive_connections=0)
    async with httpx.AsyncClient(base_url=url, timeout=300, limits=limits) as http:
        config = (await http.get("config")).json()
        fn_index = next(dep["id"] for dep in config["dependencies"] if dep.get("api_name") == "generate")
        done = asyncio.Event()

        async def one(name: str) -> tuple[asyncio.Task[int], asyncio.Event]:
            ready = asyncio.Event()
            key = keys.key_for(f"browser:{name}")
            task = asyncio.create_task(visitor(http, fn_index, key, name, ready, done))
            return task, ready

        warm, warm_ready = await one("warmup")
        await warm_ready.wait()
        await asyncio.sleep(2.0)  # let the warm-up's allocations settle before the baseline
        before = memory_kib(pid)
        began = time.perf_counter()
        started = [await one(f"visitor{i:04d}") for i in range(visitors)]
        waiting = asyncio.gather(*(ready.wait() for _, ready in started))
        failed = asyncio.gather(*(task for task, _ in started))
        finished, _ = await asyncio.wait(
            [asyncio.ensure_future(waiting), failed], return_when=asyncio.FIRST_COMPLETED
        )
        if failed in finished:
            failed.result()  # raises the visitor's error
        joined_s = time.perf_counter() - began
        samples = []
        for _ in range(5):
            await asyncio.sleep(1.0)  # sampled over a few seconds of every job being followed
            samples.append(memory_kib(pid)["VmRSS"])
        after = memory_kib(pid)
        done.set()
        counts = await asyncio.gather(warm, *(task for task, _ in started))
    rss = statistics.median(samples)
    per = (rss - before["VmRSS"]) / visitors
    print(f"visitors waiting: {visitors} (all processing after {joined_s:.1f} s)")
    print(f"app RSS before: {before['VmRSS'] / 1024:.0f} MiB, with them waiting: {rss / 1024:.0f} MiB")
    print(f"per waiting visitor: {per:.0f} KiB ({per / 1024:.2f} MiB)")
    print(f"peak (VmHWM): {after['VmHWM'] / 1024:.0f} MiB")
    print(f"threads: {before['Threads']} before, {after['Threads']} with them waiting")
    print(f"snapshots per visitor until processing: median {statistics.median(counts[1:]):.0f}")


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--visitors", type=int, default=200)
    parser.add_argument("--inline-max", type=int, default=None, help="LIPSYNC_INLINE_INPUT_MAX_BYTES")
    args = parser.parse_args()
    data_dir = Path(tempfile.mkdtemp(prefix="bench-memory-"))
    port = free_port()
    app = serve(port, data_dir, args.visitors, args.inline_max)
    try:
        keys = KeyRing.from_file(data_dir / "api-key-secret")
        asyncio.run(drive(f"http://127.0.0.1:{port}/", keys, app.pid, args.visitors))
    finally:
        app.terminate()
        app.wait(30)


if __name__ == "__main__":
    main()
