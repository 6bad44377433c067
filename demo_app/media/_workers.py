"""Media checks in worker processes that can be abandoned: a deadline, a memory cap, a kill.

A thread running FFmpeg or PIL cannot be stopped, so a slow or stuck decode would keep a core
(and a CPU slot) busy for as long as the file makes it. Each check here runs in one of a few
spawned processes (nothing inherited from the threaded server); the parent waits on the pipe
without blocking the event loop, and when the deadline passes, the awaiting task is cancelled
or the worker dies (out of memory, a crash in a native library), that worker is killed and a
fresh one takes its place on the next call. The caller gets a `MediaError` sentence in every
case, never a hang.
"""

from __future__ import annotations

import asyncio
import logging
import multiprocessing
from dataclasses import dataclass
from multiprocessing.process import BaseProcess
from pathlib import Path
from typing import Any, Literal

from demo_app.media._audio import PreparedAudio, Trim
from demo_app.media._errors import MediaError, MediaErrorCode
from demo_app.media._face_memo import FaceMemo
from demo_app.media._faces import Box, FaceChoice, FramedPicture
from demo_app.media._image import PreparedImage
from demo_app.media._worker_process import Usage, serve, status_kb

log = logging.getLogger(__name__)

Kind = Literal["image", "audio", "video"]

_START_TIMEOUT_S = 60.0
_NOUN = {"image": "picture", "audio": "audio file"}
_ADVICE = {
    "image": "save it again as a JPEG (smaller if it is large) and retry",
    "audio": "export it again as a WAV or MP3 and retry",
}


@dataclass(frozen=True)
class MediaUsage:
    """The worst cost seen since the last reset, over every check (killed ones included)."""

    checks: int
    worst_growth_bytes: int
    worst_seconds: float


class _Worker:
    """One process and its pipe; used by one check at a time."""

    def __init__(self, memory_mb: int) -> None:
        context = multiprocessing.get_context("spawn")
        self.conn, child = context.Pipe()
        self.process: BaseProcess = context.Process(
            target=serve, args=(child, memory_mb), name="media-worker", daemon=True
        )
        self.process.start()
        child.close()
        try:
            if not self.conn.poll(_START_TIMEOUT_S):
                raise RuntimeError("media worker did not start")
            _, self.baseline_bytes = self.conn.recv()
        except BaseException:
            self.kill()
            raise

    @property
    def pid(self) -> int:
        assert self.process.pid is not None
        return self.process.pid

    async def call(self, name: str, args: tuple[Any, ...], kwargs: dict[str, Any]) -> Any:
        """Send a request and wait, without blocking the loop, for its reply (EOFError if it died)."""
        self.conn.send((name, args, kwargs))
        loop = asyncio.get_running_loop()
        readable: asyncio.Future[None] = loop.create_future()
        fd = self.conn.fileno()

        def wake() -> None:
            if not readable.done():
                readable.set_result(None)

        loop.add_reader(fd, wake)
        try:
            await readable
        finally:
            loop.remove_reader(fd)
        return self.conn.recv()

    def peak_growth_bytes(self) -> int:
        return max(0, status_kb("VmHWM", self.pid) * 1024 - self.baseline_bytes)

    def kill(self) -> None:
        self.process.kill()
        self.process.join(5.0)
        self.conn.close()


