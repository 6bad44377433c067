"""A loopback HTTP server that must never be asked for anything.

Hostile files point at it (playlist segments, keys, concat entries); a request arriving here
means some decoder followed a reference for a visitor.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


class Canary:
    def __init__(self, url: str) -> None:
        self.url = url
        self.requests: list[str] = []


@contextmanager
def canary_server() -> Iterator[Canary]:
    """A running canary on 127.0.0.1 (any free port); every request line is recorded."""
    canary = Canary("")

    class Handler(BaseHTTPRequestHandler):
        def _record(self) -> None:
            canary.requests.append(self.requestline)
            self.send_response(404)
            self.end_headers()

        do_GET = do_POST = do_HEAD = _record

        def log_message(self, format: str, *args: object) -> None:
            return

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    canary.url = f"http://127.0.0.1:{server.server_address[1]}"
    thread = threading.Thread(target=server.serve_forever, name="canary", daemon=True)
    thread.start()
    try:
        yield canary
    finally:
        server.shutdown()
        server.server_close()
        thread.join()
