"""Renders run in worker processes; their progress flows back through a Manager queue.

Why processes, not threads (figures from `bench/engine_loop_lag.py`, 10 s of audio at 512 px,
2 cores, idle machine): with one render at a time both keep the event loop that also serves
the Gradio page responsive (loop lag p99 4.4 ms in a thread, 5.4 ms in a process), because
the renderer spends most of its time in OpenCV, PyAV and numpy, which release the GIL. With two
renders at once, threads contend for the GIL: a round takes 3.07 s against 2.59 s in processes,
and the loop's worst lag is 15 ms against 10 ms. A process also contains a crash in a native
library (the prediction fails, the app lives on; tested) and its memory. The price: a worker
start-up (spawned, so nothing is inherited from a threaded parent) paid once per pool, and
progress has to cross a process boundary.

How progress crosses: each render gets an id; the worker's `on_progress` puts
`(id, done, total)` on one `multiprocessing.Manager` queue shared by all renders (only when the
whole percentage changes) and, when the renderer returns or raises, an end marker. One pump
thread reads that queue and hands each message to the asyncio loop that asked for the render
(`call_soon_threadsafe`). Because the end marker travels the same queue after the last progress
message, the caller sees every message before it learns the render is over. Cancelling the
awaiting task sets the render's flag in a Manager dict; the worker's next `on_progress` call
sees it and raises `RenderCanceled`, so a canceled render stops within one progress step
instead of holding a worker.

One pool may serve many engines (tests share one to pay the start-up once).
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import contextlib
import multiprocessing
import threading
import uuid
from collections.abc import Awaitable, Callable
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

_END = "end"


class RenderResult(Protocol):
    """What the engine reads from a renderer's report (`render.RenderReport`)."""

    @property
    def frames(self) -> int: ...
    @property
    def duration_s(self) -> float: ...
    @property
    def face_found(self) -> bool: ...
    @property
    def face_box(self) -> tuple[int, int, int, int] | None: ...


Renderer = Callable[..., RenderResult]
"""`renderer(image_path, audio_path, out_path, *, fps, max_side, on_progress) -> report`; picklable."""


def real_renderer(
    image: Path, audio: Path, out: Path, *, fps: int, max_side: int, on_progress: Callable[[int, int], None]
) -> RenderResult:
    """`render.render_talking_face`, imported in the worker only: OpenCV and PyAV stay out of the parent."""
    from demo_app.engine._render import render_talking_face

    return render_talking_face(image, audio, out, fps=fps, max_side=max_side, on_progress=on_progress)


class RenderCanceled(Exception):
    """Raised inside the worker when the render's caller went away."""


class RenderCrashed(Exception):
    """The worker process died mid-render."""


@dataclass(frozen=True)
class RenderJob:
    image: Path
    audio: Path
    out: Path
    fps: int
    max_side: int


ProgressCallback = Callable[[int, int], Awaitable[None]]


class RenderPool:
    def __init__(self, workers: int = 1) -> None:
        self.workers = workers
        self._lock = threading.Lock()
        self._context = multiprocessing.get_context("spawn")
        self._executor: concurrent.futures.ProcessPoolExecutor | None = None
        self._manager: Any = None
        self._queue: Any = None
        self._cancel: Any = None
        self._pump: threading.Thread | None = None
        self._routes: dict[str, tuple[asyncio.AbstractEventLoop, asyncio.Queue[Any]]] = {}

    async def render(self, renderer: Renderer, job: RenderJob, on_progress: ProgressCallback) -> RenderResult:
        """Run `renderer` on `job` in a worker; `on_progress(done, total)` is awaited in order."""
        await asyncio.to_thread(self._ensure_started)
        render_id = uuid.uuid4().hex
        inbox: asyncio.Queue[Any] = asyncio.Queue()
        self._routes[render_id] = (asyncio.get_running_loop(), inbox)
        assert self._executor is not None
        try:
            future = self._executor.submit(
                _render_in_worker, renderer, render_id, job, self._queue, self._cancel
            )
        except BrokenProcessPool as exc:
            self._reset()
            raise RenderCrashed("The render worker stopped unexpectedly; try again.") from exc
        result = asyncio.wrap_future(future)
        try:
            await self._follow(inbox, result, on_progress)
            return await result
        except BrokenProcessPool as exc:
            self._reset()
            raise RenderCrashed("The render worker stopped unexpectedly; try again.") from exc
        finally:
            self._routes.pop(render_id, None)
            if not future.done():
                self._cancel[render_id] = True
                future.add_done_callback(lambda _: self._forget(render_id))

    async def _follow(
        self, inbox: asyncio.Queue[Any], result: asyncio.Future[Any], on_progress: ProgressCallback
    ) -> None:
        """Pass progress on until the worker's end marker, or until the worker died without one."""
        while True:
            if result.done():
                if result.cancelled() or result.exception() is not None:
                    return
                message = await inbox.get()
            else:
                getter = asyncio.ensure_future(inbox.get())
                await asyncio.wait({getter, result}, return_when=asyncio.FIRST_COMPLETED)
                if not getter.done():
                    getter.cancel()
                    continue
                message = getter.result()
            if message == _END:
                return
            await on_progress(*message)

    def _ensure_started(self) -> None:
        with self._lock:
            if self._manager is None:
                self._manager = self._context.Manager()
                self._queue = self._manager.Queue()
                self._cancel = self._manager.dict()
                self._pump = threading.Thread(target=self._pump_messages, name="render-progress", daemon=True)
                self._pump.start()
            if self._executor is None:
                self._executor = concurrent.futures.ProcessPoolExecutor(
                    self.workers, mp_context=self._context
                )

    def _pump_messages(self) -> None:
        while True:
            try:
                message = self._queue.get()
            except (EOFError, OSError):
                return
            if message is None:
                return
            render_id, done, total = message
            route = self._routes.get(render_id)
            if route is None:
                continue
            loop, inbox = route
            item = _END if done is None else (done, total)
            try:
                loop.call_soon_threadsafe(inbox.put_nowait, item)
            except RuntimeError:  # that loop has closed: nobody is listening any more
                continue

    def _forget(self, render_id: str) -> None:
        with contextlib.suppress(EOFError, OSError):
            self._cancel.pop(render_id, None)

    def _reset(self) -> None:
        with self._lock:
            if self._executor is not None:
                self._executor.shutdown(wait=False, cancel_futures=True)
                self._executor = None

    def close(self) -> None:
        """Stop running renders (within a frame), the workers, the pump and the manager. Blocking."""
        with self._lock:
            if self._cancel is not None:
                for render_id in list(self._routes):
                    self._cancel[render_id] = True
            if self._executor is not None:
                self._executor.shutdown(wait=True, cancel_futures=True)
                self._executor = None
            if self._manager is not None:
                self._queue.put(None)
                if self._pump is not None:
                    self._pump.join()
                self._manager.shutdown()
                self._manager = None


def _render_in_worker(
    renderer: Renderer, render_id: str, job: RenderJob, queue: Any, cancel: Any
) -> RenderResult:
    """Runs in the worker process: the renderer, with progress and cancellation wired to the parent."""
    last_percent = -1

    def on_progress(done: int, total: int) -> None:
        nonlocal last_percent
        if cancel.get(render_id):
            raise RenderCanceled(render_id)
        percent = done * 100 // total if total > 0 else 0
        if percent != last_percent or done >= total:
            last_percent = percent
            queue.put((render_id, done, total))

    try:
        return renderer(
            job.image, job.audio, job.out, fps=job.fps, max_side=job.max_side, on_progress=on_progress
        )
    finally:
        queue.put((render_id, None, None))
