"""Ledger latency as it grows: p50/p99 of hold + capture with 1k, 10k and 100k entries on disk.

    python -m bench.ledger                                  # 1k, 10k, 100k entries; 1,000 pairs each
    python -m bench.ledger --sizes 10000 --archive-at 250 500 1000 --pairs 500
    python -m bench.ledger --dir /data/ledger-bench         # measure on the disk the Space uses

First the costs that shape the design: one TinyDB insert as the file grows, on
`AtomicJSONStorage` (whole file serialised, temp file, 2 fsyncs, rename) and on
`JournaledJSONStorage` (one appended line, 1 fsync; TinyDB and the change scan still grow with
the file, hence the archives). Then the ledger itself, filled through its own API to N
entries, reopened (open time), and timed on sequential hold + capture pairs, each call
awaited until its change is on disk. "live" is ledger.json plus its journal.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import random
import shutil
import tempfile
import time
from pathlib import Path
from typing import cast

from tinydb import TinyDB

from demo_app.credits import DEFAULT_ARCHIVE_AT, Ledger
from demo_app.storage import AtomicJSONStorage, JournaledJSONStorage

OWNERS = [f"browser:{i:032x}" for i in range(100)]
ENTRY = {
    "time": "2025-03-01T12:00:00.000000+00:00",
    "owner": OWNERS[0],
    "kind": "capture",
    "amount": -200,
    "held": -250,
    "ref": "0f8fad5b-d9cb-469f-a165-70867728950e",
    "reason": "wan-video/wan-2.2-s2v: video delivered",
}


def percentile(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(p / 100 * (len(ordered) - 1)))]


def ms(values: list[float], p: float) -> str:
    return f"{percentile(values, p) * 1e3:7.2f}"


def size_text(path_or_paths: Path | list[Path]) -> str:
    paths = path_or_paths if isinstance(path_or_paths, list) else [path_or_paths]
    total = sum(p.stat().st_size for p in paths if p.exists())
    return f"{total / 1024:,.0f} KiB" if total < 10 * 2**20 else f"{total / 2**20:,.1f} MiB"


def storage_commits(base: Path, sizes: list[int]) -> None:
    print("\nOne TinyDB insert (= one commit) into a table of N docs (ms)")
    print(f"{'docs':>9} {'file':>10} {'atomic50':>9} {'atomic99':>9} {'journal50':>9} {'journal99':>9}")
    for n in sizes:
        row = []
        for kind in (AtomicJSONStorage, JournaledJSONStorage):
            path = base / f"{kind.__name__}-{n}.json"
            db = TinyDB(path, storage=kind)
            storage = cast(AtomicJSONStorage, db.storage)
            table = db.table("entries", cache_size=0)
            with storage.transaction():
                table.insert_multiple(dict(ENTRY) for _ in range(n))
            samples = []
            for _ in range(20 if n >= 50_000 and kind is AtomicJSONStorage else 100):
                t0 = time.perf_counter()
                table.insert(dict(ENTRY))
                samples.append(time.perf_counter() - t0)
            row += [f"{ms(samples, 50):>9}", f"{ms(samples, 99):>9}"]
            db.close()
        print(f"{n:>9,} {size_text(base / f'AtomicJSONStorage-{n}.json'):>10} {' '.join(row)}")


async def fill(ledger: Ledger, entries: int, rng: random.Random) -> None:
    """Grants for every owner, then hold + capture pairs in concurrent batches (group commit)."""
    await asyncio.gather(*(ledger.open_account(owner) for owner in OWNERS))
    pairs = max(0, entries - len(OWNERS)) // 2
    batch = 200
    for start in range(0, pairs, batch):
        refs = [f"fill-{i}" for i in range(start, min(pairs, start + batch))]
        await asyncio.gather(*(ledger.hold(rng.choice(OWNERS), 250, ref, reason="fill") for ref in refs))
        await asyncio.gather(*(ledger.capture(ref, rng.randint(0, 250), reason="fill") for ref in refs))


def open_ledger(path: Path, archive_at: int) -> Ledger:
    return Ledger(
        path,
        starting_grant=10**12,
        daily_budget=10**15,
        max_open_holds_per_owner=10**6,
        archive_at=archive_at,
    )


async def measure(base: Path, entries: int, archive_at: int, pairs: int) -> str:
    rng = random.Random(entries)
    path = base / f"ledger-{entries}-{archive_at}" / "ledger.json"
    ledger = open_ledger(path, archive_at)
    t0 = time.perf_counter()
    await fill(ledger, entries, rng)
    fill_s = time.perf_counter() - t0
    ledger.close()
    os.sync()  # let the filling's writeback finish, so fsyncs below measure the steady state
    t0 = time.perf_counter()
    ledger = open_ledger(path, archive_at)
    open_s = time.perf_counter() - t0
    holds, captures, both = [], [], []
    for i in range(pairs):
        owner = rng.choice(OWNERS)
        t0 = time.perf_counter()
        await ledger.hold(owner, 250, f"bench-{i}", reason="bench")
        t1 = time.perf_counter()
        await ledger.capture(f"bench-{i}", rng.randint(0, 250), reason="bench")
        t2 = time.perf_counter()
        holds.append(t1 - t0)
        captures.append(t2 - t1)
        both.append(t2 - t0)
    ledger.close()
    archives = sorted(path.with_name("ledger.archive").glob("*.json"))
    live = [path, path.with_name("ledger.json.journal")]
    return (
        f"{entries:>9,} {archive_at:>7} {ms(holds, 50)} {ms(holds, 99)} {ms(captures, 50)} {ms(captures, 99)}"
        f" {ms(both, 50)} {ms(both, 99)} {size_text(live):>9} {len(archives):>5} {size_text(archives):>9}"
        f" {open_s:7.2f} {fill_s:7.1f}"
    )


async def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--sizes", type=int, nargs="+", default=[1_000, 10_000, 100_000])
    parser.add_argument("--archive-at", type=int, nargs="+", default=[DEFAULT_ARCHIVE_AT])
    parser.add_argument("--pairs", type=int, default=1_000, help="measured hold + capture pairs per size")
    parser.add_argument("--dir", type=Path, default=None, help="where to write (default: a temp dir)")
    args = parser.parse_args()
    base = Path(tempfile.mkdtemp(prefix="bench-ledger-", dir=args.dir))
    try:
        storage_commits(base, args.sizes)
        print(f"\nLedger: {args.pairs:,} sequential hold + capture pairs on top of N entries (ms)")
        print(
            f"{'entries':>9} {'archive':>7} {'hold50':>7} {'hold99':>7} {'capt50':>7} {'capt99':>7}"
            f" {'pair50':>7} {'pair99':>7} {'live':>9} {'files':>5} {'archives':>9}"
            f" {'open s':>7} {'fill s':>7}"
        )
        for entries in args.sizes:
            for archive_at in args.archive_at:
                print(await measure(base, entries, archive_at, args.pairs), flush=True)
    finally:
        shutil.rmtree(base)


if __name__ == "__main__":
    asyncio.run(main())
