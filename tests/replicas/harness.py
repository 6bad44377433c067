"""Several copies of the app behind HAProxy, as deploy/compose.yaml runs them, without containers.

`deployment(work, database_url)` starts, in `work`:
- one engine (`python -m demo_app.engine --ready-clip ...`, quickened) that every replica uses over
  HTTP with one token, as replicas share one Replicate account;
- two `python app.py` on free ports, each with its own data directory, the same
  `LIPSYNC_DATABASE_URL` and the same secrets (API keys, webhooks, browser state), as compose sets them;
- Debian's `haproxy` on a free port with deploy/haproxy.cfg, the compose file's own configuration.
It yields a `Deployment` (the balancer's URL and each replica's) and stops everything after.
`single_app(work, engine)` is one app on TinyDB, for the same history on today's engine.
"""

from __future__ import annotations

import os
import secrets
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from bench._balancer import REPLICAS, shared_secrets, start_balancer
from bench._crowd_procs import ready_clip
from bench._queue import REPO, free_port, start_app, stop, wait_until_up

__all__ = ["REPLICAS", "Deployment", "Engine", "comparable", "deployment", "engine", "single_app"]

ENGINE_TOKEN = "r8_replicas_" + secrets.token_hex(8)
ENGINE_TIME_SCALE = 20.0
"""The ready clip's 3 s starting and 20 s processing pass in about a second."""
STOP_S = 10.0
"""Ctrl-C, then killed after this long, as `docker stop` does (a replica stops in a few seconds,
open streams or not: see test_stop.py)."""


@dataclass(frozen=True)
class Engine:
    url: str
    token: str


@dataclass(frozen=True)
class Deployment:
    url: str
    """The load balancer, as visitors reach the app."""
    replicas: dict[str, str]
    """Each replica's own URL by its SERVERID cookie value."""
    api_key_secret: str
    processes: dict[str, subprocess.Popen[bytes]]
    """Each replica's process by the same name (a test may kill one)."""


@contextmanager
def engine(work: Path, time_scale: float = ENGINE_TIME_SCALE) -> Iterator[Engine]:
    """The built-in engine in its own process, serving a ready clip (quickly by default)."""
    port = free_port()
    command = [sys.executable, "-m", "demo_app.engine", "--port", str(port), "--token", ENGINE_TOKEN]
    command += ["--ready-clip", str(ready_clip(work)), "--data-dir", str(work / "engine")]
    command += ["--time-scale", str(time_scale), "--no-access-log"]
    with (work / "engine.log").open("ab") as log:
        process = subprocess.Popen(command, cwd=REPO, env=_clean_env(), stdout=log, stderr=subprocess.STDOUT)
    try:
        url = f"http://127.0.0.1:{port}"
        wait_until_up(url + "/_engine/stats", process, {"Authorization": f"Bearer {ENGINE_TOKEN}"})
        yield Engine(url, ENGINE_TOKEN)
    finally:
        stop(process, STOP_S)


def app_env(work: Path, name: str, port: int, engine: Engine, extra: dict[str, str]) -> dict[str, str]:
    """One replica's environment: its port and data directory, the engine, and `extra`."""
    return {
        **_clean_env(),
        "GRADIO_ANALYTICS_ENABLED": "False",
        "GRADIO_SERVER_PORT": str(port),
        "REPLICATE_API_TOKEN": engine.token,
        "REPLICATE_BASE_URL": engine.url,
        "LIPSYNC_DATA_DIR": str(work / name),
        "LIPSYNC_REPLICA_NAME": name,  # as compose names each replica's host
        "LIPSYNC_POLL_INTERVAL_S": "0.2",
        **extra,
    }


@contextmanager
def single_app(work: Path, engine: Engine, extra: dict[str, str]) -> Iterator[str]:
    """One `python app.py` on TinyDB (no database URL); its URL."""
    port = free_port()
    app = start_app(app_env(work, "single", port, engine, extra), port, work / "single.log")
    try:
        yield f"http://127.0.0.1:{port}/"
    finally:
        stop(app, STOP_S)


@contextmanager
def deployment(work: Path, engine: Engine, database_url: str, extra: dict[str, str]) -> Iterator[Deployment]:
    """Two replicas on `database_url` behind HAProxy; `extra` is added to both replicas' settings."""
    shared = {**shared_secrets(), "LIPSYNC_DATABASE_URL": database_url, **extra}
    ports = {name: free_port() for name in REPLICAS}
    apps: list[subprocess.Popen[bytes]] = []
    try:
        for name, port in ports.items():
            env = app_env(work, name, port, engine, shared)
            apps.append(start_app(env, port, work / f"{name}.log"))
        processes = dict(zip(ports, apps, strict=True))
        balancer, url = start_balancer(work / "haproxy.log", ports)
        apps.append(balancer)
        yield Deployment(
            url=url,
            replicas={name: f"http://127.0.0.1:{port}/" for name, port in ports.items()},
            api_key_secret=shared["LIPSYNC_API_KEY_SECRET"],
            processes=processes,
        )
    finally:
        for process in reversed(apps):
            stop(process, STOP_S)


def comparable(credits: dict[str, Any]) -> dict[str, Any]:
    """The credits without what differs between two runs of one history: times, sequence numbers
    (they count every owner's lines, so they depend on how visitors interleave; they must only
    increase) and which of an owner's jobs running at once settled first. So the statement is
    kept line by line without its job ids, and each job's own lines beside it, in any order."""
    seqs = [line["seq"] for line in credits["statement"]]
    assert seqs == sorted(set(seqs)), seqs
    lines = [
        {k: v for k, v in line.items() if k not in ("time", "job_id", "seq")} for line in credits["statement"]
    ]
    by_job: dict[str, list[tuple[str, int, int]]] = {}
    for line in credits["statement"]:
        if line["job_id"]:
            by_job.setdefault(line["job_id"], []).append((line["kind"], line["amount"], line["held_change"]))
    jobs = sorted(by_job.values())
    return {**{k: v for k, v in credits.items() if k != "statement"}, "statement": lines, "jobs": jobs}


def _clean_env() -> dict[str, str]:
    """Our environment without the project's own settings: each process gets exactly what we set."""
    return {k: v for k, v in os.environ.items() if not k.startswith(("LIPSYNC_", "REPLICATE_", "GRADIO_"))}
