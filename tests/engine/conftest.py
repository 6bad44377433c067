"""Fixtures of the engine tests: sample media, an authenticated client per engine, a hand clock."""

from __future__ import annotations

import wave
from collections.abc import AsyncIterator, Callable
from pathlib import Path

import httpx
import pytest

from demo_app.engine import Engine
from tests.conftest import ENGINE_TOKEN
from tests.engine.fakes import ManualClock

ASSETS = Path(__file__).resolve().parents[2] / "assets"
FACE = ASSETS / "sample-face.png"
VOICE = ASSETS / "sample-voice.wav"


@pytest.fixture(scope="session")
def voice(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The first second of the sample voice: real speech, quick to render."""
    dest = tmp_path_factory.mktemp("voice") / "voice-1s.wav"
    with wave.open(str(VOICE)) as reader, wave.open(str(dest), "wb") as writer:
        writer.setparams(reader.getparams())
        writer.writeframes(reader.readframes(reader.getframerate()))
    return dest


@pytest.fixture
def manual_clock() -> ManualClock:
    return ManualClock()


@pytest.fixture
async def api() -> AsyncIterator[Callable[..., httpx.AsyncClient]]:
    """Factory: an httpx client on an engine's in-process transport, with the token unless told."""
    clients: list[httpx.AsyncClient] = []

    def make(engine: Engine, *, token: str | None = ENGINE_TOKEN) -> httpx.AsyncClient:
        headers = {"Authorization": f"Bearer {token}"} if token is not None else {}
        client = httpx.AsyncClient(transport=engine.transport(), base_url=Engine.base_url, headers=headers)
        clients.append(client)
        return client

    yield make
    for client in clients:
        await client.aclose()
