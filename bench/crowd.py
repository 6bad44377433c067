"""A crowd on /generate: N visitors through Gradio's browser queue protocol, against the app and
the engine each in its own process, with or without webhooks.

    python -m bench.crowd                                  # 1,000 visitors joining 50/s, webhooks on
    python -m bench.crowd --visitors 300 --no-webhooks
    python -m bench.crowd --database pg --replicas 2       # two replicas on PostgreSQL behind HAProxy
    python -m bench.crowd --harness-nice 10                # the engine and the driver yield the cores

The engine (`python -m demo_app.engine --ready-clip ...`) serves a ready clip instead of
rendering: each prediction is `starting` for 3 s, `processing` for 20 s with a tqdm line every
0.5 s, then succeeds; so the two cores measure the app, not the renderer. The app runs as a
Space runs it (`python app.py`), pointed at the engine over HTTP with a token
(`REPLICATE_BASE_URL`, `REPLICATE_API_TOKEN`). Each visitor uploads the sample face and voice and
calls `/generate` with its own API key (join + event stream, one session each), then follows
its job to the end.

The app's limits are those of a busy Space's owner who expects this crowd (`_crowd_procs.app_env`):
a starting grant of 2,000 credits (a run of the sample voice holds about 300), a daily budget of
2,000 credits per visitor, grants for every visitor from one address (all come from 127.0.0.1,
reached directly: no proxy hops), jobs total = visitors + 10, the queue twice the crowd (at
least 2,000), uploads of 2 MiB per visitor per hour from that address. The create and read
limits are the app's own defaults. With `--webhooks` the app gets
`LIPSYNC_PUBLIC_URL=http://127.0.0.1:<port>` (loopback webhooks).

With `--database pg` the app keeps its ledger and jobs in a throw-away PostgreSQL cluster (unix
socket, fsync on) and runs as `--replicas` copies sharing it, as deploy/compose.yaml runs them
(`_crowd_serving.replicas`): one reached directly, or two behind HAProxy with deploy/haproxy.cfg
(trusting its one proxy hop), each visitor kept on one replica by its SERVERID cookie, webhooks
addressed to the balancer.

The engine and the driver share the app's two cores: they stand in for Replicate's servers and
for a thousand browsers, which run elsewhere in real life. `--harness-nice N` lowers their
priority while the crowd runs, so the app's threads get a core as soon as they want one and its
figures approach those of a machine of its own; the lags the driver stamps then include the
harness's own wait for a core.

Printed: jobs done / errors; lag from the engine's status changes (started, succeeded) and
progress lines to the visitor seeing them, p50/p99; updates per visitor; upstream creates and
other API calls, peak per sliding 60 s; app CPU (cores, /proc/<pid>/stat) and peak memory
(VmHWM); app event-loop lag (`LIPSYNC_LOOP_LAG_LOG`); the CPU the engine and this driver used of
the same cores; every hold settled once (the ledger, read after the app stopped). Clocks are the
same machine's. With replicas, the totals add up CPU and peak memory and pool the loop-lag
samples; then each replica's share (the visitors it served, the jobs it followed, its own CPU,
memory and loop lag), and the balancer's CPU.
"""

from __future__ import annotations

import argparse
import os
import shutil
import sys
import tempfile
from collections import Counter
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import uvloop

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from bench._crowd_procs import EngineProcess, Meter, lower_priority  # noqa: E402
from bench._crowd_report import (  # noqa: E402
    AppUse,
    Figures,
    ReplicaRun,
    figures,
    followers,
    lines,
    replica_lines,
    served_groups,
    settlements,
    stats_of,
)
from bench._crowd_serving import Served, one_app, read_database, replicas  # noqa: E402
from bench._crowd_visitors import Crowd, drive  # noqa: E402
from bench._pg_cluster import Cluster  # noqa: E402
from demo_app.settings import Settings  # noqa: E402

ISSUE_LIMITS = {"creates_per_min": 600, "reads_per_min": 3000}
"""Replicate's limits, used when the app has no setting of that name."""


