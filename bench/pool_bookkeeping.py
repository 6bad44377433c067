"""What a pooled idle connection costs every request: httpx's pool (httpcore) looks at each one.

Run from the repository root:

    python -m bench.pool_bookkeeping                      # pools of 1 to 200 kept connections
    python -m bench.pool_bookkeeping --kept 20 200 --requests 1000

Before and after every request, httpcore's pool walks all its connections: each idle one is
asked whether it expired (a `poll` of its socket) and, for surplus idle ones, the pool counts
its connections again. A burst of N requests at once leaves N connections kept alive (up to
`max_keepalive_connections`, for the keep-alive expiry). This opens such a burst against a
loopback HTTP/1.1 server in the same process, then times one request at a time: the CPU per
request grows with the connections kept, all of it on the event loop's thread.
"""

from __future__ import annotations

import argparse
import asyncio
import time

import httpx

MAX_CONNECTIONS = 200
"""The client's `max_connections` (`ReplicateClient`'s default)."""
RESPONSE = b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok"
_serving: set[asyncio.Task[None]] = set()


async def _serve(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    """Answer every request on the connection with a two-byte body until the client leaves."""
    task = asyncio.current_task()
    assert task is not None
    _serving.add(task)
    task.add_done_callback(_serving.discard)
    try:
        while True:
            await reader.readuntil(b"\r\n\r\n")
            writer.write(RESPONSE)
            await writer.drain()
    except (asyncio.IncompleteReadError, ConnectionError):
        pass
    finally:
        writer.close()


async def cpu_per_request(kept: int, requests: int) -> tuple[int, float]:
    """(connections kept after a burst, CPU ms per sequential request) with `kept` allowed."""
    server = await asyncio.start_server(_serve, "127.0.0.1", 0)
    url = f"http://127.0.0.1:{server.sockets[0].getsockname()[1]}/"
    limits = httpx.Limits(
        max_connections=MAX_CONNECTIONS, max_keepalive_connections=kept, keepalive_expiry=30
    )
    try:
        async with httpx.AsyncClient(limits=limits) as client:
            await asyncio.gather(*(client.get(url) for _ in range(MAX_CONNECTIONS)))
            pooled = sum(1 for _ in client._transport._pool.connections)  # type: ignore[attr-defined]
            began = time.process_time()
            for _ in range(requests):
                (await client.get(url)).raise_for_status()
            spent = (time.process_time() - began) / requests * 1000
        await asyncio.gather(*_serving)  # the client closed its connections: each handler ends
        return pooled, spent
    finally:
        server.close()
        await server.wait_closed()


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--kept", type=int, nargs="+", default=[1, 10, 20, 50, 100, 200])
    parser.add_argument("--requests", type=int, default=500)
    args = parser.parse_args()
    print(f"{args.requests} sequential requests after a burst of {MAX_CONNECTIONS}; CPU of this process")
    print("(client and loopback server together: the server's share is the figure at 1 kept)")
    for kept in args.kept:
        pooled, ms = asyncio.run(cpu_per_request(kept, args.requests))
        print(f"max_keepalive_connections={kept:4d}: {pooled:4d} kept, {ms:6.2f} ms CPU per request")


if __name__ == "__main__":
    main()
