"""How long `python app.py` takes to stop on a signal while visitors stream their jobs from it.

    python -m bench.stop_time                       # 5 open /generate streams, SIGINT
    python -m bench.stop_time --streams 20 --signal TERM
    python -m bench.stop_time --database-url postgresql://...   # a replica on PostgreSQL

The engine serves a ready clip (`starting` 3 s, then `processing` 20 s), so every visitor's
stream is open and busy when the signal comes: each visitor uploads the sample files and calls
/generate through Gradio's queue protocol, and the signal is sent once every stream has shown
its job running. Printed: the seconds from the signal to the process's exit (it is killed after
`--kill-after-s`, as `docker stop` does after 10 s), its exit code, how each stream ended, and
whether the app closed its services (the jobs layer logs the leases it handed off on PostgreSQL).
"""

from __future__ import annotations

import argparse
import asyncio
import secrets
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx

from bench._crowd_procs import EngineProcess, app_env
from bench._queue import FACE, MODEL, VOICE, event_messages, fn_index, free_port, start_app, upload_async
from demo_app.visitors import KeyRing

SIGNALS = {"INT": signal.SIGINT, "TERM": signal.SIGTERM}


async def stream(
    http: httpx.AsyncClient, fn: int, key: str, index: int, running: asyncio.Event
) -> tuple[str, str]:
    """One visitor's /generate: its job's id and how its stream ended."""
    image, audio = await upload_async(http, FACE.read_bytes(), VOICE.read_bytes())
    job_id = ""
    try:
        async for _at, message in event_messages(
            http, fn, [key, image, audio, MODEL, "{}", "{}"], f"stop{index}"
        ):
            if message.get("msg") == "process_generating":
                first = message["output"]["data"][0]
                job_id = first["job_id"] if isinstance(first, dict) else job_id
                if "processing" in str(message["output"]):
                    running.set()
            if message.get("msg") == "process_completed":
                return job_id, "completed" if message.get("success") else f"ended: {message.get('output')}"
        return job_id, "closed without an answer"
    except httpx.HTTPError as exc:
        return job_id, f"cut: {type(exc).__name__}"
    except RuntimeError as exc:
        return job_id, str(exc)


async def measure(
    url: str, app: subprocess.Popen[bytes], key_secret: str, streams: int, sig: int, kill_after_s: float
) -> None:
    keys = KeyRing(key_secret.encode())
    async with httpx.AsyncClient(base_url=url, timeout=httpx.Timeout(30.0, read=600.0)) as http:
        fn = await fn_index(http, "generate")
        running = [asyncio.Event() for _ in range(streams)]
        tasks = [
            asyncio.create_task(stream(http, fn, keys.key_for(f"browser:stop-{i}"), i, running[i]))
            for i in range(streams)
        ]
        await asyncio.wait_for(asyncio.gather(*(event.wait() for event in running)), 120)
        signaled = time.monotonic()
        app.send_signal(sig)
        try:
            code = await asyncio.to_thread(app.wait, kill_after_s)
            killed = False
        except subprocess.TimeoutExpired:
            app.kill()
            code = await asyncio.to_thread(app.wait)
            killed = True
        took = time.monotonic() - signaled
        ended = await asyncio.wait_for(asyncio.gather(*tasks), 30)
    name = signal.Signals(sig).name
    late = f" (killed after {kill_after_s:g} s)" if killed else ""
    print(f"{streams} open streams, {name}: stopped in {took:.2f} s, exit code {code}{late}")
    outcomes = [outcome for _, outcome in ended]
    for outcome, count in sorted({e: outcomes.count(e) for e in outcomes}.items()):
        print(f"  streams {outcome}: {count}")


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--streams", type=int, default=5)
    parser.add_argument("--signal", choices=sorted(SIGNALS), default="INT")
    parser.add_argument("--kill-after-s", type=float, default=120.0)
    parser.add_argument("--database-url", default=None)
    parser.add_argument("--log", type=Path, default=None, help="keep the app's log here")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="lipsync-stop-") as folder:
        work = Path(folder)
        engine = EngineProcess.start(work)
        try:
            port, key_secret = free_port(), secrets.token_hex(16)
            env = app_env(
                engine=engine,
                port=port,
                data_dir=work / "app",
                visitors=args.streams,
                key_secret=key_secret,
                webhooks=False,
            )
            if args.database_url:
                env["LIPSYNC_DATABASE_URL"] = args.database_url
            log = work / "app.log"
            app = start_app(env, port, log)
            try:
                asyncio.run(
                    measure(
                        f"http://127.0.0.1:{port}/",
                        app,
                        key_secret,
                        args.streams,
                        SIGNALS[args.signal],
                        args.kill_after_s,
                    )
                )
            finally:
                if app.poll() is None:
                    app.kill()
            if args.log is not None:
                args.log.write_bytes(log.read_bytes())
            lines = log.read_text(errors="replace").splitlines()
            closing = [line for line in lines if "handed" in line or "Traceback" in line or "Error" in line]
            print("  app log at the end:", *(lines[-3:] if not closing else closing[-5:]), sep="\n    ")
        finally:
            engine.stop()
    sys.exit(0)


if __name__ == "__main__":
    main()
