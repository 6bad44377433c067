"""How many `logs` webhooks per second one app event loop can verify and fold into its jobs.

Run from the repository root:

    python -m bench.webhooks                      # 50 jobs, 10 s of deliveries, small bodies
    python -m bench.webhooks --inline             # bodies as they are today (inputs inline)
    python -m bench.webhooks --jobs 200 --rate 2  # each job pushed twice a second

The app side is the real path on one event loop: the services as the app opens them (the built-in
engine with the `stall` scenario, so every prediction stays processing), the webhook route served
by uvicorn on 127.0.0.1, the inbox checking each delivery (address, body cap, HMAC-SHA256 with
the account key, tolerance, duplicate ids), and each job's own follower folding the newest state
in (its progress and log tail, then waking its viewers). The sender is another process: it signs
each delivery as Replicate does, every job's log one tqdm line longer each time, at `--rate`
deliveries per job per second (Replicate throttles `logs` to 2/s per prediction), `--senders`
connections at once. Reported: deliveries answered per second, their latency, the app loop's
lag (a 10 ms ticker on it) and the app process's CPU, and whether every job ended up showing
the last line sent (folded, not just answered).

`--real-app` serves the route as `app.py` does (build_app: Gradio's FastAPI app, its middleware
and ours, its lifespan opening the services); `--uvloop` runs the app on uvloop, as uvicorn does
when it is installed (requirements.txt); `--profile FILE` keeps a cProfile (thread CPU) of the
app while deliveries arrive. The sender is ready before the CPU count starts.

Measured on the 2-core machine under other work (load average 7-13), 20 jobs flat out, ~900-byte
bodies, every job showing the last line sent, ms of app CPU per delivery, before -> after
answering deliveries in plain ASGI before Gradio's routing (`WebhookDoor`) and waking followers
without tasks:

    bare route (Starlette), asyncio    0.82 -> 0.76
    real app, asyncio                  0.93 -> 0.83
    real app, uvloop (as it runs)      0.58 -> 0.45

At Replicate's 2 `logs` webhooks a second per prediction, the ~190 jobs a 1,000-visitor crowd
runs at once send ~380/s: ~0.17 of the loop's core (~0.32 on asyncio). Hence
`LIPSYNC_WEBHOOK_PROGRESS_MAX_JOBS` 250 (~500/s, ~0.23 core); 1,000 running jobs would want
2,000/s = ~0.9 core, more than one loop can spare.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import cProfile
import json
import os
import pstats
import resource
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

import gradio as gr  # noqa: E402
import httpx  # noqa: E402
import uvicorn  # noqa: E402
import uvloop  # noqa: E402
from starlette.applications import Starlette  # noqa: E402

from demo_app.jobs import JobStatus  # noqa: E402
from demo_app.replicate import SigningKey  # noqa: E402
from demo_app.server import ServicesHandle, build_app  # noqa: E402
from demo_app.services import Services, open_services, webhook_links  # noqa: E402
from demo_app.settings import Settings  # noqa: E402
from demo_app.webhooks import WebhookInbox, webhook_route  # noqa: E402

FACE = REPO / "assets" / "sample-face.png"
VOICE = REPO / "assets" / "sample-voice.wav"
MODEL = "wan-video/wan-2.2-s2v"


def tqdm(step: int) -> str:
    return f"{step % 100:3d}%|#####     | {step}/100000 [00:{step % 60:02d}<00:10, 9.50it/s]\n"


# --- the sender (its own process) ---------------------------------------------------------------


def logs(step: int) -> str:
    """A log one character longer each step, ending in a tqdm line (so each step is newer)."""
    return "." * step + "\n" + tqdm(step)


async def send(plan: dict[str, Any], seconds: float, rate: float, senders: int) -> dict[str, Any]:
    """Each connection owns some jobs and pushes them in order (so nothing arrives stale), at
    `rate` per job per second, or as fast as the app answers when `rate` is 0. Plain HTTP/1.1 on
    kept-alive sockets: a client library would be slower than the server it measures."""
    key = SigningKey(bytes.fromhex(plan["key"]))
    jobs: list[dict[str, Any]] = plan["jobs"]
    latencies: list[float] = []
    answers: dict[str, int] = {}
    applied: dict[str, int] = {}
    stop = time.monotonic() + seconds

    for job in jobs:  # the body around its logs, made once: the sender must cost less than the app
        before, _, after = json.dumps({**job["prediction"], "logs": "@LOGS@"}).partition('"@LOGS@"')
        job["frame"] = (before.encode(), after.encode())

    async def connection(mine: list[dict[str, Any]]) -> None:
        url = httpx.URL(mine[0]["url"])
        reader, writer = await asyncio.open_connection(url.host, url.port)
        began, step = time.monotonic(), 0
        while time.monotonic() < stop:
            step += 1
            if rate:
                await asyncio.sleep(max(0.0, began + step / rate - time.monotonic()))
            for job in mine:
                before, after = job["frame"]
                body = before + json.dumps(logs(step)).encode() + after
                webhook_id, stamp = f"msg_{job['job_id']}_{step}", str(int(time.time()))
                head = (
                    f"POST {httpx.URL(job['url']).raw_path.decode()} HTTP/1.1\r\n"
                    f"Host: {url.host}:{url.port}\r\n"
                    f"Content-Type: application/json\r\nContent-Length: {len(body)}\r\n"
                    f"webhook-id: {webhook_id}\r\nwebhook-timestamp: {stamp}\r\n"
                    f"webhook-signature: v1,{key.sign(webhook_id, stamp, body)}\r\n\r\n"
                )
                sent = time.perf_counter()
                writer.write(head.encode() + body)
                status = (await reader.readline()).split(b" ")[1].decode()
                length = 0
                while (line := await reader.readline()) not in (b"\r\n", b""):
                    name, _, value = line.decode().partition(":")
                    if name.lower() == "content-length":
                        length = int(value)
                text = (await reader.readexactly(length)).decode()
                latencies.append(time.perf_counter() - sent)
                label = f"{status} {text}"
                answers[label] = answers.get(label, 0) + 1
                if status == "200":
                    applied[job["job_id"]] = step
        writer.close()

    began = time.monotonic()
    await asyncio.gather(*(connection(jobs[i::senders]) for i in range(min(senders, len(jobs)))))
    elapsed = time.monotonic() - began
    latencies.sort()
    return {
        "sent": len(latencies),
        "per_s": len(latencies) / elapsed,
        "p50_ms": 1000 * latencies[len(latencies) // 2],
        "p99_ms": 1000 * latencies[int(len(latencies) * 0.99)],
        "answers": answers,
        "last": applied,
        "body_bytes": len(json.dumps({**jobs[0]["prediction"], "logs": logs(1)})),
    }


# --- the app (this process) ---------------------------------------------------------------------


class _Server(uvicorn.Server):
    def __init__(self, config: uvicorn.Config, ready: asyncio.Event) -> None:
        super().__init__(config)
        self._ready = ready

    async def startup(self, sockets: list[socket.socket] | None = None) -> None:
        try:
            await super().startup(sockets=sockets)
        finally:
            self._ready.set()


@contextlib.asynccontextmanager
async def served(app: Any, sock: socket.socket, lifespan: str = "off") -> AsyncIterator[None]:
    ready = asyncio.Event()
    server = _Server(uvicorn.Config(app, lifespan=lifespan, log_level="warning", access_log=False), ready)
    task = asyncio.create_task(server.serve(sockets=[sock]))
    await ready.wait()
    try:
        yield
    finally:
        server.should_exit = True
        await task


async def loop_lag(samples: list[float], stop: asyncio.Event) -> None:
    while not stop.is_set():
        began = time.perf_counter()
        await asyncio.sleep(0.01)
        samples.append(time.perf_counter() - began - 0.01)


async def processing(services: Services, owner: str, job_ids: list[str]) -> None:
    """Return once every job's prediction is processing (each job's own stream says so)."""

    async def one(job_id: str) -> None:
        async for snap in services.jobs.subscribe(owner, job_id):
            if snap.status is JobStatus.PROCESSING:
                return
        raise RuntimeError(f"job {job_id} ended before it was processing: {snap.status} {snap.message}")

    await asyncio.gather(*(one(job_id) for job_id in job_ids))


@contextlib.asynccontextmanager
async def app_side(
    args: argparse.Namespace, settings: Settings, sock: socket.socket
) -> AsyncIterator[Services]:
    """The app serving the webhook route, and its services. `--real-app`: the app `app.py` serves
    (build_app: Gradio's FastAPI app, its middleware and ours, its lifespan opening the services);
    else the services and the route alone on a bare Starlette app."""
    if args.real_app:
        handle = ServicesHandle()
        demo, launch_kwargs = build_app(settings, handle)
        app: Any = gr.routes.App.create_app(demo, app_kwargs=launch_kwargs["app_kwargs"])
        async with served(app, sock, lifespan="on"):
            yield await handle.get()
        return
    async with open_services(settings) as services:
        inbox: WebhookInbox | None = services.webhooks

        async def current() -> WebhookInbox | None:
            return inbox

        bare = Starlette(routes=[webhook_route(current, max_body_bytes=settings.webhook_max_body_kb * 1024)])
        async with served(bare, sock):
            yield services


async def run(args: argparse.Namespace) -> None:
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    with tempfile.TemporaryDirectory() as tmp:
        settings = Settings(
            _env_file=None,
            data_dir=Path(tmp),
            replicate_api_token=None,
            engine_scenario="stall",
            public_url=f"http://127.0.0.1:{port}",
            webhook_safety_poll_s=3600.0,
            webhook_max_body_kb=4096,
            max_jobs_per_owner=args.jobs,
            max_jobs_total=args.jobs + 10,
            starting_grant=10_000_000,
            daily_budget=1_000_000_000,
            media_workers=2,
        )
        async with app_side(args, settings, sock) as services:
            owner = "browser:bench"
            await services.ledger.open_account(owner)
            started = [
                await services.jobs.start(owner, str(FACE), str(VOICE), MODEL, {}) for _ in range(args.jobs)
            ]
            await asyncio.wait_for(processing(services, owner, [s.job_id for s in started]), 600)
            links = webhook_links(settings)
            assert links is not None
            key = await services.client.webhook_signing_key()
            assert services.engine is not None
            jobs = []
            for snap in started:
                current_snap = services.jobs.snapshot(owner, snap.job_id)
                assert current_snap.prediction_id is not None
                prediction = services.engine.runtime.get(current_snap.prediction_id).to_json(
                    "http://engine.internal"
                )
                if not args.inline:
                    prediction["input"] = {
                        k: f"https://api.replicate.com/v1/files/{k}-file" for k in prediction["input"]
                    }
                jobs.append(
                    {"job_id": snap.job_id, "url": links.url_for(snap.job_id), "prediction": prediction}
                )
            plan = Path(tmp) / "plan.json"
            plan.write_text(json.dumps({"key": key.key.hex(), "jobs": jobs}))

            lags: list[float] = []
            stop = asyncio.Event()
            ticker = asyncio.create_task(loop_lag(lags, stop))
            sender = await asyncio.create_subprocess_exec(
                sys.executable,
                __file__,
                "--send",
                str(plan),
                "--seconds",
                str(args.seconds),
                "--rate",
                str(args.rate),
                "--senders",
                str(args.senders),
                stdout=subprocess.PIPE,
            )
            assert sender.stdout is not None
            await sender.stdout.readline()  # the sender is up: its start-up is not the app's CPU
            profile = cProfile.Profile(time.thread_time) if args.profile else None
            cpu_before = resource.getrusage(resource.RUSAGE_SELF)
            began = time.monotonic()
            if profile is not None:
                profile.enable()
            out = await sender.stdout.read()
            await sender.wait()
            if profile is not None:
                profile.disable()
            wall = time.monotonic() - began
            cpu_after = resource.getrusage(resource.RUSAGE_SELF)
            await asyncio.sleep(0.5)  # the followers fold the last deliveries in
            stop.set()
            await ticker
            result = json.loads(out)
            folded = sum(
                1
                for job_id, last in result["last"].items()
                if services.jobs.snapshot(owner, job_id).log_tail.endswith(
                    f"{last}/100000 [00:{last % 60:02d}<00:10, 9.50it/s]"
                )
            )
            cpu = (cpu_after.ru_utime + cpu_after.ru_stime - cpu_before.ru_utime - cpu_before.ru_stime) / wall
            for snap in started:
                await services.jobs.cancel(owner, snap.job_id)
    lags.sort()
    bodies = "inline inputs" if args.inline else "inputs by URL"
    print(f"{'the real app (build_app: Gradio, its middleware and ours)' if args.real_app else 'bare route'}")
    print(f"jobs {args.jobs}, {args.rate}/s each, {args.senders} connections")
    print(f"body {result['body_bytes']} bytes ({bodies})")
    print(f"deliveries answered: {result['sent']} in {args.seconds:.0f} s = {result['per_s']:.0f}/s")
    print(f"delivery latency p50 {result['p50_ms']:.1f} ms, p99 {result['p99_ms']:.1f} ms")
    print(f"answers: {result['answers']}")
    print(f"jobs showing the last line sent: {folded}/{args.jobs}")
    lag_p99 = 1000 * lags[int(len(lags) * 0.99)]
    print(f"app loop lag p50 {1000 * statistics.median(lags):.1f} ms, p99 {lag_p99:.1f} ms")
    per_delivery_ms = 1000 * cpu * wall / max(1, result["sent"])
    print(f"app CPU {cpu:.2f} cores = {per_delivery_ms:.2f} ms per delivery")
    print(f"one event loop at 100 % would take ~{1000 / per_delivery_ms:.0f} deliveries/s")
    if profile is not None:
        profile.dump_stats(args.profile)
        pstats.Stats(profile).sort_stats("tottime").print_stats(40)


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--jobs", type=int, default=50)
    parser.add_argument("--rate", type=float, default=2.0, help="deliveries per job per second (0: flat out)")
    parser.add_argument("--seconds", type=float, default=10.0)
    parser.add_argument("--senders", type=int, default=32, help="connections the sender keeps open")
    parser.add_argument("--inline", action="store_true", help="bodies with the inputs inline as data: URLs")
    parser.add_argument("--real-app", action="store_true", help="the route inside the app app.py serves")
    parser.add_argument("--uvloop", action="store_true", help="the app on uvloop, as uvicorn runs it")
    parser.add_argument("--profile", type=Path, help="cProfile the app while deliveries arrive; stats here")
    parser.add_argument("--send", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.send is not None:
        plan = json.loads(args.send.read_text())
        print("ready", flush=True)
        print(json.dumps(asyncio.run(send(plan, args.seconds, args.rate, args.senders))))
        return
    if args.uvloop:
        uvloop.run(run(args))
    else:
        asyncio.run(run(args))


if __name__ == "__main__":
    os.environ.setdefault("GRADIO_ANALYTICS_ENABLED", "False")
    main()
