"""How large is one read of a running prediction, with the inputs inline and through the Files API?

    python -m bench.prediction_body
    python -m bench.prediction_body --face other-face.png --voice other-voice.wav

The engine runs in its own thread and is reached over real HTTP, as Replicate would be. For each
way of sending the inputs, a job of the app (its own checks, conversions and create) starts on
the sample face and voice; while the prediction runs (`stall`), its `GET /v1/predictions/{id}`
body — what every poll returns — is measured, then the job is canceled and the engine is asked
which uploaded files are left. "inline" is the old rule (files up to 256 KiB go as `data:` URLs,
as `ReplicateClient.file_input` defaults); "files" is `Settings.inline_input_max_bytes`.
"""

from __future__ import annotations

import argparse
import asyncio
import tempfile
import time
from pathlib import Path

import httpx

from demo_app.engine import Engine, LoopbackServer
from demo_app.services import open_services
from demo_app.settings import Settings

ROOT = Path(__file__).resolve().parents[1]
TOKEN = "r8_bench_prediction_body"
OWNER = "browser:bench"
MODEL = "wan-video/wan-2.2-s2v"
OLD_INLINE_MAX = 256 * 1024


async def measure(
    base_url: str, data_dir: Path, face: Path, voice: Path, inline_max: int
) -> tuple[int, int, int]:
    """(bytes of one poll, uploads made, uploaded files left a moment after the job ended)."""
    settings = Settings(
        _env_file=None,
        data_dir=data_dir,
        poll_interval_s=0.2,
        starting_grant=100_000,
        daily_budget=10**9,
        inline_input_max_bytes=inline_max,
        replicate_api_token=TOKEN,
        replicate_base_url=base_url,
    )
    headers = {"Authorization": f"Bearer {TOKEN}"}
    async with open_services(settings) as app, httpx.AsyncClient(base_url=base_url, headers=headers) as http:
        await app.ledger.open_account(OWNER)
        before = {f["id"] for f in (await http.get("/v1/files")).json()["results"]}
        first = await app.jobs.start(OWNER, str(face), str(voice), MODEL, {})
        prediction_id = None
        async for snap in app.jobs.subscribe(OWNER, first.job_id):
            if snap.prediction_id is not None or snap.terminal:
                prediction_id = snap.prediction_id
                break
        if prediction_id is None:
            raise SystemExit(f"the job ended before its create: {snap.message}")
        body = (await http.get(f"/v1/predictions/{prediction_id}")).content
        uploaded = {f["id"] for f in (await http.get("/v1/files")).json()["results"]} - before
        await app.jobs.cancel(OWNER, first.job_id)
        deadline = time.monotonic() + 5.0
        while True:
            left = {f["id"] for f in (await http.get("/v1/files")).json()["results"]} & uploaded
            if not left or time.monotonic() > deadline:
                break
            await asyncio.sleep(0.05)
    return len(body), len(uploaded), len(left)


async def run(face: Path, voice: Path) -> None:
    with tempfile.TemporaryDirectory() as tmp_name:
        tmp = Path(tmp_name)
        engine = Engine(token=TOKEN, data_dir=tmp / "engine", scenario="stall")
        with LoopbackServer(engine) as server:
            rows = []
            for label, inline_max in (
                ("inline (<= 256 KiB as data:)", OLD_INLINE_MAX),
                ("files (Settings default)", Settings(_env_file=None).inline_input_max_bytes),
            ):
                size, uploads, left = await measure(server.base_url, tmp / label[:6], face, voice, inline_max)
                rows.append((label, size, uploads, left))
    print(f"{'inputs sent as':32}{'poll body':>12}{'uploads':>9}{'left after end':>16}")
    for label, size, uploads, left in rows:
        print(f"{label:32}{size:>10,} B{uploads:>9}{left:>16}")


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--face", type=Path, default=ROOT / "assets" / "sample-face.png")
    parser.add_argument("--voice", type=Path, default=ROOT / "assets" / "sample-voice.wav")
    args = parser.parse_args()
    for name, path in (("face", args.face), ("voice", args.voice)):
        print(f"{name}: {path} ({path.stat().st_size:,} bytes)")
    asyncio.run(run(args.face, args.voice))


if __name__ == "__main__":
    main()
