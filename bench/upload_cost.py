"""What an upload of the sample face and voice costs the app: CPU per upload, on the event loop
and in the whole process, and the loop's lag while uploads arrive.

    python -m bench.upload_cost                  # 300 uploads, 50 a second
    python -m bench.upload_cost --uploads 1000 --rate 50

The app runs as a Space runs it (`python app.py`, built-in engine; no job is started). Each
upload is one `POST /gradio_api/upload` carrying both files, as the page sends them. CPU time is
read per thread from /proc before and after: the busiest thread is the event loop's (uvicorn's
thread), the rest are Gradio's worker threads and the writers. CPU time, unlike wall time,
hardly depends on what else the machine runs.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import sys
import tempfile
import time
from pathlib import Path

import httpx

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from bench._crowd_report import percentile, read_loop_lag  # noqa: E402
from bench._queue import FACE, VOICE, free_port, start_app, stop  # noqa: E402


def thread_cpu(pid: int) -> dict[int, float]:
    """CPU seconds (user + system) of each thread of `pid`."""
    ticks = os.sysconf("SC_CLK_TCK")
    seconds = {}
    for task in Path(f"/proc/{pid}/task").iterdir():
        try:
            fields = (task / "stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue  # the thread ended meanwhile
        seconds[int(task.name)] = (int(fields[11]) + int(fields[12])) / ticks
    return seconds


async def send(url: str, uploads: int, rate: float) -> int:
    """`uploads` uploads started `rate` a second; how many failed."""
    face, voice = FACE.read_bytes(), VOICE.read_bytes()
    files = [("files", (FACE.name, face, "image/png")), ("files", (VOICE.name, voice, "audio/wav"))]
    limits = httpx.Limits(max_connections=200, max_keepalive_connections=50)
    async with httpx.AsyncClient(base_url=url, timeout=120, limits=limits) as http:

        async def one(delay: float) -> bool:
            await asyncio.sleep(delay)
            response = await http.post("gradio_api/upload", files=files)
            return response.status_code == 200

        results = await asyncio.gather(*(one(i / rate) for i in range(uploads)), return_exceptions=True)
    return sum(result is not True for result in results)


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--uploads", type=int, default=300)
    parser.add_argument("--rate", type=float, default=50.0)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="bench-upload-") as work:
        port = free_port()
        lag_log = Path(work) / "loop-lag.txt"
        env = {
            **{k: v for k, v in os.environ.items() if not k.startswith(("LIPSYNC_", "REPLICATE_"))},
            "GRADIO_ANALYTICS_ENABLED": "False",
            "GRADIO_SERVER_PORT": str(port),
            "LIPSYNC_DATA_DIR": str(Path(work) / "data"),
            "LIPSYNC_TRUSTED_PROXY_HOPS": "0",
            "LIPSYNC_UPLOAD_MB_PER_ADDRESS_PER_HOUR": str(2 * args.uploads + 100),
            "LIPSYNC_MAX_UPLOAD_DISK_MB": str(2 * args.uploads + 500),
            "LIPSYNC_LOOP_LAG_LOG": str(lag_log),
        }
        app = start_app(env, port, Path(work) / "app.log")
        try:
            before = thread_cpu(app.pid)
            began = time.time()
            failed = asyncio.run(send(f"http://127.0.0.1:{port}/", args.uploads, args.rate))
            ended = time.time()
            after = thread_cpu(app.pid)
        finally:
            stop(app)
        used = {tid: after[tid] - before.get(tid, 0.0) for tid in after}
        loop_tid = max(used, key=lambda tid: used[tid])
        lags = read_loop_lag(lag_log, began, ended)
    per = 1000 / max(1, args.uploads)
    size = (FACE.stat().st_size + VOICE.stat().st_size) / 1e6
    print(f"{args.uploads} uploads of {size:.2f} MB, {args.rate:g}/s: {failed} failed, {ended - began:.1f} s")
    print(f"event loop's thread: {used[loop_tid] * per:.2f} ms CPU per upload")
    print(f"whole process: {sum(used.values()) * per:.2f} ms CPU per upload")
    p50, p99 = percentile(lags, 0.5), percentile(lags, 0.99)
    print(f"loop lag while they arrived: p50 {p50:.1f} ms, p99 {p99:.1f} ms")


if __name__ == "__main__":
    main()
