"""The HTTP layer under the client: one pooled httpx client, token scoping, error translation.

Sizing: every followed prediction polls a few times a minute, so the pool allows
`max_connections` at once and keeps `KEPT_ALIVE` of them for `KEEPALIVE_EXPIRY_S` (longer than
any poll interval), which spares a TLS handshake per poll. Not all of them: before and after
every request httpx's pool looks at each connection it keeps (a `poll` of each idle socket), on
the event loop's thread. After a burst had left 200 kept, that was 31 ms of CPU per request
against 1.8 ms with 20 kept (`bench/pool_bookkeeping.py`). Time-outs are explicit per phase;
waiting for a free pooled connection has its own short limit so an overloaded pool fails visibly.
"""

from __future__ import annotations

from collections.abc import Generator, Iterator
from contextlib import contextmanager

import httpx
from pydantic import SecretStr

from .errors import ConnectFailed, ConnectionDropped, TimedOut, UnexpectedResponse

CONNECT_TIMEOUT_S = 5.0
POOL_TIMEOUT_S = 10.0
KEEPALIVE_EXPIRY_S = 30.0
KEPT_ALIVE = 20
"""Idle connections kept for reuse: the reads a busy app sends at once (40 a second, each a few
hundred milliseconds on Replicate); more are opened for a burst and closed after it."""

Origin = tuple[str, str, int]


def origin(url: httpx.URL) -> Origin:
    """(scheme, host, port) with the default port filled in: what "the same server" means."""
    port = url.port or (443 if url.scheme == "https" else 80)
    return url.scheme, url.host.lower(), port


class OriginBearerAuth(httpx.Auth):
    """Adds `Authorization: Bearer` only to requests for the API's own origin.

    Output files, `next` links and redirects may point elsewhere; a foreign host never sees the
    token. httpx strips the header itself when a redirect leaves the origin.
    """

    def __init__(self, token: SecretStr | None, api_origin: Origin) -> None:
        self._token = token
        self._origin = api_origin

    def auth_flow(self, request: httpx.Request) -> Generator[httpx.Request, httpx.Response, None]:
        if self._token is not None and origin(request.url) == self._origin:
            request.headers["Authorization"] = f"Bearer {self._token.get_secret_value()}"
        yield request

    def __repr__(self) -> str:
        return f"OriginBearerAuth(origin={self._origin!r}, token={'[secure]' if self._token else None})"


def timeouts(io_s: float) -> httpx.Timeout:
    """Per-phase limits: `io_s` bounds each read and write; connects and the pool have their own."""
    return httpx.Timeout(
        connect=min(CONNECT_TIMEOUT_S, io_s),
        read=io_s,
        write=io_s,
        pool=POOL_TIMEOUT_S,
    )


def build_http_client(
    base_url: str,
    token: SecretStr | None,
    *,
    transport: httpx.AsyncBaseTransport | None,
    timeout: float,
    max_connections: int,
) -> httpx.AsyncClient:
    """The one shared client; `transport` swaps the network for an in-process app in tests."""
    url = httpx.URL(base_url)
    return httpx.AsyncClient(
        base_url=url,
        auth=OriginBearerAuth(token, origin(url)),
        transport=transport,
        timeout=timeouts(timeout),
        limits=httpx.Limits(
            max_connections=max_connections,
            max_keepalive_connections=min(KEPT_ALIVE, max_connections),
            keepalive_expiry=KEEPALIVE_EXPIRY_S,
        ),
        headers={"Accept": "application/json"},
        follow_redirects=False,
    )


@contextmanager
def translated_errors(what: str) -> Iterator[None]:
    """The one place httpx exceptions become ours (`raise … from` keeps the cause for logs)."""
    try:
        yield
    except (httpx.ConnectError, httpx.ConnectTimeout, httpx.ProxyError, httpx.UnsupportedProtocol) as exc:
        raise ConnectFailed(
            f"Could not connect to Replicate ({what}). Check the network connection and try again."
        ) from exc
    except httpx.PoolTimeout as exc:
        raise TimedOut(
            f"Too many requests to Replicate are already under way ({what}). Try again shortly.",
            maybe_sent=False,
        ) from exc
    except httpx.TimeoutException as exc:
        raise TimedOut(
            f"Replicate did not answer in time ({what}). Try again in a moment.", maybe_sent=True
        ) from exc
    except httpx.TransportError as exc:
        raise ConnectionDropped(
            f"The connection to Replicate broke off ({what}). Try again in a moment."
        ) from exc
    except httpx.HTTPError as exc:
        raise UnexpectedResponse(
            f"Replicate sent a response that could not be read ({what}). Try again in a moment."
        ) from exc
