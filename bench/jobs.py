"""Job manager figures: time from start() to the first snapshot, and upstream requests per prediction.

    python -m bench.jobs                 # 200 starts, then one job whose prediction runs ~60 s
    python -m bench.jobs --long-s 20     # a shorter long job

The engine runs in-process (the app's offline default); requests are counted on the engine's side.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import statistics
import tempfile
import time
import wave
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

from demo_app.engine import Engine
from demo_app.services import LocalEngine, Services, open_services
from demo_app.settings import Settings

ROOT = Path(__file__).resolve().parents[1]
TOKEN = "r8_bench"


def clip(src: Path, dest: Path, seconds: float) -> Path:
    with wave.open(str(src)) as r, wave.open(str(dest), "wb") as w:
        w.setparams(r.getparams())
        w.writeframes(r.readframes(int(r.getframerate() * seconds)))
    return dest


@contextlib.asynccontextmanager
async def app_on_engine(tmp: Path, name: str, scenario: str, **settings: Any) -> AsyncIterator[Services]:
    """The app as `open_services` assembles it, on a built-in engine whose requests we count."""
    engine = Engine(token=TOKEN, data_dir=tmp / f"engine-{name}", scenario=scenario)
    await engine.start()
    conf = Settings(
        _env_file=None, data_dir=tmp / f"data-{name}", starting_grant=10**9, daily_budget=10**12, **settings
    )
    try:
        async with open_services(conf, engine=LocalEngine(engine, TOKEN)) as services:
            yield services
    finally:
        await engine.aclose()


async def first_snapshot_latency(tmp: Path, face: Path, voice: Path, starts: int) -> list[float]:
    latencies = []
    async with app_on_engine(tmp, "starts", "stall", max_jobs_total=starts + 1) as app:
        for i in range(starts):
            owner = f"browser:bench{i}"
            await app.ledger.open_account(owner)
            t0 = time.perf_counter()
            await app.jobs.start(owner, str(face), str(voice), "wan-video/wan-2.2-s2v", {})
            latencies.append(time.perf_counter() - t0)
    return latencies


async def requests_per_long_job(
    tmp: Path, face: Path, voice: Path, long_s: float
) -> tuple[int, dict[str, int], float]:
    async with app_on_engine(tmp, "long", "stall", job_timeout_s=long_s) as app:
        owner = "browser:long"
        await app.ledger.open_account(owner)
        snap = await app.jobs.start(owner, str(face), str(voice), "wan-video/wan-2.2-s2v", {})
        final = await app.jobs.wait(owner, snap.job_id)
        assert app.engine is not None
        counts = {f"{method} {route}": n for (method, route), n in app.engine.requests.items()}
    return sum(counts.values()), counts, final.elapsed_s


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--starts", type=int, default=200)
    parser.add_argument("--long-s", type=float, default=60.0)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp_name:
        tmp = Path(tmp_name)
        face = ROOT / "assets" / "sample-face.png"
        voice = clip(ROOT / "assets" / "sample-voice.wav", tmp / "voice.wav", 2.0)
        lat = sorted(await first_snapshot_latency(tmp, face, voice, args.starts))
        p99 = lat[min(len(lat) - 1, int(len(lat) * 0.99))]
        print(
            f"start() -> first snapshot over {len(lat)} starts: "
            f"p50 {statistics.median(lat) * 1e3:.2f} ms, p99 {p99 * 1e3:.2f} ms, max {lat[-1] * 1e3:.2f} ms"
        )
        total, counts, elapsed = await requests_per_long_job(tmp, face, voice, args.long_s)
        poll = Settings().poll_interval_s
        print(f"one job followed for {elapsed:.1f} s (poll every {poll:g} s): {total} upstream requests")
        for name, n in sorted(counts.items()):
            print(f"  {n:5d}  {name}")


if __name__ == "__main__":
    asyncio.run(main())
