"""The app's services (jobs, ledger, batches) on the built-in engine, opened by `open_services`."""

from __future__ import annotations

import contextlib
import wave
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path
from typing import Any

import pytest

from demo_app.engine import Engine, RenderPool, Scenario
from demo_app.media import MediaWorkers
from demo_app.services import LocalEngine, Services, open_services
from demo_app.settings import Settings

SAMPLES = Path(__file__).resolve().parents[2] / "assets"
TOKEN = "r8_test_token_for_the_engine"
OWNER = "hf:researcher"

ServicesFactory = Callable[..., Awaitable[Services]]


@pytest.fixture
def face() -> Path:
    return SAMPLES / "sample-face.png"


@pytest.fixture
def clips(tmp_path: Path) -> list[Path]:
    """Three short clips of the sample voice (0.8 s, 1 s and 1.2 s): real speech, quick to render."""
    made = []
    for number, seconds in enumerate((0.8, 1.0, 1.2), start=1):
        out = tmp_path / f"clip {number}.wav"
        with wave.open(str(SAMPLES / "sample-voice.wav")) as src, wave.open(str(out), "wb") as dst:
            dst.setparams(src.getparams())
            dst.writeframes(src.readframes(int(src.getframerate() * seconds)))
        made.append(out)
    return made


@pytest.fixture
async def open_app_services(
    tmp_path: Path, render_pool: RenderPool, media_workers: MediaWorkers
) -> AsyncIterator[ServicesFactory]:
    """Open the services over a fresh engine running `scenario`; closed after the test."""
    async with contextlib.AsyncExitStack() as exits:

        async def build(scenario: str | Scenario = "normal", **overrides: Any) -> Services:
            engine = Engine(
                token=TOKEN,
                data_dir=tmp_path / "engine",
                scenario=scenario,
                time_scale=20.0,
                render_pool=render_pool,
            )
            await engine.start()
            exits.push_async_callback(engine.aclose)
            values: dict[str, Any] = {
                "data_dir": tmp_path / "data",
                "poll_interval_s": 0.05,
                "starting_grant": 1000,
                "daily_budget": 100_000,
                "max_jobs_per_owner": 1,
            }
            values.update(overrides)
            settings = Settings(_env_file=None, **values)
            services = await exits.enter_async_context(
                open_services(settings, engine=LocalEngine(engine, TOKEN), media_workers=media_workers)
            )
            await services.ledger.open_account(OWNER)
            return services

        yield build
