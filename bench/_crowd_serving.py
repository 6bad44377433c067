"""Where the crowd goes: one `python app.py` on TinyDB, as a Space runs it; or replicas on one
PostgreSQL database, as deploy/compose.yaml runs them (two behind HAProxy with deploy/haproxy.cfg).

Replicas get the crowd's settings (`_crowd_procs.app_env`), their own port and data directory (so
their loop-lag files are their own), the database URL and the secrets every replica shares. Behind
the balancer they trust its one proxy hop, and webhooks are addressed to the balancer: one may
reach any replica, and the job is reached from any.
"""

from __future__ import annotations

import asyncio
import secrets
import subprocess
from collections import Counter
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from bench._balancer import REPLICAS, shared_secrets, start_balancer
from bench._crowd_procs import EngineProcess, app_env
from bench._crowd_report import verdicts
from bench._crowd_visitors import Visit
from bench._queue import free_port, start_app, stop
from demo_app.credits import Ledger
from demo_app.database import Database

LOOP_LAG = "loop-lag.txt"
"""Each app's loop-lag file in its data directory (`LIPSYNC_LOOP_LAG_LOG`, see `app_env`)."""


@dataclass(frozen=True)
class Served:
    """The running apps: where visitors go, the API key secret, each app's process by name and
    its data directory, and the balancer in front, if any."""

    url: str
    key_secret: str
    apps: dict[str, subprocess.Popen[bytes]]
    data_dirs: dict[str, Path]
    balancer: subprocess.Popen[bytes] | None

    def loop_lag(self, name: str) -> Path:
        return self.data_dirs[name] / LOOP_LAG


@contextmanager
def one_app(work: Path, engine: EngineProcess, *, visitors: int, webhooks: bool) -> Iterator[Served]:
    """`python app.py` on TinyDB in `work/app`, reached directly."""
    port, secret, data = free_port(), secrets.token_hex(16), work / "app"
    env = app_env(
        engine=engine, port=port, data_dir=data, visitors=visitors, key_secret=secret, webhooks=webhooks
    )
    app = start_app(env, port, work / "app.log")
    try:
        yield Served(f"http://127.0.0.1:{port}/", secret, {"app": app}, {"app": data}, None)
    finally:
        stop(app)


@contextmanager
def replicas(
    work: Path, engine: EngineProcess, database_url: str, *, count: int, visitors: int, webhooks: bool
) -> Iterator[Served]:
    """`count` replicas (1 or 2) on `database_url`; two are reached through HAProxy, one directly."""
    names = REPLICAS[:count]
    shared = {**shared_secrets(), "LIPSYNC_DATABASE_URL": database_url}
    ports = {name: free_port() for name in names}
    balancer_port = free_port() if count > 1 else None
    front = f"http://127.0.0.1:{balancer_port or ports[names[0]]}"
    started: list[subprocess.Popen[bytes]] = []
    try:
        for name in names:
            env = app_env(
                engine=engine,
                port=ports[name],
                data_dir=work / name,
                visitors=visitors,
                key_secret=shared["LIPSYNC_API_KEY_SECRET"],
                webhooks=webhooks,
            )
            env |= {**shared, "LIPSYNC_REPLICA_NAME": name}
            if balancer_port:
                env["LIPSYNC_TRUSTED_PROXY_HOPS"] = "1"
            if webhooks:
                env["LIPSYNC_PUBLIC_URL"] = front
            started.append(start_app(env, ports[name], work / f"{name}.log"))
        apps = dict(zip(names, started, strict=True))
        balancer = None
        if balancer_port:
            balancer, _ = start_balancer(work / "haproxy.log", ports, balancer_port)
            started.append(balancer)
        yield Served(
            front + "/", shared["LIPSYNC_API_KEY_SECRET"], apps, {n: work / n for n in names}, balancer
        )
    finally:
        for process in reversed(started):
            stop(process)


def read_database(url: str, visits: Sequence[Visit]) -> tuple[Counter[str], dict[str, str]]:
    """After the replicas stopped: how each job's hold ended in the ledger, and each job's lease
    holder (the replica process that followed it last)."""
    return asyncio.run(_read_database(url, visits))


async def _read_database(url: str, visits: Sequence[Visit]) -> tuple[Counter[str], dict[str, str]]:
    database = await Database.open(url)
    try:
        async with database.connection() as conn:
            cur = await conn.execute("SELECT job_id, lease_holder FROM jobs")
            holders = {str(job): str(holder or "") for job, holder in await cur.fetchall()}
        ledger = Ledger.on_database(database, starting_grant=0, daily_budget=0, max_open_holds_per_owner=0)
        return await verdicts(ledger, visits), holders
    finally:
        await database.aclose()
