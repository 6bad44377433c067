"""One fork server for every worker process: the media checks and the built-in engine's renders.

A worker must inherit nothing from the threaded server, which is why they used to be spawned:
a fresh interpreter each. But a fresh interpreter spends over a second of CPU importing PyAV,
OpenCV and NumPy before its first check, and a worker is replaced each time a hostile file
makes one overrun its deadline or its memory cap. On a two-core Space, every such file then
cost a core for a second more. Multiprocessing's fork server is a process started once, single
threaded, that imports those modules once (`PRELOADED`) and forks each new worker from itself:
the worker still shares nothing with the server, and is ready in milliseconds.

Forking is only safe from a process with one thread, and importing NumPy or OpenCV starts
OpenBLAS's worker threads (two of them on a two-core machine). So the fork server gets
`OPENBLAS_NUM_THREADS=1` (unless the owner set it): it imports them and still has one thread
when it forks. The checks are one picture or one clip each, run one per worker.
"""

from __future__ import annotations

import multiprocessing
import os
from collections.abc import Iterable
from multiprocessing.context import ForkServerContext

PRELOADED = ["demo_app.media._worker_process", "demo_app.engine._render"]
"""Imported by the fork server before it forks anything (with all they import)."""

# The fork server, started later from this process, inherits its environment.
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")
_context = multiprocessing.get_context("forkserver")
_context.set_forkserver_preload(PRELOADED)


def worker_context() -> ForkServerContext:
    """The multiprocessing context that starts every worker process."""
    return _context


def preload(modules: Iterable[str]) -> None:
    """Have the fork server import `modules` too; only takes effect if it has not started yet."""
    _context.set_forkserver_preload([*PRELOADED, *(m for m in modules if m not in PRELOADED)])
