"""Engine figures: how late the event loop answers while a render runs in a thread vs a process.

Run from the repository root:

    python -m bench.engine_loop_lag                 # 10 s of the sample voice at 512 px, 4 rounds each way
    python -m bench.engine_loop_lag --concurrent 2  # two renders at once, as with two jobs

While renders run, a ticker on the same event loop asks to wake every 10 ms and
records how late it wakes (the time any request on that loop, e.g. a Gradio page, would wait
before being looked at), and the engine answers `GET /v1/predictions/{id}` in-process in a loop,
timing each round trip. "thread" calls the renderer in the default thread pool; "process" is
the engine's `RenderPool` (spawned worker, progress through a Manager queue). The worker start-up
is excluded (one warm-up round first), as the engine pays it once. Rounds alternate between the
two ways so that load from elsewhere on the machine falls on both alike.
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import tempfile
import time
import wave
from collections.abc import Awaitable, Callable
from pathlib import Path

import httpx

from demo_app.engine import Engine, RenderJob, RenderPool, real_renderer, render_talking_face

ROOT = Path(__file__).resolve().parents[1]
FACE = ROOT / "assets" / "sample-face.png"
VOICE = ROOT / "assets" / "sample-voice.wav"
TICK_S = 0.010
TOKEN = "r8_bench"


def clip(dest: Path, seconds: float) -> Path:
    with wave.open(str(VOICE)) as reader, wave.open(str(dest), "wb") as writer:
        writer.setparams(reader.getparams())
        writer.writeframes(reader.readframes(int(reader.getframerate() * seconds)))
    return dest


class Samples:
    def __init__(self) -> None:
        self.lags: list[float] = []
        self.trips: list[float] = []
        self.walls: list[float] = []

    def summary(self) -> dict[str, float]:
        lags, trips = sorted(self.lags), sorted(self.trips)
        return {
            "wall per round (s)": statistics.median(self.walls),
            "loop lag p50 (ms)": 1000 * statistics.median(lags),
            "loop lag p99 (ms)": 1000 * lags[int(len(lags) * 0.99)],
            "loop lag max (ms)": 1000 * lags[-1],
            "GET round trip p50 (ms)": 1000 * statistics.median(trips),
            "GET round trip p99 (ms)": 1000 * trips[int(len(trips) * 0.99)],
        }


async def measure(
    round_: Callable[[], Awaitable[None]], samples: Samples, engine: Engine, prediction: str
) -> None:
    """One round of renders while a ticker and a poller share the loop."""
    done = asyncio.Event()

    async def ticker() -> None:
        while not done.is_set():
            asked = time.perf_counter()
            await asyncio.sleep(TICK_S)
            samples.lags.append(time.perf_counter() - asked - TICK_S)

    async def poller() -> None:
        headers = {"Authorization": f"Bearer {TOKEN}"}
        transport = engine.transport()
        async with httpx.AsyncClient(
            transport=transport, base_url=Engine.base_url, headers=headers
        ) as client:
            while not done.is_set():
                started = time.perf_counter()
                (await client.get(f"/v1/predictions/{prediction}")).raise_for_status()
                samples.trips.append(time.perf_counter() - started)
                await asyncio.sleep(TICK_S)

    tasks = [asyncio.create_task(ticker()), asyncio.create_task(poller())]
    started = time.perf_counter()
    await round_()
    samples.walls.append(time.perf_counter() - started)
    done.set()
    await asyncio.gather(*tasks)


async def run(seconds: float, rounds: int, concurrent: int, max_side: int) -> None:
    with tempfile.TemporaryDirectory() as tmp_name:
        tmp = Path(tmp_name)
        audio = clip(tmp / "voice.wav", seconds)
        engine = Engine(token=TOKEN, data_dir=tmp / "engine", scenario="stall", time_scale=100.0)
        await engine.start()
        headers = {"Authorization": f"Bearer {TOKEN}"}
        async with httpx.AsyncClient(
            transport=engine.transport(), base_url=Engine.base_url, headers=headers
        ) as api:
            data = "data:image/png;base64,AAAA"
            body = {"input": {"image": data, "audio": data}}
            prediction = (await api.post("/v1/models/bytedance/omni-human/predictions", json=body)).json()[
                "id"
            ]

        pool = RenderPool(workers=concurrent)

        async def no_progress(done: int, total: int) -> None:
            return None

        async def in_threads() -> None:
            await asyncio.gather(
                *(
                    asyncio.to_thread(
                        render_talking_face, FACE, audio, tmp / f"t{i}.mp4", fps=25, max_side=max_side
                    )
                    for i in range(concurrent)
                )
            )

        async def in_processes() -> None:
            jobs = [RenderJob(FACE, audio, tmp / f"p{i}.mp4", 25, max_side) for i in range(concurrent)]
            await asyncio.gather(*(pool.render(real_renderer, job, no_progress) for job in jobs))

        await in_threads()  # warm-up: imports and caches
        await in_processes()  # warm-up: worker start-up, paid once per pool
        results = {"thread": Samples(), "process": Samples()}
        for _ in range(rounds):  # alternate, so background load hits both alike
            await measure(in_threads, results["thread"], engine, prediction)
            await measure(in_processes, results["process"], engine, prediction)
        await asyncio.to_thread(pool.close)
        await engine.aclose()

    print(
        f"{seconds:g} s of audio at {max_side} px, {concurrent} render(s) at once, {rounds} rounds each way "
        f"(alternating), ticker every {TICK_S * 1000:g} ms"
    )
    summaries = {mode: samples.summary() for mode, samples in results.items()}
    print(f"{'':26}{'thread':>10}{'process':>10}")
    for key in summaries["thread"]:
        print(f"{key:26}{summaries['thread'][key]:10.2f}{summaries['process'][key]:10.2f}")


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--seconds", type=float, default=10.0)
    parser.add_argument("--rounds", type=int, default=4)
    parser.add_argument("--concurrent", type=int, default=1, help="renders at once in each round")
    parser.add_argument("--max-side", type=int, default=512)
    args = parser.parse_args()
    asyncio.run(run(args.seconds, args.rounds, args.concurrent, args.max_side))


if __name__ == "__main__":
    main()
