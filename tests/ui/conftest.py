"""The launched app (in-process, on a free port, built-in engine) and a real Chromium to drive it."""

from __future__ import annotations

import re
import socket
import struct
import wave
import zlib
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import gradio as gr
import pytest
from gradio_client import Client
from playwright.sync_api import Browser, BrowserContext, Page, sync_playwright

from demo_app.server import launch
from demo_app.settings import Settings
from demo_app.visitors import KeyRing

REPO = Path(__file__).resolve().parents[2]
ASSETS = REPO / "assets"
ARTIFACTS = REPO / "test-artifacts" / "ui"
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--autoplay-policy=no-user-gesture-required",
]


PORT_ATTEMPTS = 5
"""A port found free can be taken by another test process before the app binds it: try anew."""


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclass
class RunningApp:
    """A launched Lipsync Studio and what a test needs to talk to it."""

    url: str
    settings: Settings
    demo: gr.Blocks

    def api_key(self, owner: str) -> str:
        """A key signed by this app's secret, as its Credits tab would show it."""
        return KeyRing.from_file(self.settings.data_dir / "api-key-secret").key_for(owner)


AppFactory = Callable[..., RunningApp]


@pytest.fixture(scope="module")
def start_app(tmp_path_factory: pytest.TempPathFactory) -> Iterator[AppFactory]:
    """Launch apps on the built-in engine; all are closed when the module is done."""
    launched: list[gr.Blocks] = []

    def start(**overrides: Any) -> RunningApp:
        values: dict[str, Any] = {
            "data_dir": tmp_path_factory.mktemp("app-data"),
            "replicate_api_token": None,
            "poll_interval_s": 0.2,
            "engine_time_scale": 20.0,
            "starting_grant": 1000,
            # Every test visitor comes from 127.0.0.1; the per-address cap has a test of its own.
            "grants_per_address_per_day": 1000,
            # Gradio's cache folder is shared with every other test process on the machine: a test
            # app never treats another's files as leftovers of an earlier run.
            "cache_orphan_age_s": 10 * 365 * 86400.0,
        }
        values.update(overrides)
        for attempt in range(PORT_ATTEMPTS):
            settings = Settings(_env_file=None, **{"server_port": free_port(), **values})
            try:
                demo = launch(settings, prevent_thread_lock=True, quiet=True)
                break
            except OSError:
                # Another process (a parallel test worker) took the free port before we bound it.
                if attempt == PORT_ATTEMPTS - 1 or "server_port" in overrides:
                    raise
        launched.append(demo)
        return RunningApp(f"http://127.0.0.1:{settings.server_port}/", settings, demo)

    yield start
    for demo in launched:
        demo.close()


@pytest.fixture
def connect() -> Iterator[Callable[[RunningApp], Client]]:
    """gradio_client connections to an app, closed after the test."""
    clients: list[Client] = []

    def make(app: RunningApp) -> Client:
        clients.append(Client(app.url, verbose=False))
        return clients[-1]

    yield make
    for c in clients:
        c.close()


@pytest.fixture(scope="session")
def short_voice(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The first three seconds of the sample voice: real speech, quick to render."""
    out = tmp_path_factory.mktemp("media") / "voice-3s.wav"
    with wave.open(str(ASSETS / "sample-voice.wav")) as src, wave.open(str(out), "wb") as dst:
        dst.setparams(src.getparams())
        dst.writeframes(src.readframes(src.getframerate() * 3))
    return out


@pytest.fixture(scope="session")
def face() -> Path:
    return ASSETS / "sample-face.png"


@pytest.fixture(scope="session")
def tiny_face(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A valid 40×40 PNG: decodes fine, too small for every model."""
    out = tmp_path_factory.mktemp("media") / "tiny-face.png"
    out.write_bytes(_png(40, 40))
    return out


def _png(width: int, height: int) -> bytes:
    """A grey RGB PNG written by hand (no image library needed to make a bad input)."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    rows = b"".join(b"\x00" + b"\x80" * (3 * width) for _ in range(height))
    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(rows))
        + chunk(b"IEND", b"")
    )


def artifact(name: str) -> Path:
    """Where a screenshot goes (test-artifacts/ is git-ignored)."""
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    return ARTIFACTS / (re.sub(r"[^A-Za-z0-9_.-]+", "-", name) + ".png")


@pytest.fixture(scope="module")
def chromium() -> Iterator[Browser]:
    """Debian's Chromium, headless, driven by Playwright; closed after each module, because
    Playwright's sync API keeps an event loop running in the main thread while it is open, and
    async tests collected after the browser tests need that thread's loop free."""
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
        yield browser
        browser.close()


@pytest.fixture
def new_page(chromium: Browser, request: pytest.FixtureRequest) -> Iterator[Callable[[], Page]]:
    """Fresh browser contexts (a fresh context is a new visitor); screenshots saved at the end."""
    contexts: list[BrowserContext] = []

    def make() -> Page:
        context = chromium.new_context(viewport={"width": 1280, "height": 1200})
        contexts.append(context)
        page = context.new_page()
        page.set_default_timeout(30_000)
        return page

    yield make
    for index, context in enumerate(contexts):
        for number, page in enumerate(context.pages):
            if not page.is_closed():
                page.screenshot(path=artifact(f"{request.node.name}-{index}-{number}-end"), full_page=True)
        context.close()
