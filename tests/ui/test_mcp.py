"""The MCP tools, driven by the `mcp` Python client over streamable HTTP against the launched app."""

from __future__ import annotations

import base64
import contextlib
import json
import re
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import httpx2
import pytest
from mcp import ClientSession
from mcp.client.streamable_http import streamable_http_client
from mcp_types import CallToolResult, TextContent

from demo_app.agents import MCP_PATH
from tests.ui.conftest import REPO, AppFactory, RunningApp

pytestmark = pytest.mark.slow

TOOLS = {"models", "start", "status", "follow", "cancel", "credits"}
MAX_UPLOAD_MB = 1
"""Small enough that an oversized data: URI is cheap to send; the sample files fit."""


@pytest.fixture(scope="module")
def app(start_app: AppFactory) -> RunningApp:
    return start_app(max_upload_mb=MAX_UPLOAD_MB)


@contextlib.asynccontextmanager
async def session(app: RunningApp, key: str | None) -> AsyncIterator[ClientSession]:
    """An initialised MCP session with `key` in the X-Api-Key header (none when None)."""
    headers = {"X-Api-Key": key} if key is not None else {}
    async with (
        httpx2.AsyncClient(headers=headers, timeout=httpx2.Timeout(30.0, read=120.0)) as http,
        streamable_http_client(app.url.rstrip("/") + MCP_PATH, http_client=http) as (read, write),
        ClientSession(read, write) as client,
    ):
        await client.initialize()
        yield client


def data_uri(path: Path, mime: str) -> str:
    return f"data:{mime};base64,{base64.b64encode(path.read_bytes()).decode()}"


def answer(result: CallToolResult) -> dict[str, Any]:
    assert not result.is_error, text(result)
    assert isinstance(result.structured_content, dict)
    return result.structured_content


def text(result: CallToolResult) -> str:
    block = result.content[0]
    assert isinstance(block, TextContent)
    return block.text


def refusal(result: CallToolResult) -> str:
    """The one sentence of a refused call."""
    assert result.is_error
    sentence = text(result)
    assert sentence.endswith(".") and "\n" not in sentence and "Traceback" not in sentence
    return sentence


async def test_only_the_api_is_offered_and_no_schema_takes_the_key(app: RunningApp) -> None:
    async with session(app, None) as client:
        tools = (await client.list_tools()).tools
        models = answer(await client.call_tool("models", {}))
    assert {tool.name for tool in tools} == TOOLS
    for tool in tools:
        assert "key" not in json.dumps(tool.input_schema).lower(), tool.name
        assert tool.description and len(tool.description) > 80, tool.name
    start = next(tool for tool in tools if tool.name == "start")
    assert {"image", "audio", "model", "options", "preflight_json"} == set(start.input_schema["properties"])
    assert "data: URI" in (start.description or "") and "credits" in (start.description or "")
    assert {model["id"] for model in models["models"]} >= {"wan-video/wan-2.2-s2v"}


async def test_a_job_from_data_uris_is_followed_to_its_video_with_progress(
    app: RunningApp, face: Path, short_voice: Path
) -> None:
    notes: list[tuple[float, float | None, str | None]] = []

    async def on_progress(progress: float, total: float | None, message: str | None) -> None:
        notes.append((progress, total, message))

    async with session(app, app.api_key("browser:mcp-agent")) as client:
        first = answer(
            await client.call_tool(
                "start",
                {
                    "image": data_uri(face, "image/png"),
                    "audio": data_uri(short_voice, "audio/wav"),
                    "options": {"prompt": "a calm presenter"},
                },
            )
        )
        assert first["status"] == "queued" and not first["terminal"]
        follow = {"job_id": first["job_id"]}
        final = answer(await client.call_tool("follow", follow, progress_callback=on_progress))
        status = answer(await client.call_tool("status", {"job_id": first["job_id"]}))
        credits = answer(await client.call_tool("credits", {}))

    assert final["status"] == "succeeded" and status["status"] == "succeeded"
    assert len(notes) >= 2
    values = [progress for progress, _, _ in notes]
    assert values == sorted(set(values)) and values[-1] == 100.0
    assert notes[-1][2] is not None and notes[-1][2].startswith("succeeded")
    async with httpx.AsyncClient(timeout=30.0) as http:
        video = await http.get(final["video"])
    assert video.status_code == 200 and video.content[4:8] == b"ftyp"
    capture = [line for line in credits["statement"] if line["kind"] == "capture"]
    assert [line["job_id"] for line in capture] == [first["job_id"]]
    assert credits["balance"] == 1000 + capture[0]["amount"] and credits["held"] == 0
    assert final["charged"] == -capture[0]["amount"]


async def test_a_bad_or_missing_key_is_refused_in_a_sentence(app: RunningApp) -> None:
    async with session(app, "browser:someone.forged-signature") as client:
        forged = refusal(await client.call_tool("credits", {}))
    async with session(app, None) as client:
        missing = refusal(await client.call_tool("status", {"job_id": "abc"}))
    assert "not valid" in forged and "X-Api-Key" in forged
    assert "X-Api-Key" in missing


@pytest.mark.parametrize(
    ("image", "expected"),
    [
        ("file:///etc/passwd", "data: URI"),
        ("/etc/passwd", "data: URI"),
        ("http://example.com/face.png", "data: URI"),
        ("https://127.0.0.1:9/face.png", "private address"),
        ("https://169.254.169.254/latest/meta-data", "private address"),
        ("data:image/png;base64," + "A" * (MAX_UPLOAD_MB * 1024 * 1024 * 4 // 3 + 8), "larger than"),
    ],
    ids=["file-url", "path", "http", "loopback", "metadata-host", "oversized-data-uri"],
)
async def test_files_come_only_as_data_uris_or_public_https_links(
    app: RunningApp, short_voice: Path, image: str, expected: str
) -> None:
    key = app.api_key("browser:mcp-links")
    async with session(app, key) as client:
        audio = data_uri(short_voice, "audio/wav")
        result = await client.call_tool("start", {"image": image, "audio": audio})
        credits = answer(await client.call_tool("credits", {}))
    assert expected in refusal(result)
    assert credits["held"] == 0 and credits["open_holds"] == []


def test_the_readme_shows_the_address_the_header_and_a_client_that_compiles() -> None:
    text = (REPO / "README.md").read_text(encoding="utf-8")
    section = text.split("\n## Agents (MCP)\n", 1)[1].split("\n## ", 1)[0]
    remote, bridged = (
        json.loads(c)["mcpServers"]["lipsync-studio"]
        for c in re.findall(r"```json\n(.*?)```", section, flags=re.DOTALL)
    )
    assert remote["url"].endswith(MCP_PATH) and set(remote["headers"]) == {"X-Api-Key"}
    assert bridged["args"][1].endswith(MCP_PATH) and bridged["args"][3].startswith("X-Api-Key:")
    (client,) = re.findall(r"```python\n(.*?)```", section, flags=re.DOTALL)
    compile(client, "README.md", "exec")
    assert "X-Api-Key" in client and "progress_callback" in client