@dataclass(frozen=True)
class CrowdRun:
    figures: Figures
    limits: tuple[int, int]
    """Creates and other API calls allowed per minute: the app's settings, else Replicate's."""
    webhooks: bool
    replicas: list[ReplicaRun] = field(default_factory=list)
    """On PostgreSQL: each replica's share (empty on TinyDB)."""
    balancer: AppUse | None = None
    followed_elsewhere: int = 0
    """Jobs followed by another replica than the one their visitor streamed from."""
    harness: dict[str, AppUse] = field(default_factory=dict)
    """What the engine and this driver used of the same cores meanwhile."""
    harness_nice: int = 0
    """Added to the engine's and the driver's nice value while the crowd ran (`--harness-nice`)."""

    @property
    def budgets_kept(self) -> bool:
        return self.figures.creates_peak <= self.limits[0] and self.figures.reads_peak <= self.limits[1]

    @property
    def settled_once(self) -> bool:
        return self.figures.settlement == Counter({"settled once": self.figures.visitors})

    def report(self, rate: float) -> list[str]:
        webhooks = ["LIPSYNC_PUBLIC_URL passed to the app"] if self.webhooks else []
        total = [
            *lines(self.figures, webhooks=self.webhooks, rate=rate, limits=self.limits),
            *harness_lines(self.harness, self.harness_nice),
            *webhooks,
        ]
        if not self.replicas:
            return total
        front = "behind HAProxy (deploy/haproxy.cfg)" if self.balancer else "reached directly"
        head = (
            f"PostgreSQL (throw-away cluster, fsync on), {len(self.replicas)} replica(s) {front}; "
            "app CPU and memory below are the replicas' sum, loop lag their samples pooled"
        )
        shares = [line for run in self.replicas for line in replica_lines(run)]
        if self.balancer:
            shares.append(
                f"balancer: CPU {self.balancer.cores:.2f} cores used; "
                f"peak memory (VmHWM) {self.balancer.peak_mib:,.0f} MiB"
            )
        shares.append(f"jobs followed by another replica than their visitor's: {self.followed_elsewhere}")
        return [head, *total, *shares]


def harness_lines(harness: dict[str, AppUse], nice: int = 0) -> list[str]:
    """The engine's and the driver's share of the two cores the app shares with them."""
    if not harness:
        return []
    shares = ", ".join(
        f"{name} {use.cores:.2f} cores used, {use.cpu_wait:.2f} waited for" for name, use in harness.items()
    )
    priority = f" (both at nice +{nice}: the app's threads get a core first)" if nice else ""
    return [f"the rest of the machine: {shares}{priority}"]


def limit(name: str) -> int:
    """The app's default for a per-minute limit, else Replicate's figure."""
    setting = Settings.model_fields.get(name)
    return int(setting.default) if setting is not None else ISSUE_LIMITS[name]


@contextmanager
def throwaway_database() -> Iterator[str]:
    """A fresh migrated database on a PostgreSQL cluster of its own, removed after; its URL."""
    cluster = Cluster(fsync=True).start()
    try:
        yield cluster.new_database()
    finally:
        cluster.stop()


@dataclass(frozen=True)
class Measured:
    """A crowd and what the processes serving it used meanwhile, by app name."""

    crowd: Crowd
    uses: dict[str, AppUse]
    balancer: AppUse | None
    stats: dict[str, Any]
    harness: dict[str, AppUse]


def measure(
    served: Served, engine: EngineProcess, visitors: int, rate: float, harness_nice: int = 0
) -> Measured:
    """Drive the crowd at `served`; each process's CPU and memory over it, the engine's stats.
    With `harness_nice`, the engine and this driver yield the cores to the app(s) first."""
    if harness_nice:
        lower_priority(engine.process.pid, harness_nice)
        lower_priority(os.getpid(), harness_nice)
    meters = {name: Meter.start(app.pid) for name, app in served.apps.items()}
    front = Meter.start(served.balancer.pid) if served.balancer else None
    others = {"engine": Meter.start(engine.process.pid), "driver": Meter.start(os.getpid())}
    # The driver's own loop stamps each arrival: uvloop keeps it from adding its lag to the figures.
    crowd = uvloop.run(drive(served.url, served.key_secret, visitors, rate))
    wall = crowd.ended - crowd.began
    uses = {name: meter.use(wall) for name, meter in meters.items()}
    harness = {name: meter.use(wall) for name, meter in others.items()}
    return Measured(crowd, uses, front.use(wall) if front else None, engine.stats(), harness)


