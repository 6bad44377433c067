"""Where an output download may be redirected: public `https` hosts, or the API's own origin.

An output URL comes from Replicate, but a redirect from it could point anywhere, including
addresses only this server can reach (cloud metadata at 169.254.169.254, services on
loopback or the private network). A redirect is followed only to `https` on a host whose
every address is public (not private, loopback, link-local, shared, reserved or
unspecified); the API's own origin is always allowed (for the built-in engine that is
`http://engine.internal`, served in process). A name is resolved to check its addresses.

Limit: the connection resolves the name again, so a name that changes its answer between
the check and the connect (DNS rebinding) is not caught here; the output URL itself comes
from Replicate, which makes that a narrow path.
"""

from __future__ import annotations

import asyncio
import ipaddress
import socket
from collections.abc import Awaitable, Callable

import httpx

from ._transport import Origin, origin
from .errors import ConnectFailed, UnsafeRedirect

MAX_REDIRECTS = 5

Resolver = Callable[[str], Awaitable[list[str]]]
"""Host name -> its IP addresses (as text); raises OSError when it does not resolve."""


async def resolve_host(host: str) -> list[str]:
    """The addresses `host` resolves to, from the system resolver (without blocking the loop)."""
    infos = await asyncio.get_running_loop().getaddrinfo(host, None, type=socket.SOCK_STREAM)
    return [str(info[4][0]) for info in infos]


class RedirectPolicy:
    """Decides whether a download may follow a redirect to a URL."""

    def __init__(self, api_origin: Origin, resolve: Resolver = resolve_host) -> None:
        self._api_origin = api_origin
        self._resolve = resolve

    async def check(self, url: httpx.URL) -> None:
        """Return if `url` may be fetched; raise `UnsafeRedirect` (or `ConnectFailed`) if not."""
        if origin(url) == self._api_origin:
            return
        host = url.host.lower().rstrip(".")
        if url.scheme != "https":
            raise _refused(host, "it is not https")
        if host == "localhost" or host.endswith(".localhost"):
            raise _refused(host, "it is this machine")
        try:
            addresses = [ipaddress.ip_address(host)]
        except ValueError:
            try:
                addresses = [ipaddress.ip_address(a.split("%")[0]) for a in await self._resolve(host)]
            except OSError as exc:
                raise ConnectFailed(f"The result file's host {host} could not be found; try again.") from exc
        if not addresses or any(not _public(ip) for ip in addresses):
            raise _refused(host, "it is a private, loopback or link-local address")


def _public(ip: ipaddress.IPv4Address | ipaddress.IPv6Address) -> bool:
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped
    return ip.is_global and not ip.is_multicast


def _refused(host: str, why: str) -> UnsafeRedirect:
    return UnsafeRedirect(
        f"The result file was redirected to {host}, which the app does not download from ({why}); "
        "nothing was fetched there. Run the prediction again, or report it if it keeps happening."
    )