class MediaWorkers:
    """`workers` media checks at once, each in its own process, each within `deadline_s`."""

    def __init__(self, workers: int = 2, *, deadline_s: float = 20.0, memory_mb: int = 320) -> None:
        self.workers = workers
        self.deadline_s = deadline_s
        self.memory_mb = memory_mb
        self._idle: list[_Worker] = []
        self._busy: set[_Worker] = set()
        self._slots: tuple[asyncio.AbstractEventLoop, asyncio.Semaphore] | None = None
        self._checks = 0
        self._worst_growth = 0
        self._worst_seconds = 0.0
        self._faces = FaceMemo()

    # ---- the checks ---------------------------------------------------------------------

    async def prepare_image(
        self, src: Path, dest_dir: Path, *, min_side: int, max_side: int, max_bytes: int
    ) -> PreparedImage:
        """`prepare_image` in a worker."""
        result = await self._run(
            "image", "prepare_image", src, dest_dir, min_side=min_side, max_side=max_side, max_bytes=max_bytes
        )
        assert isinstance(result, PreparedImage)
        return result

    async def frame_picture(
        self,
        src: Path,
        dest_dir: Path,
        *,
        min_side: int,
        max_side: int,
        max_bytes: int,
        choice: FaceChoice,
        scope: str | None = None,
    ) -> FramedPicture:
        """`frame_picture` in a worker: the checked picture, its faces and what the model receives.
        With `scope` (who asks), faces found for the same file and limits before are reused
        (`FaceMemo`): a job's own check does not search the picture its estimate searched."""
        key = None
        if scope is not None:
            key = await asyncio.to_thread(FaceMemo.key, scope, src, min_side, max_side, max_bytes)
        result = await self._run(
            "image",
            "frame_picture",
            src,
            dest_dir,
            min_side=min_side,
            max_side=max_side,
            max_bytes=max_bytes,
            choice=choice,
            faces=self._faces.get(key) if key is not None else None,
        )
        assert isinstance(result, FramedPicture)
        if key is not None:
            self._faces.put(key, result.faces)
        return result

    async def draw_faces(self, whole: Path, faces: tuple[Box, ...], dest_dir: Path) -> Path:
        """`draw_faces` in a worker: the checked picture with its faces boxed and numbered."""
        result = await self._run("image", "draw_faces", whole, faces, dest_dir)
        assert isinstance(result, Path)
        return result

    async def prepare_audio(
        self,
        src: Path,
        dest_dir: Path,
        *,
        max_seconds: float,
        max_bytes: int,
        max_result_bytes: int | None = None,
        trim: Trim | None = None,
    ) -> PreparedAudio:
        """`prepare_audio` in a worker."""
        result = await self._run(
            "audio",
            "prepare_audio",
            src,
            dest_dir,
            max_seconds=max_seconds,
            max_bytes=max_bytes,
            max_result_bytes=max_result_bytes,
            trim=trim,
        )
        assert isinstance(result, PreparedAudio)
        return result

    async def audio_duration(self, src: Path) -> float:
        """`audio_duration` in a worker."""
        return float(await self._run("audio", "audio_duration", src))

    async def video_duration(self, src: Path) -> float:
        """Seconds of a delivered video; ValueError if it is not a playable video."""
        return float(await self._run("video", "video_duration", src))

    # ---- observation and life cycle -----------------------------------------------------

    def usage(self) -> MediaUsage:
        return MediaUsage(self._checks, self._worst_growth, self._worst_seconds)

    def reset_usage(self) -> None:
        self._checks, self._worst_growth, self._worst_seconds = 0, 0, 0.0

    def pids(self) -> list[int]:
        """Process ids of the workers alive now (idle or busy)."""
        return [worker.pid for worker in [*self._idle, *self._busy]]

    async def aclose(self) -> None:
        """Kill every worker; a check still running gets a MediaError."""
        self.close()

    def close(self) -> None:
        """`aclose()` for callers outside an event loop (nothing in it waits)."""
        for worker in [*self._idle, *self._busy]:
            worker.kill()
        self._idle.clear()

    # ---- machinery ------------------------------------------------------------------------

    async def _run(self, kind: Kind, name: str, *args: Any, **kwargs: Any) -> Any:
        loop = asyncio.get_running_loop()
        async with self._slots_of(loop):
            try:
                worker = await self._take_worker()
            except (EOFError, OSError, RuntimeError):
                log.exception("a media worker could not start")
                raise _failed(kind) from None
            started = loop.time()
            try:
                # Not `wait_for`: on Python 3.11 it returns the reply when a cancel comes just as
                # the reply arrives, and the abandoned caller (a job past its deadline) carries on.
                async with asyncio.timeout(self.deadline_s):
                    reply, usage = await worker.call(name, args, kwargs)
            except TimeoutError:
                self._record(worker.peak_growth_bytes(), loop.time() - started)
                self._discard(worker)
                log.warning("media check %s abandoned after %.1f s", name, self.deadline_s)
                raise _too_slow(kind, self.deadline_s) from None
            except (EOFError, OSError):
                self._discard(worker)
                log.warning("media worker died during %s", name)
                raise _failed(kind) from None
            except BaseException:
                # Cancelled (the job was canceled, the server stops): the decode is abandoned too.
                self._discard(worker)
                raise
            self._busy.discard(worker)
            self._idle.append(worker)
        assert isinstance(usage, Usage)
        self._record(usage.growth_bytes, loop.time() - started)
        return _unwrap(kind, name, reply)

    def _slots_of(self, loop: asyncio.AbstractEventLoop) -> asyncio.Semaphore:
        """The limiter of `loop` (one instance may serve several loops in turn, as in tests)."""
        if self._slots is None or self._slots[0] is not loop:
            self._slots = (loop, asyncio.Semaphore(self.workers))
        return self._slots[1]

    async def _take_worker(self) -> _Worker:
        """An idle worker, or a new one (started in a thread: spawning takes about half a second)."""
        if self._idle:
            worker = self._idle.pop()
        else:
            starting = asyncio.ensure_future(asyncio.to_thread(_Worker, self.memory_mb))
            try:
                worker = await asyncio.shield(starting)
            except asyncio.CancelledError:
                starting.add_done_callback(self._keep_started)
                raise
        self._busy.add(worker)
        return worker

    def _keep_started(self, starting: asyncio.Future[_Worker]) -> None:
        if not starting.cancelled() and starting.exception() is None:
            self._idle.append(starting.result())

    def _record(self, growth_bytes: int, seconds: float) -> None:
        self._checks += 1
        self._worst_growth = max(self._worst_growth, growth_bytes)
        self._worst_seconds = max(self._worst_seconds, seconds)

    def _discard(self, worker: _Worker) -> None:
        self._busy.discard(worker)
        worker.kill()


def _unwrap(kind: Kind, name: str, reply: tuple[Any, ...]) -> Any:
    status = reply[0]
    if status == "ok":
        return reply[1]
    if status == "refused":
        code: MediaErrorCode = reply[1]
        raise MediaError(code, reply[2])
    log.warning("media check %s failed in its worker: %s", name, reply[1])
    raise _failed(kind)


def _too_slow(kind: Kind, deadline_s: float) -> Exception:
    if kind == "video":
        return ValueError("the video took too long to check")
    code: MediaErrorCode = "image_too_slow" if kind == "image" else "audio_too_slow"
    return MediaError(
        code,
        f"The {_NOUN[kind]} took more than {deadline_s:g} s to check, so we stopped; {_ADVICE[kind]}.",
    )


def _failed(kind: Kind) -> Exception:
    if kind == "video":
        return ValueError("the video could not be checked")
    code: MediaErrorCode = "image_check_failed" if kind == "image" else "audio_check_failed"
    return MediaError(
        code,
        f"The {_NOUN[kind]} could not be checked (it needs more memory than we allow or is "
        f"malformed); {_ADVICE[kind]}.",
    )
