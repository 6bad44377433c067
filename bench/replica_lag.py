"""What a viewer on another replica waits on top of a viewer on the follower's: LISTEN/NOTIFY lag.

    python -m bench.replica_lag                      # 1, 50 and 200 jobs followed at once, 10 s each
    python -m bench.replica_lag --jobs 500 --seconds 20
    python -m bench.replica_lag --no-fsync           # what the server's fsync adds to saved records

Two replicas' pieces in one process on a throw-away cluster (`bench._pg_cluster.Cluster`, unix
socket, fsync ON unless `--no-fsync`), each with a pool of its own: replica A follows N jobs,
each saving a transition (a record write, announced by the database's trigger) once a second
and sending progress frames at the viewers' pace (one per `PROGRESS_FRAME_S`) through its
`JobFeed`; replica B listens with its own `JobFeed` and, as `JobManager` does, reads a saved
record back before its viewers see it. Measured per message:
- frame: from A's wake-up of its own viewers (the announce) to B's hearing it;
- saved: from A's save returning (when A's viewers are woken) to B holding the record.
"""

from __future__ import annotations

import argparse
import asyncio
import time
from typing import Any

from bench._pg_cluster import Cluster
from bench.ledger import ms
from demo_app.credits import utc_now
from demo_app.database import Database
from demo_app.jobs import JobStore
from demo_app.jobs._feed import JobFeed
from demo_app.jobs._leases import Leases
from demo_app.jobs._live import PROGRESS_FRAME_S
from demo_app.jobs._store import JobRecord
from demo_app.jobs._types import JobStatus

STEPS = [JobStatus.UPLOADING, JobStatus.STARTING, JobStatus.PROCESSING, JobStatus.DOWNLOADING]


async def measure(url: str, jobs: int, seconds: float) -> str:
    a_db, b_db = await Database.open(url), await Database.open(url)
    store = await JobStore.on_database(a_db)
    assert store.leases is not None
    b_leases = Leases(b_db, "replica-b", 10.0)
    saved_at: dict[str, float] = {}
    frames: list[float] = []
    saves: list[float] = []
    reads: set[asyncio.Task[None]] = set()

    async def read_back(job_id: str) -> None:
        await b_leases.read(job_id)
        if job_id in saved_at:
            saves.append(time.perf_counter() - saved_at[job_id])

    def heard(message: dict[str, Any]) -> None:
        if message.get("kind") == "progress":
            frames.append(time.perf_counter() - float(message["t"]))
        elif message.get("kind") == "saved":
            task = asyncio.create_task(read_back(message["job"]))
            reads.add(task)
            task.add_done_callback(reads.discard)

    a_feed = JobFeed(a_db, store.leases.holder, lambda _m: None, lambda: None)
    b_feed = JobFeed(b_db, "replica-b", heard, lambda: None)
    await a_feed.start()
    await b_feed.start()

    async def follow(n: int) -> None:
        record = JobRecord(
            job_id=f"job-{n}",
            owner="bench",
            model="bench",
            created_at=utc_now(),
            source_image="",
            source_audio="",
        )
        end = time.perf_counter() + seconds
        step = 0
        await asyncio.sleep(n / jobs * PROGRESS_FRAME_S)  # spread the jobs over a frame
        while time.perf_counter() < end:
            if step % round(1 / PROGRESS_FRAME_S) == 0:
                record.status = STEPS[(step // 4) % len(STEPS)]
                saved_at.pop(record.job_id, None)
                await store.save(record)
                saved_at[record.job_id] = time.perf_counter()
            else:
                a_feed.announce(record.job_id, "progress", progress=step / 1000, t=time.perf_counter())
            step += 1
            await asyncio.sleep(PROGRESS_FRAME_S)

    await asyncio.gather(*(follow(n) for n in range(jobs)))
    await asyncio.sleep(0.5)  # the last messages arrive
    await asyncio.gather(*reads)
    for closing in (a_feed.aclose(), b_feed.aclose(), a_db.aclose(), b_db.aclose()):
        await closing
    frame_lag = f"{len(frames):>8} {ms(frames, 50)} {ms(frames, 99)}"
    return f"{jobs:>6} {frame_lag} {len(saves):>7} {ms(saves, 50)} {ms(saves, 99)}"


async def main(args: argparse.Namespace, cluster: Cluster) -> None:
    print(f"added lag at replica B of jobs followed by replica A (ms); {args.seconds:g} s per row")
    print(
        f"{'jobs':>6} {'frames':>8} {'frame50':>7} {'frame99':>7} {'saves':>7} {'saved50':>7} {'saved99':>7}"
    )
    for jobs in args.jobs:
        print(await measure(cluster.new_database(), jobs, args.seconds), flush=True)


if __name__ == "__main__":
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--jobs", type=int, nargs="+", default=[1, 50, 200], help="jobs followed at once")
    parser.add_argument("--seconds", type=float, default=10.0, help="how long each row runs")
    parser.add_argument("--no-fsync", action="store_true", help="run the server with fsync off")
    args = parser.parse_args()
    cluster = Cluster(fsync=not args.no_fsync).start()
    try:
        asyncio.run(main(args, cluster))
    finally:
        cluster.stop()
