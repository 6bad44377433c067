"""The client's connection pool keeps only `KEPT_ALIVE` idle connections after a burst: httpx
looks at every kept connection before and after each request, on the event loop's thread."""

from __future__ import annotations

import asyncio

from demo_app.replicate._transport import KEPT_ALIVE, build_http_client

BURST = 5 * KEPT_ALIVE


class LoopbackServer:
    """An HTTP/1.1 server answering "ok" on every request, counting the connections open now."""

    def __init__(self) -> None:
        self.open = 0
        self.most_open = 0
        self.changed = asyncio.Condition()

    async def serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await self._count(+1)
        try:
            while True:
                await reader.readuntil(b"\r\n\r\n")
                writer.write(b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok")
                await writer.drain()
        except (asyncio.IncompleteReadError, ConnectionError):
            pass
        finally:
            writer.close()
            await self._count(-1)

    async def _count(self, step: int) -> None:
        async with self.changed:
            self.open += step
            self.most_open = max(self.most_open, self.open)
            self.changed.notify_all()


async def test_a_burst_of_requests_leaves_only_the_kept_connections_open() -> None:
    loopback = LoopbackServer()
    server = await asyncio.start_server(loopback.serve, "127.0.0.1", 0)
    url = f"http://127.0.0.1:{server.sockets[0].getsockname()[1]}"
    client = build_http_client(url, None, transport=None, timeout=10.0, max_connections=BURST)
    try:
        answers = await asyncio.gather(*(client.get("/") for _ in range(BURST)))
        assert [a.text for a in answers] == ["ok"] * BURST
        async with asyncio.timeout(10), loopback.changed:
            await loopback.changed.wait_for(lambda: loopback.open <= KEPT_ALIVE)
        assert loopback.most_open > KEPT_ALIVE  # the burst did open more than are kept
        assert loopback.open == KEPT_ALIVE
        assert (await client.get("/")).text == "ok"  # a kept one serves the next request
        assert loopback.open == KEPT_ALIVE
    finally:
        await client.aclose()
        async with asyncio.timeout(10), loopback.changed:  # every handler saw its connection close
            await loopback.changed.wait_for(lambda: loopback.open == 0)
        server.close()
        await server.wait_closed()
