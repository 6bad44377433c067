"""Stopping the launched app on SIGINT or SIGTERM within seconds, with visitors' streams open.

Gradio's own wait (`Blocks.block_thread`) answers only Ctrl-C, and then gives its server five
seconds: uvicorn first waits for every open connection to end, and a visitor's event stream ends
only with the job, so the process exits before the lifespan that closes the services ever runs;
SIGTERM (`docker stop`) ends the process outright. Here both signals start one stop: uvicorn
gets a short grace for the requests in flight, then cancels what is still open (the streams:
their pages reconnect, through the load balancer to another replica) and runs the lifespan's
shutdown, which closes the services (on PostgreSQL the jobs layer hands its jobs to the other
replicas). A second signal stops the process at once.
"""

from __future__ import annotations

import asyncio
import logging
import signal
import threading
from types import FrameType

import gradio as gr

log = logging.getLogger(__name__)

STOP_SIGNALS = (signal.SIGINT, signal.SIGTERM)
STREAMS_GRACE_S = 2
"""How long requests in flight may finish once a stop is asked; open streams are cut after it."""
CLOSE_WAIT_S = 20.0
"""How long the services may take to close after that; past it the process exits anyway."""


def serve_until_stopped(demo: gr.Blocks) -> None:
    """Block until SIGINT or SIGTERM (or the server ends by itself), then stop the server."""
    asked = threading.Event()

    def on_signal(signum: int, frame: FrameType | None) -> None:
        log.info("%s: stopping", signal.Signals(signum).name)
        asked.set()

    previous = {sig: signal.signal(sig, on_signal) for sig in STOP_SIGNALS}
    try:
        while demo.is_running and not asked.wait(0.5):
            pass  # the server thread may end without a signal; is_running is Gradio's only word of it
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)  # a second signal acts as before: at once
    stop(demo)


def stop(demo: gr.Blocks) -> None:
    """Stop the launched server: a short grace, the streams cut, the lifespan's shutdown run."""
    server = demo.server
    if server is None:
        return
    server.config.timeout_graceful_shutdown = STREAMS_GRACE_S
    logging.getLogger("uvicorn.error").addFilter(_not_a_cut_stream)
    demo.close(verbose=False)  # ends the pages' heartbeat streams, then asks uvicorn to exit
    server.thread.join(STREAMS_GRACE_S + CLOSE_WAIT_S)
    if server.thread.is_alive():
        log.warning("the server did not stop within %.0f s; exiting anyway", STREAMS_GRACE_S + CLOSE_WAIT_S)
    else:
        log.info("stopped")


def _not_a_cut_stream(record: logging.LogRecord) -> bool:
    """Leave out the traceback uvicorn logs for each stream it cuts after the grace (a thousand
    streams, a thousand tracebacks); its one line saying how many it cut stays."""
    error = record.exc_info[1] if record.exc_info else None
    return not isinstance(error, asyncio.CancelledError)
