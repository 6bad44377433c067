"""Replicate's budgets shared by two replicas: grants in a window against the bound, and what a
token costs when it comes from the database instead of this process.

    python -m bench.shared_pacing                    # 600 a minute, 10 s, 20 callers per replica
    python -m bench.shared_pacing --per-minute 3000 --seconds 20

Two connection pools on one throw-away PostgreSQL database (`bench._pg_cluster.Cluster`, fsync on)
stand for two replicas; each runs `--callers` tasks taking tokens from a `SharedBucket` of the
same name as fast as they are granted. One bucket allows `burst + rate * T` grants in T seconds;
the figures show both replicas together stay under it, and the latency of an uncontended take.
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import time

from bench._pg_cluster import Cluster
from demo_app.database import Database
from demo_app.replicate import SharedBucket


async def window(url: str, per_minute: int, seconds: float, callers: int) -> None:
    pools = [await Database.open(url), await Database.open(url)]
    try:
        buckets = [SharedBucket(db, "bench", per_minute) for db in pools]
        grants: list[list[float]] = [[], []]
        start = time.monotonic()

        async def caller(which: int) -> None:
            while True:
                await buckets[which].acquire()
                grants[which].append(time.monotonic() - start)

        tasks = [asyncio.create_task(caller(w)) for w in (0, 1) for _ in range(callers)]
        await asyncio.sleep(seconds)
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        bound = buckets[0].burst + buckets[0].rate_per_s * seconds
        first, second = (len([t for t in g if t <= seconds]) for g in grants)
        print(
            f"{per_minute}/min for {seconds:g} s: replica A {first}, replica B {second}, together "
            f"{first + second}; one bucket allows {bound:.1f} (two separate ones {2 * bound:.1f})"
        )
        fresh = SharedBucket(pools[0], "bench latency", 10**6)
        took = []
        for _ in range(500):
            t0 = time.perf_counter()
            await fresh.acquire()
            took.append(time.perf_counter() - t0)
        took.sort()
        print(
            f"uncontended take from the database: p50 {statistics.median(took) * 1000:.2f} ms, "
            f"p99 {took[int(len(took) * 0.99)] * 1000:.2f} ms"
        )
    finally:
        for db in pools:
            await db.aclose()


def main() -> None:
    raw = argparse.RawDescriptionHelpFormatter
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=raw)
    parser.add_argument("--per-minute", type=int, default=600)
    parser.add_argument("--seconds", type=float, default=10.0)
    parser.add_argument("--callers", type=int, default=20)
    args = parser.parse_args()
    cluster = Cluster(fsync=True).start()
    try:
        url = cluster.new_database()
        asyncio.run(window(url, args.per_minute, args.seconds, args.callers))
    finally:
        cluster.stop()


if __name__ == "__main__":
    main()
