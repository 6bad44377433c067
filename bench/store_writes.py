"""What a job-record write and a hold + capture cost the event loop with a crowd on the books.

    python -m bench.store_writes                 # 1,000 records / owners, 3,000 writes, 500 pairs
    python -m bench.store_writes --records 5000

Job store: fills a TinyDB job store (the journaled file a Space uses) with `--records` records,
then saves `--writes` state transitions of random jobs, one at a time. Ledger: opens `--records`
accounts, each with an open hold (a crowd waiting), then times `--pairs` hold + capture pairs.
Timed is the CPU of the event loop's thread (the change and the commit's preparation; the
fsync runs on the writer thread), and the wall time until the write is durable.
"""

from __future__ import annotations

import argparse
import asyncio
import random
import statistics
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from demo_app.credits import Ledger  # noqa: E402
from demo_app.jobs._store import JobRecord, JobStore  # noqa: E402
from demo_app.jobs._types import JobStatus  # noqa: E402


def record(i: int) -> JobRecord:
    """A record of about the size a real job's is (inputs, options, log tail)."""
    return JobRecord(
        job_id=f"job-{i:06d}",
        owner=f"owner-{i % 300}",
        model="wan-video/wan-2.2-s2v",
        options={"prompt": "A person talking naturally to the camera.", "seed": i},
        created_at=datetime.now(UTC),
        source_image="face.png",
        source_audio="voice.wav",
        image_path=f"/data/inputs/{i}/face.png",
        audio_path=f"/data/inputs/{i}/voice.wav",
        audio_s=4.2,
        held=102,
        prediction_input={"image": f"https://api.replicate.com/v1/files/{i}", "audio": "https://x/y"},
        log_tail="frame 10/100 " * 40,
    )


def pct(values: list[float], q: float) -> float:
    return sorted(values)[min(len(values) - 1, int(len(values) * q))]


async def ledger_pairs(owners: int, pairs: int, folder: Path) -> None:
    ledger = Ledger(
        folder / "ledger.json", starting_grant=2000, daily_budget=10**9, max_open_holds_per_owner=5
    )
    for i in range(owners):
        await ledger.open_account(f"owner-{i}")
        await ledger.hold(f"owner-{i}", 300, f"waiting-{i}", reason="a job in the crowd")
    loop_ms = []
    for i in range(pairs):
        cpu0 = time.thread_time()
        await ledger.hold(f"owner-{i % owners}", 100, f"pair-{i}", reason="job")
        await ledger.capture(f"pair-{i}", 40, reason="done")
        loop_ms.append((time.thread_time() - cpu0) * 1000)
    ledger.close()
    print(
        f"ledger, {owners} open holds: loop CPU per hold + capture: p50 {statistics.median(loop_ms):.2f} ms, "
        f"p99 {pct(loop_ms, 0.99):.2f} ms"
    )


async def run(records: int, writes: int, folder: Path) -> None:
    store = JobStore(folder / "jobs.json")
    for i in range(records):
        await store.save(record(i))
    loop_ms: list[float] = []
    total_ms: list[float] = []
    rng = random.Random(7)
    statuses = [JobStatus.STARTING, JobStatus.PROCESSING, JobStatus.SUCCEEDED]
    for n in range(writes):
        r = store.get(f"job-{rng.randrange(records):06d}")
        assert r is not None
        changed = r.model_copy(update={"status": statuses[n % 3], "message": f"step {n}"})
        began = time.perf_counter()
        cpu0 = time.thread_time()
        await store.save(changed)
        loop_ms.append((time.thread_time() - cpu0) * 1000)
        total_ms.append((time.perf_counter() - began) * 1000)
    store.close()
    print(f"job store, {records} records, {writes} writes one at a time")
    print(
        f"loop CPU per write: p50 {statistics.median(loop_ms):.2f} ms, p99 {pct(loop_ms, 0.99):.2f} ms, "
        f"max {max(loop_ms):.1f} ms"
    )
    print(f"write until durable: p50 {statistics.median(total_ms):.2f} ms, p99 {pct(total_ms, 0.99):.2f} ms")


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--records", type=int, default=1000)
    parser.add_argument("--writes", type=int, default=3000)
    parser.add_argument("--pairs", type=int, default=500)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        asyncio.run(run(args.records, args.writes, Path(folder)))
        asyncio.run(ledger_pairs(args.records, args.pairs, Path(folder)))


if __name__ == "__main__":
    main()
