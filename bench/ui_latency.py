"""How quickly the page answers, measured in a real Chromium.

1. Generate click -> the run panel's first status update (browser clock, both ends).
2. The engine's "succeeded" (its prediction's `completed_at`) -> the result <video> has a source.

The built-in engine runs standalone over loopback HTTP at real time (time scale 1), and the app
talks to it exactly as it talks to Replicate; figure 2 therefore includes one poll interval of
waiting (the job polls every `--poll` seconds), the download into our storage, the video probe,
the ledger capture and the trip to the browser.

    python bench/ui_latency.py [--runs 5] [--poll 2.0 0.5]
"""

from __future__ import annotations

import argparse
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import wave
from datetime import datetime
from pathlib import Path

import httpx
from playwright.sync_api import Browser, sync_playwright

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from demo_app.server import launch  # noqa: E402
from demo_app.settings import Settings  # noqa: E402

TOKEN = "r8_bench_local_engine"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]

OBSERVE_JS = """
() => {
  window.__bench = {};
  const bench = window.__bench;
  const generate = document.querySelector('#generate');
  generate.addEventListener('click', () => { bench.click = performance.now(); }, true);
  const status = document.querySelector('#job-status');
  new MutationObserver(() => {
    const job = status.querySelector('.ls-job');
    const started = job && job.dataset.status !== 'idle';
    if (started && bench.click !== undefined && bench.firstStatus === undefined) {
      bench.firstStatus = performance.now();
    }
  }).observe(status, {subtree: true, childList: true, attributes: true});
  const result = document.querySelector('#result');
  new MutationObserver(() => {
    const video = result.querySelector('video');
    if (bench.videoWall === undefined && video && video.getAttribute('src')) bench.videoWall = Date.now();
  }).observe(result, {subtree: true, childList: true, attributes: true});
}
"""


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def short_voice(folder: Path, seconds: int = 3) -> Path:
    out = folder / "voice.wav"
    with wave.open(str(REPO / "assets" / "sample-voice.wav")) as src, wave.open(str(out), "wb") as dst:
        dst.setparams(src.getparams())
        dst.writeframes(src.readframes(src.getframerate() * seconds))
    return out


def start_engine(folder: Path) -> tuple[subprocess.Popen[str], str]:
    """The engine as a separate process on loopback; returns once it listens."""
    port = free_port()
    argv = [sys.executable, "-m", "demo_app.engine", "--port", str(port), "--time-scale", "1"]
    argv += ["--token", TOKEN, "--data-dir", str(folder / "engine"), "--scenario", "normal"]
    env = dict(os.environ, PYTHONUNBUFFERED="1")
    process = subprocess.Popen(
        argv, cwd=REPO, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True
    )
    assert process.stdout is not None
    for line in process.stdout:
        if "Uvicorn running" in line or "Application startup complete" in line:
            break
    else:
        raise SystemExit(f"the engine did not start (exit code {process.poll()})")
    return process, f"http://127.0.0.1:{port}"


def one_run(browser: Browser, url: str, engine_url: str, face: Path, voice: Path) -> tuple[float, float]:
    """(click -> first status, engine succeeded -> video source), in milliseconds."""
    context = browser.new_context()
    try:
        page = context.new_page()
        page.set_default_timeout(120_000)
        page.goto(url)
        page.wait_for_selector("#balance .ls-balance")
        page.locator("#face input[type=file]").set_input_files(face)
        page.locator("#voice input[type=file]").set_input_files(voice)
        page.wait_for_function("() => !document.querySelector('#generate').disabled")
        page.evaluate(OBSERVE_JS)
        page.locator("#generate").click()
        page.wait_for_function("() => window.__bench.videoWall !== undefined")
        bench = page.evaluate("() => window.__bench")
        prediction_id = page.locator("#job-status .ls-pred code").inner_text()
    finally:
        context.close()
    answer = httpx.get(
        f"{engine_url}/v1/predictions/{prediction_id}", headers={"Authorization": f"Bearer {TOKEN}"}
    )
    answer.raise_for_status()
    succeeded = datetime.fromisoformat(answer.json()["completed_at"].replace("Z", "+00:00"))
    return bench["firstStatus"] - bench["click"], bench["videoWall"] - succeeded.timestamp() * 1000


def describe(name: str, values: list[float]) -> str:
    return (
        f"{name:<44} median {statistics.median(values):7.0f} ms   min {min(values):7.0f}   "
        f"max {max(values):7.0f}   (n={len(values)})"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--poll", type=float, nargs="+", default=[2.0, 0.5], help="poll intervals, seconds")
    args = parser.parse_args()
    os.environ.setdefault("GRADIO_ANALYTICS_ENABLED", "False")
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        voice = short_voice(folder)
        face = REPO / "assets" / "sample-face.png"
        engine, engine_url = start_engine(folder)
        try:
            with sync_playwright() as pw:
                browser = pw.chromium.launch(executable_path="/usr/bin/chromium", args=CHROMIUM_ARGS)
                for poll in args.poll:
                    port = free_port()
                    settings = Settings(
                        _env_file=None,
                        data_dir=folder / f"app-{poll}",
                        server_port=port,
                        replicate_api_token=TOKEN,
                        replicate_base_url=engine_url,
                        poll_interval_s=poll,
                        starting_grant=100_000,
                    )
                    demo = launch(settings, prevent_thread_lock=True, quiet=True)
                    try:
                        url = f"http://127.0.0.1:{port}/"
                        one_run(browser, url, engine_url, face, voice)  # warm-up, not counted
                        runs = [one_run(browser, url, engine_url, face, voice) for _ in range(args.runs)]
                    finally:
                        demo.close()
                    print(f"poll interval {poll:g} s, 3 s clip, engine over loopback HTTP at real time:")
                    print(describe("Generate click -> first status in the page", [r[0] for r in runs]))
                    print(describe("engine succeeded -> <video> has a source", [r[1] for r in runs]))
                browser.close()
        finally:
            engine.terminate()
            engine.wait(timeout=30)


if __name__ == "__main__":
    main()
