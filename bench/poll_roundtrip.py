"""Client overhead per poll: `ReplicateClient.get_prediction` against the in-process engine.

Run from the repository root:

    python -m bench.poll_roundtrip                 # 2000 timed calls of each kind after 200 warm-up
    python -m bench.poll_roundtrip --calls 5000

Three figures, interleaved call by call so drift hits all alike:
- raw: a bare `httpx.AsyncClient.get` on the same in-process transport (the engine's own cost);
- client: the full `get_prediction` (retry wrapper, error mapping, JSON + pydantic parse);
- parse: `Prediction.model_validate` of the same body alone.
The client's overhead is client minus raw. The prediction is held `processing` (scenario
`stall`), so the engine renders nothing while timing.
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import tempfile
import time
from pathlib import Path

import httpx

from demo_app.engine import Engine
from demo_app.replicate import Prediction, ReplicateClient

ROOT = Path(__file__).resolve().parents[1]
FACE = ROOT / "assets" / "sample-face.png"
VOICE = ROOT / "assets" / "sample-voice.wav"
BASE_URL = Engine.base_url
TOKEN = "r8_bench_token"


def _percentiles(samples: list[float]) -> tuple[float, float, float]:
    """(p50, p99, mean) in microseconds."""
    cuts = statistics.quantiles(samples, n=100)
    return cuts[49] * 1e6, cuts[98] * 1e6, statistics.fmean(samples) * 1e6


async def run(calls: int, warmup: int) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        engine = Engine(token=TOKEN, data_dir=Path(tmp), scenario="stall")
        await engine.start()
        client = ReplicateClient(BASE_URL, TOKEN, transport=engine.transport())
        raw = httpx.AsyncClient(
            base_url=BASE_URL, transport=engine.transport(), headers={"Authorization": f"Bearer {TOKEN}"}
        )
        try:
            prediction = await client.create_prediction(
                model="wan-video/wan-2.2-s2v",
                input={
                    "prompt": "A person talking.",
                    "image": (
                        await client.file_input(FACE, content_type="image/png", inline_max_bytes=0)
                    ).url,
                    "audio": (
                        await client.file_input(VOICE, content_type="audio/wav", inline_max_bytes=0)
                    ).url,
                },
            )
            path = f"/v1/predictions/{prediction.id}"
            body = (await raw.get(path)).content
            client_s: list[float] = []
            raw_s: list[float] = []
            parse_s: list[float] = []
            for i in range(warmup + calls):
                t0 = time.perf_counter()
                await client.get_prediction(prediction.id)
                t1 = time.perf_counter()
                response = await raw.get(path)
                response.raise_for_status()
                t2 = time.perf_counter()
                Prediction.model_validate_json(body)
                t3 = time.perf_counter()
                if i >= warmup:
                    client_s.append(t1 - t0)
                    raw_s.append(t2 - t1)
                    parse_s.append(t3 - t2)
        finally:
            await raw.aclose()
            await client.aclose()
            await engine.aclose()

    print(f"poll round trip against the in-process engine, {calls} calls each ({len(body)} byte body)")
    print(f"{'':28}{'p50 µs':>10}{'p99 µs':>10}{'mean µs':>10}")
    bare, full = _percentiles(raw_s), _percentiles(client_s)
    overhead = (full[0] - bare[0], full[1] - bare[1], full[2] - bare[2])
    for label, (p50, p99, mean) in (
        ("raw httpx GET (engine)", bare),
        ("client.get_prediction", full),
        ("client overhead (- raw)", overhead),
        ("Prediction parse alone", _percentiles(parse_s)),
    ):
        print(f"{label:28}{p50:10.0f}{p99:10.0f}{mean:10.0f}")


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--calls", type=int, default=2000)
    parser.add_argument("--warmup", type=int, default=200)
    args = parser.parse_args()
    asyncio.run(run(args.calls, args.warmup))


if __name__ == "__main__":
    main()
