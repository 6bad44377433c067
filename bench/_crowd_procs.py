"""The crowd benchmark's two servers, each its own process, and what /proc says about the app.

The engine serves a ready clip (`--ready-clip`, rendered once here from the sample face and two
seconds of the sample voice), so the machine's cores go to the app under test, not to renders.
The app runs as a Space runs it (`python app.py`), pointed at the engine over HTTP with a token.
"""

from __future__ import annotations

import contextlib
import os
import secrets
import subprocess
import sys
import wave
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx

from bench._crowd_report import AppUse
from bench._queue import FACE, REPO, VOICE, free_port, stop, wait_until_up
from demo_app.engine import render_talking_face

CLIP_AUDIO_S = 2.0


def ready_clip(folder: Path) -> Path:
    """The MP4 every prediction succeeds with: the sample face speaking two seconds, rendered once."""
    clip = folder / "ready-clip.mp4"
    if not clip.exists():
        voice = folder / "ready-clip-voice.wav"
        with wave.open(str(VOICE)) as reader, wave.open(str(voice), "wb") as writer:
            writer.setparams(reader.getparams())
            writer.writeframes(reader.readframes(int(reader.getframerate() * CLIP_AUDIO_S)))
        render_talking_face(FACE, voice, clip, fps=25, max_side=256)
    return clip


@dataclass
class EngineProcess:
    """`python -m demo_app.engine --ready-clip ...` on a free port, with its own token."""

    process: subprocess.Popen[bytes]
    url: str
    token: str

    @classmethod
    def start(cls, work: Path) -> EngineProcess:
        port, token = free_port(), "r8_crowd_" + secrets.token_hex(8)
        command = [sys.executable, "-m", "demo_app.engine", "--port", str(port), "--token", token]
        command += ["--ready-clip", str(ready_clip(work)), "--data-dir", str(work / "engine")]
        command += ["--no-access-log"]
        with (work / "engine.log").open("ab") as log:
            process = subprocess.Popen(
                command, cwd=REPO, env=_clean_env(), stdout=log, stderr=subprocess.STDOUT
            )
        engine = cls(process, f"http://127.0.0.1:{port}", token)
        wait_until_up(engine.url + "/_engine/stats", process, engine.headers)
        return engine

    @property
    def headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token}"}

    def stats(self) -> dict[str, Any]:
        """Request times by kind and every prediction's timeline (see `demo_app.engine._stats`)."""
        response = httpx.get(self.url + "/_engine/stats", headers=self.headers, timeout=120)
        response.raise_for_status()
        result: dict[str, Any] = response.json()
        return result

    def stop(self) -> None:
        stop(self.process)


def lower_priority(pid: int, niceness: int) -> None:
    """Add `niceness` to the nice value of every thread of `pid` (Linux keeps one per thread;
    threads started later inherit their starter's)."""
    for task in Path(f"/proc/{pid}/task").iterdir():
        tid = int(task.name)
        with contextlib.suppress(ProcessLookupError):
            os.setpriority(os.PRIO_PROCESS, tid, os.getpriority(os.PRIO_PROCESS, tid) + niceness)


def _clean_env() -> dict[str, str]:
    """Our environment without the project's own settings: only what this benchmark sets is measured."""
    return {k: v for k, v in os.environ.items() if not k.startswith(("LIPSYNC_", "REPLICATE_", "GRADIO_"))}


def app_env(
    *, engine: EngineProcess, port: int, data_dir: Path, visitors: int, key_secret: str, webhooks: bool
) -> dict[str, str]:
    """The settings of a busy Space's owner expecting `visitors` at once (see `bench/crowd.py`)."""
    env = {
        **_clean_env(),
        "GRADIO_ANALYTICS_ENABLED": "False",
        "GRADIO_SERVER_PORT": str(port),
        "REPLICATE_API_TOKEN": engine.token,
        "REPLICATE_BASE_URL": engine.url,
        "LIPSYNC_DATA_DIR": str(data_dir),
        "LIPSYNC_API_KEY_SECRET": key_secret,
        "LIPSYNC_TRUSTED_PROXY_HOPS": "0",
        "LIPSYNC_STARTING_GRANT": str(GRANT),
        "LIPSYNC_GRANTS_PER_ADDRESS_PER_DAY": str(visitors + 10),
        "LIPSYNC_DAILY_BUDGET": str(visitors * GRANT),
        "LIPSYNC_MAX_JOBS_TOTAL": str(visitors + 10),
        "LIPSYNC_MAX_WAITING_VISITORS": str(max(2000, 2 * visitors)),
        "LIPSYNC_UPLOAD_MB_PER_ADDRESS_PER_HOUR": str(2 * visitors + 100),
        "LIPSYNC_MAX_UPLOAD_DISK_MB": str(2 * visitors + 500),
        "LIPSYNC_LOOP_LAG_LOG": str(data_dir / "loop-lag.txt"),
    }
    if webhooks:
        env["LIPSYNC_PUBLIC_URL"] = f"http://127.0.0.1:{port}"
    return env


GRANT = 2_000
"""Credits each visitor receives: one run of the sample voice holds about 300."""


def cpu_seconds(pid: int) -> float:
    """User + system CPU time of one process so far (fields 14 and 15 of /proc/<pid>/stat)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def children_cpu_seconds(pid: int) -> float:
    """CPU time of the process's children so far: those it has reaped (fields 16 and 17 of its
    /proc/<pid>/stat) and those alive now (the media workers, which run at a lower priority)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    total = int(fields[13]) + int(fields[14])
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            child = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue  # ended meanwhile
        if int(child[1]) == pid:
            total += int(child[11]) + int(child[12])
    return total / os.sysconf("SC_CLK_TCK")


def peak_rss_mib(pid: int) -> float:
    """The process's peak resident memory (VmHWM) in MiB."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    raise RuntimeError(f"/proc/{pid}/status has no VmHWM line")


def cpu_wait_seconds(pid: int) -> float:
    """Time the process's threads spent runnable but waiting for a core (schedstat field 2): how
    much a busy machine, not the app's own work, delayed it."""
    total_ns = 0
    for task in Path(f"/proc/{pid}/task").iterdir():
        try:
            total_ns += int((task / "schedstat").read_text().split()[1])
        except (OSError, IndexError, ValueError):
            continue  # the thread ended meanwhile
    return total_ns / 1e9


@dataclass(frozen=True)
class Meter:
    """A process's CPU counters when the crowd began, to tell what it used while the crowd ran."""

    pid: int
    cpu: float
    waited: float
    children_cpu: float

    @classmethod
    def start(cls, pid: int) -> Meter:
        return cls(pid, cpu_seconds(pid), cpu_wait_seconds(pid), children_cpu_seconds(pid))

    def use(self, wall_s: float) -> AppUse:
        """Cores used and waited for over `wall_s` seconds, and the peak memory so far."""
        wall = max(1e-9, wall_s)
        return AppUse(
            cores=(cpu_seconds(self.pid) - self.cpu) / wall,
            children_cores=(children_cpu_seconds(self.pid) - self.children_cpu) / wall,
            cpu_wait=(cpu_wait_seconds(self.pid) - self.waited) / wall,
            peak_mib=peak_rss_mib(self.pid),
            load_average=os.getloadavg()[0],
        )