def run_crowd(
    work: Path,
    *,
    visitors: int,
    rate: float,
    webhooks: bool,
    database: bool = False,
    replicas_n: int = 1,
    harness_nice: int = 0,
) -> CrowdRun:
    """Start the engine and the app(s) in `work`, drive the crowd, stop them, read the ledger."""
    limits = (limit("creates_per_min"), limit("reads_per_min"))
    with ExitStack() as stack:
        url = stack.enter_context(throwaway_database()) if database else None
        engine = EngineProcess.start(work)
        try:
            serving = (
                replicas(work, engine, url, count=replicas_n, visitors=visitors, webhooks=webhooks)
                if url
                else one_app(work, engine, visitors=visitors, webhooks=webhooks)
            )
            with serving as served:
                run = measure(served, engine, visitors, rate, harness_nice)
        finally:
            engine.stop()
        loop_lags = [served.loop_lag(name) for name in served.apps]
        if url is None:
            settled = settlements(served.data_dirs["app"] / "ledger.json", run.crowd.visits)
            total = figures(run.crowd, run.stats, loop_lags, settled, run.uses["app"])
            return CrowdRun(total, limits, webhooks, harness=run.harness, harness_nice=harness_nice)
        settled, holders = read_database(url, run.crowd.visits)
    total = figures(run.crowd, run.stats, loop_lags, settled, AppUse.together(list(run.uses.values())))
    shares, elsewhere = replica_shares(run, served, holders)
    return CrowdRun(total, limits, webhooks, shares, run.balancer, elsewhere, run.harness, harness_nice)


def replica_shares(run: Measured, served: Served, holders: dict[str, str]) -> tuple[list[ReplicaRun], int]:
    """Each replica's share of the crowd, and how many jobs were followed by another replica than
    the one their visitor streamed from (`holders`: each job's lease holder)."""
    names = list(served.apps)
    for one in run.crowd.visits:
        one.served_by = one.served_by or (names[0] if len(names) == 1 else "")
    followed = followers(run.crowd.visits, holders)
    shares = []
    for name, mine in served_groups(run.crowd.visits, names).items():
        own = Crowd(mine, run.crowd.began, run.crowd.ended, run.crowd.client_lag_ms)
        lag = [served.loop_lag(name)] if name in served.apps else []
        use = run.uses.get(name, AppUse.together([]))
        share = figures(own, stats_of(run.stats, mine), lag, Counter(), use)
        shares.append(ReplicaRun(name, share, sum(1 for f in followed.values() if f == name)))
    elsewhere = sum(
        1 for one in run.crowd.visits if one.job_id in followed and followed[one.job_id] != one.served_by
    )
    return shares, elsewhere


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--visitors", type=int, default=1000)
    parser.add_argument("--rate", type=float, default=50.0, help="visitors joining per second")
    parser.add_argument("--webhooks", action=argparse.BooleanOptionalAction, default=True)
    parser.add_argument("--keep", action="store_true", help="keep the working folder (logs, ledger)")
    parser.add_argument(
        "--database", choices=["tinydb", "pg"], default="tinydb", help="pg: a throw-away PostgreSQL"
    )
    parser.add_argument("--replicas", type=int, choices=[1, 2], default=1, help="app copies (with pg)")
    parser.add_argument(
        "--harness-nice",
        type=int,
        default=0,
        metavar="N",
        help="run the engine and this driver N nice levels lower while the crowd runs (the app as before)",
    )
    args = parser.parse_args()
    if args.visitors < 1 or args.rate <= 0:
        parser.error("--visitors must be at least 1 and --rate positive")
    if not 0 <= args.harness_nice <= 19:
        parser.error("--harness-nice must be between 0 and 19")
    if args.replicas > 1 and args.database != "pg":
        parser.error("--replicas 2 shares one ledger: add --database pg")
    work = Path(tempfile.mkdtemp(prefix="bench-crowd-"))
    try:
        result = run_crowd(
            work,
            visitors=args.visitors,
            rate=args.rate,
            webhooks=args.webhooks,
            database=args.database == "pg",
            replicas_n=args.replicas,
            harness_nice=args.harness_nice,
        )
        print("\n".join(result.report(args.rate)))
    finally:
        if args.keep:
            print(f"working folder: {work}")
        else:
            shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
