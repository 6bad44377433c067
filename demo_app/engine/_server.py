"""Serving the engine with uvicorn: standalone (`serve`) or on a loopback port in a thread.

Both install `QuietDrops`, so a scripted dropped connection does not print as a crash.
"""

from __future__ import annotations

import logging
import socket
import threading
from types import TracebackType

import uvicorn

from demo_app.engine._app import Engine
from demo_app.engine._drop import QuietDrops

_START_TIMEOUT_S = 60.0


def serve(engine: Engine, *, host: str, port: int, access_log: bool = True) -> None:
    """Run `engine` until interrupted (blocking); its lifespan starts and stops it."""
    config = uvicorn.Config(engine, host=host, port=port, lifespan="on", access_log=access_log)
    logging.getLogger("uvicorn.error").addFilter(QuietDrops())
    uvicorn.Server(config).run()


class _Server(uvicorn.Server):
    """A uvicorn server that says when it is ready to accept connections."""

    def __init__(self, config: uvicorn.Config, ready: threading.Event) -> None:
        super().__init__(config)
        self._ready = ready

    async def startup(self, sockets: list[socket.socket] | None = None) -> None:
        try:
            await super().startup(sockets=sockets)
        finally:
            self._ready.set()


class LoopbackServer:
    """`engine` served by uvicorn on 127.0.0.1 (a free port) in a background thread.

    The engine's background work runs on that thread's event loop; use it over real HTTP
    at `base_url`. Use as a context manager.
    """

    def __init__(self, engine: Engine, *, log_level: str = "warning") -> None:
        self.engine = engine
        self._socket = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self._socket.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self._socket.bind(("127.0.0.1", 0))
        self.port: int = self._socket.getsockname()[1]
        self._ready = threading.Event()
        config = uvicorn.Config(engine, lifespan="on", log_level=log_level)
        logging.getLogger("uvicorn.error").addFilter(QuietDrops())
        self._server = _Server(config, self._ready)
        self._thread = threading.Thread(
            target=self._server.run,
            kwargs={"sockets": [self._socket]},
            name=f"engine:{self.port}",
            daemon=True,
        )

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def __enter__(self) -> LoopbackServer:
        self._thread.start()
        if not self._ready.wait(_START_TIMEOUT_S) or not self._server.started:
            self._stop()
            raise RuntimeError("The engine's loopback server did not start; see the uvicorn log above.")
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self._stop()

    def _stop(self) -> None:
        self._server.should_exit = True
        if self._thread.is_alive():
            self._thread.join()
        self._socket.close()
