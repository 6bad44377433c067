"""A crowd on /generate: N visitors through Gradio's browser queue protocol, against the app and
the engine each in its own process, with or without webhooks.

    python -m bench.crowd                                  # 1,000 visitors joining 50/s, webhooks on
    python -m bench.crowd --visitors 300 --no-webhooks

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

Printed: jobs done / errors; lag from the engine's status changes (started, succeeded) and
progress lines to the visitor seeing them, p50/p99; updates per visitor; upstream creates and
other API calls, peak per sliding 60 s; app CPU (cores, /proc/<pid>/stat) and peak memory
(VmHWM); app event-loop lag (`LIPSYNC_LOOP_LAG_LOG`); every hold settled once (the ledger,
read after the app stopped). Clocks are the same machine's.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import secrets
import shutil
import sys
import tempfile
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from bench._crowd_procs import EngineProcess, app_env, cpu_seconds, cpu_wait_seconds, peak_rss_mib  # noqa: E402
from bench._crowd_report import AppUse, Figures, figures, lines, settlements  # noqa: E402
from bench._crowd_visitors import drive  # noqa: E402
from bench._queue import free_port, start_app, stop  # noqa: E402
from demo_app.settings import Settings  # noqa: E402

ISSUE_LIMITS = {"creates_per_min": 600, "reads_per_min": 3000}
"""Replicate's limits, used when the app has no setting of that name."""


@dataclass(frozen=True)
class CrowdRun:
    figures: Figures
    limits: tuple[int, int]
    """Creates and other API calls allowed per minute: the app's settings, else Replicate's."""
    webhooks: bool

    @property
    def budgets_kept(self) -> bool:
        return self.figures.creates_peak <= self.limits[0] and self.figures.reads_peak <= self.limits[1]

    @property
    def settled_once(self) -> bool:
        return self.figures.settlement == Counter({"settled once": self.figures.visitors})

    def report(self, rate: float) -> list[str]:
        webhooks = ["LIPSYNC_PUBLIC_URL passed to the app"] if self.webhooks else []
        return [*lines(self.figures, webhooks=self.webhooks, rate=rate, limits=self.limits), *webhooks]


def limit(name: str) -> int:
    """The app's default for a per-minute limit, else Replicate's figure."""
    field = Settings.model_fields.get(name)
    return int(field.default) if field is not None else ISSUE_LIMITS[name]


def run_crowd(work: Path, *, visitors: int, rate: float, webhooks: bool) -> CrowdRun:
    """Start the engine and the app in `work`, drive the crowd, stop both, read the ledger."""
    engine = EngineProcess.start(work)
    try:
        port, secret, data = free_port(), secrets.token_hex(16), work / "app"
        env = app_env(
            engine=engine, port=port, data_dir=data, visitors=visitors, key_secret=secret, webhooks=webhooks
        )
        app = start_app(env, port, work / "app.log")
        try:
            cpu_before, wait_before = cpu_seconds(app.pid), cpu_wait_seconds(app.pid)
            crowd = asyncio.run(drive(f"http://127.0.0.1:{port}/", secret, visitors, rate))
            wall = max(1e-9, crowd.ended - crowd.began)
            cores = (cpu_seconds(app.pid) - cpu_before) / wall
            waited = (cpu_wait_seconds(app.pid) - wait_before) / wall
            peak = peak_rss_mib(app.pid)
            load = os.getloadavg()[0]
            stats = engine.stats()
        finally:
            stop(app)
    finally:
        engine.stop()
    settled = settlements(data / "ledger.json", crowd.visits)
    return CrowdRun(
        figures=figures(crowd, stats, data / "loop-lag.txt", settled, AppUse(cores, waited, peak, load)),
        limits=(limit("creates_per_min"), limit("reads_per_min")),
        webhooks=webhooks,
    )


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--visitors", type=int, default=1000)
    parser.add_argument("--rate", type=float, default=50.0, help="visitors joining per second")
    parser.add_argument("--webhooks", action=argparse.BooleanOptionalAction, default=True)
    parser.add_argument("--keep", action="store_true", help="keep the working folder (logs, ledger)")
    args = parser.parse_args()
    if args.visitors < 1 or args.rate <= 0:
        parser.error("--visitors must be at least 1 and --rate positive")
    work = Path(tempfile.mkdtemp(prefix="bench-crowd-"))
    try:
        result = run_crowd(work, visitors=args.visitors, rate=args.rate, webhooks=args.webhooks)
        print("\n".join(result.report(args.rate)))
    finally:
        if args.keep:
            print(f"working folder: {work}")
        else:
            shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
