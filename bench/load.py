"""A thousand visitors waiting: does the server stay responsive while it follows all their jobs?

    python -m bench.load                  # 1000 visitors, each with a job and a watching page
    python -m bench.load --visitors 200

Every visitor starts one job on the in-process engine (the app's offline default), scripted to
keep running (`stall`), and watches it the way the page does (a snapshot per change).
Meanwhile a ticker measures the event loop's lag, and status reads are timed. Printed:
start() latency, loop lag, status-read latency, upstream reads per second, and memory.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import resource
import statistics
import tempfile
import time
import wave
from pathlib import Path

from demo_app.credits import Ledger
from demo_app.engine import Engine
from demo_app.jobs import JobManager, JobStatus
from demo_app.services import LocalEngine, open_services
from demo_app.settings import Settings

ROOT = Path(__file__).resolve().parents[1]
TOKEN = "r8_bench_load"
MODEL = "wan-video/wan-2.2-s2v"


def pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(len(ordered) * q))]


def clip(src: Path, dest: Path, seconds: float) -> Path:
    with wave.open(str(src)) as r, wave.open(str(dest), "wb") as w:
        w.setparams(r.getparams())
        w.writeframes(r.readframes(int(r.getframerate() * seconds)))
    return dest


async def ticker(lags: list[float], stop: asyncio.Event, period: float = 0.05) -> None:
    """How late the loop wakes a task that asked to sleep `period`: the lag every handler feels."""
    while not stop.is_set():
        t0 = time.perf_counter()
        await asyncio.sleep(period)
        lags.append(time.perf_counter() - t0 - period)


async def watch(jobs: JobManager, owner: str, job_id: str, updates: list[int], stop: asyncio.Event) -> None:
    """One open page: follows the job's snapshots, one per change, like the UI."""
    count = 0
    async for _snap in jobs.subscribe(owner, job_id):
        count += 1
        if stop.is_set():
            break
    updates.append(count)


async def until_processing(jobs: JobManager, owner: str, job_id: str) -> None:
    async for snap in jobs.subscribe(owner, job_id):
        if snap.status is JobStatus.PROCESSING or snap.terminal:
            return


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--visitors", type=int, default=1000)
    parser.add_argument("--hold-s", type=float, default=30.0, help="how long to measure once all are running")
    args = parser.parse_args()
    n = args.visitors
    with tempfile.TemporaryDirectory() as tmp_name:
        tmp = Path(tmp_name)
        face = ROOT / "assets" / "sample-face.png"
        voice = clip(ROOT / "assets" / "sample-voice.wav", tmp / "voice.wav", 3.0)
        engine = Engine(token=TOKEN, data_dir=tmp / "engine", scenario="stall")
        await engine.start()
        settings = Settings(
            _env_file=None,
            data_dir=tmp / "data",
            starting_grant=1000,
            daily_budget=10**12,
            max_jobs_total=n + 10,
            job_timeout_s=3600,
        )
        async with open_services(settings, engine=LocalEngine(engine, TOKEN)) as app:
            await measure(app.jobs, app.ledger, engine, settings, n, args.hold_s, face, voice)
        await engine.aclose()


async def measure(
    jobs: JobManager,
    ledger: Ledger,
    engine: Engine,
    settings: Settings,
    n: int,
    hold_s: float,
    face: Path,
    voice: Path,
) -> None:
    """Start n jobs with a watcher each, then measure while all are followed."""

    stop = asyncio.Event()
    lags: list[float] = []
    tick = asyncio.create_task(ticker(lags, stop))
    updates: list[int] = []
    watchers = []
    start_lat = []
    owners = [f"browser:visitor{i:04d}" for i in range(n)]
    t_all = time.perf_counter()
    for owner in owners:
        await ledger.open_account(owner)
        t0 = time.perf_counter()
        snap = await jobs.start(owner, str(face), str(voice), MODEL, {})
        start_lat.append(time.perf_counter() - t0)
        watchers.append(asyncio.create_task(watch(jobs, owner, snap.job_id, updates, stop)))
    ids = [(h.owner, h.job_id) for owner in owners for h in jobs.history(owner)]
    await asyncio.gather(*(until_processing(jobs, owner, job_id) for owner, job_id in ids))
    ramp_s = time.perf_counter() - t_all
    ramp_lags = list(lags)

    lags.clear()
    reads_before = sum(v for (m, r), v in engine.requests.items() if m == "GET")
    status_lat = []
    t_hold = time.perf_counter()
    while time.perf_counter() - t_hold < hold_s:
        for owner, job_id in ids[:: max(1, n // 50)]:
            t0 = time.perf_counter()
            jobs.snapshot(owner, job_id)
            status_lat.append(time.perf_counter() - t0)
        await asyncio.sleep(0.2)
    held_s = time.perf_counter() - t_hold
    reads = sum(v for (m, r), v in engine.requests.items() if m == "GET") - reads_before

    stop.set()
    for task in [*watchers, tick]:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task
    rss_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"{n} visitors, each with a running job and a watching page")
    print(
        f"  start() latency:        p50 {statistics.median(start_lat) * 1e3:.1f} ms, "
        f"p99 {pct(start_lat, 0.99) * 1e3:.1f} ms"
    )
    print(
        f"  all {n} jobs processing after {ramp_s:.1f} s; loop lag during the ramp p99 "
        f"{pct(ramp_lags, 0.99) * 1e3:.1f} ms, max {max(ramp_lags) * 1e3:.1f} ms"
    )
    print(f"  while all {n} are followed ({held_s:.0f} s):")
    print(
        f"    event-loop lag       p50 {statistics.median(lags) * 1e3:.1f} ms, "
        f"p99 {pct(lags, 0.99) * 1e3:.1f} ms, max {max(lags) * 1e3:.1f} ms"
    )
    print(
        f"    status read          p50 {statistics.median(status_lat) * 1e6:.0f} µs, "
        f"p99 {pct(status_lat, 0.99) * 1e6:.0f} µs"
    )
    print(f"    upstream reads       {reads / held_s:.1f}/s (budget {settings.reads_per_min / 60:g}/s)")
    print(f"  peak memory (RSS)      {rss_mb:.0f} MiB")


if __name__ == "__main__":
    asyncio.run(main())
