"""`python -m demo_app.engine`: a standalone server, configured by flags or the environment."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
from collections.abc import Callable, Iterator
from pathlib import Path

import httpx
import pytest

ROOT = Path(__file__).resolve().parents[2]


class Standalone:
    """One `python -m demo_app.engine` process, up once uvicorn reports it.

    The tests here send a handful of requests, so the pipe cannot fill before `stop` reads it.
    """

    def __init__(self, flags: list[str], env: dict[str, str]) -> None:
        with socket.socket() as probe:
            probe.bind(("127.0.0.1", 0))
            port = probe.getsockname()[1]
        self.url = f"http://127.0.0.1:{port}"
        clean = {k: v for k, v in os.environ.items() if not k.startswith(("LIPSYNC_", "REPLICATE_"))}
        self.process = subprocess.Popen(
            [sys.executable, "-m", "demo_app.engine", "--port", str(port), *flags],
            cwd=ROOT,
            env={**clean, **env},
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
        )
        assert self.process.stdout is not None
        self.log = ""
        for line in self.process.stdout:  # blocks until uvicorn reports, or the process ends
            self.log += line
            if "Application startup complete" in line:
                return
        raise AssertionError(f"the engine did not start:\n{self.log}")

    def stop(self) -> int:
        """Interrupt it as Ctrl-C would; the exit code, with the whole log in `log`."""
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGINT)
        self.log += self.process.communicate(timeout=30)[0]
        return self.process.returncode


@pytest.fixture
def start_engine(tmp_path: Path) -> Iterator[Callable[..., Standalone]]:
    started: list[Standalone] = []

    def start(*flags: str, env: dict[str, str] | None = None) -> Standalone:
        started.append(Standalone([*flags, "--data-dir", str(tmp_path)], env or {}))
        return started[-1]

    yield start
    for engine in started:
        engine.stop()


def test_flags_choose_the_token_and_scenario(start_engine: Callable[..., Standalone]) -> None:
    engine = start_engine("--token", "r8_cli-secret", "--scenario", "rate_limit_burst", "--time-scale", "5")
    with httpx.Client(base_url=engine.url, headers={"Authorization": "Bearer r8_cli-secret"}) as client:
        assert client.get("/v1/predictions").status_code == 200
        assert (
            client.post("/v1/models/wan-video/wan-2.2-s2v/predictions", json={"input": {}}).status_code == 429
        )
        assert client.get("/v1/predictions", headers={"Authorization": "Bearer r8_other"}).status_code == 401
    assert engine.stop() in (0, -signal.SIGINT)  # uvicorn re-raises the signal once it has shut down
    assert "Application shutdown complete" in engine.log
    assert "scenario rate_limit_burst, time scale 5, token as given" in engine.log
    assert "r8_cli-secret" not in engine.log


def test_environment_gives_the_defaults(start_engine: Callable[..., Standalone]) -> None:
    engine = start_engine(env={"LIPSYNC_ENGINE_SCENARIO": "unauthorized", "REPLICATE_API_TOKEN": "r8_env"})
    with httpx.Client(base_url=engine.url, headers={"Authorization": "Bearer r8_env"}) as client:
        response = client.get("/v1/predictions")
    assert response.status_code == 401
    assert response.json()["detail"] == "You did not pass a valid authentication token"
    engine.stop()
    assert '"GET /v1/predictions HTTP/1.1" 401' in engine.log


def test_access_log_can_be_turned_off(start_engine: Callable[..., Standalone]) -> None:
    engine = start_engine("--no-access-log", "--token", "r8_quiet")
    with httpx.Client(base_url=engine.url, headers={"Authorization": "Bearer r8_quiet"}) as client:
        for _ in range(3):
            assert client.get("/v1/predictions").status_code == 200
    engine.stop()
    assert "GET /v1/predictions" not in engine.log and "Application shutdown complete" in engine.log


def test_unknown_scenario_is_refused_with_the_choices() -> None:
    result = subprocess.run(
        [sys.executable, "-m", "demo_app.engine", "--port", "1", "--scenario", "chaos"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 2
    assert "invalid choice: 'chaos'" in result.stderr and "cold_start" in result.stderr


def test_ready_clip_flag_serves_that_clip(start_engine: Callable[..., Standalone], tmp_path: Path) -> None:
    clip = tmp_path / "clip.mp4"
    clip.write_bytes(b"\x00\x00\x00\x18ftypisom ready")
    engine = start_engine("--ready-clip", str(clip), "--token", "r8_ready")
    with httpx.Client(base_url=engine.url, headers={"Authorization": "Bearer r8_ready"}) as client:
        assert client.get("/_engine/stats").json()["predictions"] == []
    engine.stop()
    assert "scenario ready_clip" in engine.log


@pytest.mark.parametrize(
    ("flags", "said"),
    [
        (
            ["--ready-clip", "clip.mp4", "--scenario", "normal"],
            "--ready-clip and --scenario ready_clip go together",
        ),
        (["--scenario", "ready_clip"], "--ready-clip and --scenario ready_clip go together"),
        (["--ready-clip", "no-such.mp4"], "--ready-clip no-such.mp4 is not a file"),
    ],
)
def test_ready_clip_flag_is_checked(flags: list[str], said: str, tmp_path: Path) -> None:
    (tmp_path / "clip.mp4").write_bytes(b"clip")
    result = subprocess.run(
        [sys.executable, "-m", "demo_app.engine", "--port", "1", *flags],
        cwd=tmp_path,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 2 and said in result.stderr
