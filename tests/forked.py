"""Worker processes forked from one interpreter that has imported the app once.

The restart and crash tests start dozens of short-lived workers, each as `python -m MODULE ARGS`
would run it. A fresh interpreter spends seconds of CPU importing the app's modules (PyAV,
OpenCV, psycopg, httpx) before doing a fraction of a second of work, and the suite runs on two
cores. So the workers come from a multiprocessing fork server that imported those modules once
(`tests/conftest.py` imports this module first, before anything starts the fork server; it is
started with one OpenBLAS thread, so it has a single thread when it forks). Each child is still its
own process (killed with SIGKILL, its files and sockets its own; not a daemon, since it starts
media workers of its own), runs the module as `__main__` with its own arguments and
environment, and its standard output and error go back to the test through pipes.
"""

from __future__ import annotations

import multiprocessing
import os
import runpy
import signal
import subprocess
import sys
import threading
import warnings
from multiprocessing.connection import Connection
from pathlib import Path
from typing import IO

ROOT = Path(__file__).resolve().parents[1]

# The fork server, started later from this process, inherits its environment.
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")
_context = multiprocessing.get_context("forkserver")
_context.set_forkserver_preload(["tests.jobs.restart_worker", "tests.credits.crash_worker"])


class Worker:
    """A forked worker, used as a `subprocess.Popen` with `stdout=PIPE, text=True` would be."""

    def __init__(self, module: str, args: list[str], env: dict[str, str]) -> None:
        out_read, out_write = _context.Pipe(duplex=False)
        err_read, err_write = _context.Pipe(duplex=False)
        self._process = _context.Process(
            target=_run, args=(module, args, env, out_write, err_write), name=module
        )
        self._process.start()
        out_write.close()
        err_write.close()
        self.stdout: IO[str] = _text(out_read)
        self._stderr_file = _text(err_read)
        self._stderr: list[str] = []
        self._stderr_reader = threading.Thread(target=self._drain_stderr, daemon=True)
        self._stderr_reader.start()

    def send_signal(self, signum: int) -> None:
        if self._process.pid is not None and self._process.exitcode is None:
            os.kill(self._process.pid, signum)

    def wait(self, timeout: float | None = None) -> int:
        """The return code (minus the signal that ended it, as subprocess reports it);
        subprocess.TimeoutExpired if it still runs after `timeout` seconds."""
        self._process.join(timeout)
        if self._process.exitcode is None:
            raise subprocess.TimeoutExpired(self._process.name, timeout or 0.0)
        return self._process.exitcode

    def stderr(self) -> str:
        """Everything the worker wrote to its standard error (call after it ended)."""
        self._stderr_reader.join(5.0)
        return "".join(self._stderr)

    def _drain_stderr(self) -> None:
        with self._stderr_file:
            self._stderr.extend(self._stderr_file)


def run(
    module: str, args: list[str], env: dict[str, str], timeout: float
) -> subprocess.CompletedProcess[str]:
    """Run the worker to its end, as `subprocess.run(..., capture_output=True, text=True)` would."""
    worker = Worker(module, args, env)
    try:
        stdout = _read_all(worker.stdout, timeout)
        code = worker.wait(timeout)
    except BaseException:
        worker.send_signal(signal.SIGKILL)
        raise
    return subprocess.CompletedProcess([module, *args], code, stdout, worker.stderr())


def _read_all(stream: IO[str], timeout: float) -> str:
    """The whole stream, or subprocess.TimeoutExpired when it is still open after `timeout`."""
    chunks: list[str] = []
    reader = threading.Thread(target=lambda: chunks.append(stream.read()), daemon=True)
    reader.start()
    reader.join(timeout)
    if reader.is_alive():
        raise subprocess.TimeoutExpired("forked worker", timeout)
    stream.close()
    return "".join(chunks)


def _text(connection: Connection) -> IO[str]:
    """The read end of a one-way pipe as a text stream (the connection itself is closed)."""
    fd = os.dup(connection.fileno())
    connection.close()
    return os.fdopen(fd, "r", encoding="utf-8")


def _run(module: str, args: list[str], env: dict[str, str], out: Connection, err: Connection) -> None:
    """In the child: become `python -m module args` with `env`, output into the pipes."""
    sys.stdout.flush()
    sys.stderr.flush()
    os.dup2(out.fileno(), 1)
    os.dup2(err.fileno(), 2)
    out.close()
    err.close()
    os.chdir(ROOT)
    os.environ.clear()
    os.environ.update(env)
    sys.argv = [module, *args]
    # runpy warns that the module is already imported: it is, on purpose, by the fork server.
    warnings.filterwarnings("ignore", category=RuntimeWarning, module="runpy")
    runpy.run_module(module, run_name="__main__", alter_sys=True)
