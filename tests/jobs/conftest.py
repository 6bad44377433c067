"""A whole job stack on the built-in engine over HTTP, assembled by the app's own `open_services`."""

from __future__ import annotations

import contextlib
import wave
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from demo_app.catalog import CATALOG, SchemaWatch
from demo_app.credits import Ledger
from demo_app.engine import Engine, RenderPool, Scenario
from demo_app.jobs import JobManager, JobSnapshot
from demo_app.media import MediaWorkers
from demo_app.replicate import Pacing, ReplicateClient
from demo_app.services import LocalEngine, open_services
from demo_app.settings import Settings
from demo_app.webhooks import WebhookInbox

SAMPLES = Path(__file__).resolve().parents[2] / "assets"
TOKEN = "r8_test_token_for_the_engine"
OWNER = "browser:tester"
ALL_MODELS = ",".join(CATALOG)
"""Job tests run every model the app knows; `models=None` gives the Space's default offer."""


@dataclass
class Stack:
    """The parts a job test looks at."""

    engine: Engine
    client: ReplicateClient
    ledger: Ledger
    jobs: JobManager
    settings: Settings
    models: SchemaWatch
    transitions: list[JobSnapshot] = field(default_factory=list)
    hooks: list[Callable[[JobSnapshot], None]] = field(default_factory=list)
    """Called at each transition, inside the follower (a test can race it)."""
    webhooks: WebhookInbox | None = None
    """The webhook inbox, when the settings give a public address."""


StackFactory = Callable[..., Awaitable[Stack]]


@pytest.fixture
def face() -> Path:
    return SAMPLES / "sample-face.png"


@pytest.fixture
def voice(tmp_path: Path) -> Path:
    """The first two seconds of the sample voice: enough speech, quick to render."""
    out = tmp_path / "voice-2s.wav"
    with wave.open(str(SAMPLES / "sample-voice.wav")) as src, wave.open(str(out), "wb") as dst:
        dst.setparams(src.getparams())
        dst.writeframes(src.readframes(src.getframerate() * 2))
    return out


@pytest.fixture
async def make_stack(
    tmp_path: Path, render_pool: RenderPool, media_workers: MediaWorkers
) -> AsyncIterator[StackFactory]:
    """Build stacks with the app's own factory (several per test to simulate restarts); everything
    is closed at the end, services before the engines they talk to."""
    async with contextlib.AsyncExitStack() as exits:
        engines = 0

        async def build(
            scenario: str | Scenario = "normal",
            *,
            engine: Engine | None = None,
            time_scale: float = 20.0,
            output_ttl_s: float = 3600.0,
            grace_s: float = 0.0,
            pacing: Pacing | None = None,
            **overrides: Any,
        ) -> Stack:
            nonlocal engines
            if engine is None:
                engines += 1
                engine = Engine(
                    token=TOKEN,
                    data_dir=tmp_path / f"engine-{engines}",
                    scenario=scenario,
                    time_scale=time_scale,
                    output_ttl_s=output_ttl_s,
                    render_pool=render_pool,
                )
                await engine.start()
                exits.push_async_callback(engine.aclose)
            values: dict[str, Any] = {
                "data_dir": tmp_path / "data",
                "poll_interval_s": 0.05,
                "starting_grant": 1000,
                "daily_budget": 100_000,
                "deadline_grace_s": grace_s,
                "models": ALL_MODELS,
            }
            values.update(overrides)
            settings = Settings(_env_file=None, **values)
            transitions: list[JobSnapshot] = []
            hooks: list[Callable[[JobSnapshot], None]] = []

            def observe(snap: JobSnapshot) -> None:
                transitions.append(snap)
                for hook in hooks:
                    hook(snap)

            services = await exits.enter_async_context(
                open_services(
                    settings,
                    engine=LocalEngine(engine, TOKEN),
                    media_workers=media_workers,
                    observer=observe,
                    pacing=pacing,
                )
            )
            return Stack(
                engine,
                services.client,
                services.ledger,
                services.jobs,
                settings,
                services.models,
                transitions,
                hooks,
                services.webhooks,
            )

        yield build
