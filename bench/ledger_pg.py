"""Ledger latency on PostgreSQL next to TinyDB: p50/p99 of hold + capture, in turn and many at once.

    python -m bench.ledger_pg                       # 1k and 10k entries; 1,000 pairs each
    python -m bench.ledger_pg --sizes 10000 --pairs 500 --concurrent 200
    python -m bench.ledger_pg --no-fsync            # what the server's fsync costs

PostgreSQL is a throw-away cluster started for the run (`bench._pg_cluster.Cluster`) on a unix
socket, with fsync ON (unless `--no-fsync`), so each commit is durable as the TinyDB journal's
fsync makes it. Every hold and settlement of a day updates that day's budget row, so on
PostgreSQL they commit one after another, each holding the row through its WAL flush: the
burst figures are bounded by the disk's fsync time. The
ledger is filled through its own API to N entries, then timed on sequential hold + capture
pairs (each call awaited until committed); then `--concurrent` pairs are sent at once to
show throughput when many jobs end together (TinyDB shares commits; PostgreSQL one
transaction per call, on a pool of 10 connections).
"""

from __future__ import annotations

import argparse
import asyncio
import random
import shutil
import tempfile
import time
from collections.abc import Awaitable, Callable
from pathlib import Path

from bench._pg_cluster import Cluster
from bench.ledger import OWNERS, fill, ms
from demo_app.credits import DEFAULT_ARCHIVE_AT, Ledger
from demo_app.database import Database

LIMITS = {"starting_grant": 10**12, "daily_budget": 10**15, "max_open_holds_per_owner": 10**6}


async def pairs_in_turn(ledger: Ledger, pairs: int, rng: random.Random) -> tuple[list[float], ...]:
    holds, captures, both = [], [], []
    for i in range(pairs):
        t0 = time.perf_counter()
        await ledger.hold(rng.choice(OWNERS), 250, f"bench-{i}", reason="bench")
        t1 = time.perf_counter()
        await ledger.capture(f"bench-{i}", rng.randint(0, 250), reason="bench")
        t2 = time.perf_counter()
        holds.append(t1 - t0)
        captures.append(t2 - t1)
        both.append(t2 - t0)
    return holds, captures, both


async def pairs_at_once(ledger: Ledger, pairs: int, rng: random.Random) -> tuple[list[float], float]:
    """`pairs` jobs holding then capturing together: each pair's latency, and pairs per second."""

    async def pair(i: int) -> float:
        t0 = time.perf_counter()
        await ledger.hold(OWNERS[i % len(OWNERS)], 250, f"burst-{i}", reason="bench")
        await ledger.capture(f"burst-{i}", rng.randint(0, 250), reason="bench")
        return time.perf_counter() - t0

    t0 = time.perf_counter()
    latencies = await asyncio.gather(*(pair(i) for i in range(pairs)))
    return list(latencies), pairs / (time.perf_counter() - t0)


async def measure(
    name: str, make: Callable[[], Awaitable[Ledger]], entries: int, pairs: int, at_once: int
) -> str:
    rng = random.Random(entries)
    ledger = await make()
    t0 = time.perf_counter()
    await fill(ledger, entries, rng)
    fill_s = time.perf_counter() - t0
    holds, captures, both = await pairs_in_turn(ledger, pairs, rng)
    burst, rate = await pairs_at_once(ledger, at_once, rng)
    ledger.close()
    return (
        f"{name:>8} {entries:>8,} {ms(holds, 50)} {ms(holds, 99)} {ms(captures, 50)} {ms(captures, 99)}"
        f" {ms(both, 50)} {ms(both, 99)} {ms(burst, 50)} {ms(burst, 99)} {rate:8.0f} {fill_s:7.1f}"
    )


async def main(args: argparse.Namespace, cluster: Cluster) -> None:
    base = Path(tempfile.mkdtemp(prefix="bench-ledger-pg-"))
    databases: list[Database] = []
    try:
        print(f"hold + capture on N entries (ms); {args.pairs:,} pairs in turn, {args.concurrent} at once")
        print(
            f"{'engine':>8} {'entries':>8} {'hold50':>7} {'hold99':>7} {'capt50':>7} {'capt99':>7}"
            f" {'pair50':>7} {'pair99':>7} {'burst50':>7} {'burst99':>7} {'pairs/s':>8} {'fill s':>7}"
        )
        for entries in args.sizes:

            async def tiny(entries: int = entries) -> Ledger:
                path = base / f"tiny-{entries}" / "ledger.json"
                return Ledger(path, archive_at=DEFAULT_ARCHIVE_AT, **LIMITS)

            async def postgres() -> Ledger:
                databases.append(await Database.open(cluster.new_database(), max_size=10))
                return Ledger.on_database(databases[-1], **LIMITS)

            print(await measure("tinydb", tiny, entries, args.pairs, args.concurrent), flush=True)
            print(await measure("postgres", postgres, entries, args.pairs, args.concurrent), flush=True)
    finally:
        for database in databases:
            await database.aclose()
        shutil.rmtree(base)


if __name__ == "__main__":
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--sizes", type=int, nargs="+", default=[1_000, 10_000])
    parser.add_argument("--pairs", type=int, default=1_000, help="sequential hold + capture pairs measured")
    parser.add_argument("--concurrent", type=int, default=200, help="pairs sent at once afterwards")
    parser.add_argument("--no-fsync", action="store_true", help="run the server with fsync off")
    args = parser.parse_args()
    cluster = Cluster(fsync=not args.no_fsync).start()
    try:
        asyncio.run(main(args, cluster))
    finally:
        cluster.stop()
