"""Small steps the engine tests repeat: upload the sample media, create, wait for a state."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx

from demo_app.engine import HOSTED_MODELS, Engine, RecordStatus
from demo_app.engine._predictions import PredictionRecord
from tests.engine.conftest import FACE

WAN_PATH = "/v1/models/wan-video/wan-2.2-s2v/predictions"
SADTALKER_VERSION = HOSTED_MODELS["cjwbw/sadtalker"].version


async def upload(client: httpx.AsyncClient, path: Path, content_type: str) -> str:
    content = await asyncio.to_thread(path.read_bytes)
    response = await client.post("/v1/files", files={"content": (path.name, content, content_type)})
    assert response.status_code == 201, response.text
    url: str = response.json()["urls"]["get"]
    return url


async def wan_input(client: httpx.AsyncClient, voice: Path) -> dict[str, str]:
    """A valid input of wan-2.2-s2v (its schema requires a prompt)."""
    return {
        "prompt": "A person talking to the camera.",
        "image": await upload(client, FACE, "image/png"),
        "audio": await upload(client, voice, "audio/wav"),
    }


async def create(
    client: httpx.AsyncClient, input: dict[str, Any], *, headers: dict[str, str] | None = None
) -> dict[str, Any]:
    """Create a wan-2.2-s2v prediction; the 201 body."""
    response = await client.post(WAN_PATH, json={"input": input}, headers=headers or {})
    assert response.status_code == 201, response.text
    body: dict[str, Any] = response.json()
    return body


def record(engine: Engine, prediction_id: str) -> PredictionRecord:
    return engine.runtime.get(prediction_id)


async def reach(engine: Engine, prediction_id: str, condition: Callable[[PredictionRecord], bool]) -> None:
    await record(engine, prediction_id).wait_until(condition)


async def settled(engine: Engine, client: httpx.AsyncClient, prediction_id: str) -> dict[str, Any]:
    """Wait for the terminal status (an event, no polling), then read it over HTTP."""
    await record(engine, prediction_id).settled.wait()
    response = await client.get(f"/v1/predictions/{prediction_id}")
    assert response.status_code == 200
    body: dict[str, Any] = response.json()
    return body


def processing(r: PredictionRecord) -> bool:
    return r.status is RecordStatus.PROCESSING
