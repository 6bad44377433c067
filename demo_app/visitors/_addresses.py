"""Which network address a new anonymous visitor comes from, for the cap on starting grants.

Anyone can become a new anonymous visitor by clearing the browser's storage; without a cap,
each would bring a fresh grant. The ledger counts new visitors per address and UTC day in its
own file (`Ledger.open_account(..., address=...)`); this module only decides the address.

The address is the one the proxy in front of the app saw, never an entry the client wrote.
Each proxy appends the address it received the request from to `X-Forwarded-For`, so the
right-most `trusted_hops` entries are written by our own proxies and everything to their left
by the client (who can write anything there). With `trusted_hops = n` the visitor is the n-th
entry from the right; with 0 (the app exposed directly) the header is ignored and the TCP peer
is the visitor. A header shorter than `n`, or an entry that is not an IP address, falls back to
the TCP peer: coarse (every such visitor shares the proxy's address) but never spoofable.

Hugging Face Spaces: Hugging Face does not document how its proxy writes the header. Public
reports (embeddings-benchmark/mteb pull request #4754, "client IP retrieval in Hugging Face
Spaces") show that on a Space the TCP peer is an internal address (10.x) and the visitor's
address arrives in `X-Forwarded-For`, written by the Spaces proxy. One hop is right whether
that proxy appends (the visitor's address is then the last entry) or replaces the header (it
is then the only entry), so the default is 1 (`LIPSYNC_TRUSTED_PROXY_HOPS`). Raise it only if
a further proxy of your own appends behind Hugging Face's.

IPv6 visitors are counted per /64 network: one home or phone gets a whole /64, and counting
single IPv6 addresses would give each such visitor 2^64 grants.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Mapping
from typing import Any, Protocol

UNKNOWN = "unknown"
"""The address of a visitor whose request carried none (every such visitor shares the cap)."""


class HasHeaders(Protocol):
    """What a Gradio request offers here: its headers and the TCP peer."""

    @property
    def headers(self) -> Any: ...

    @property
    def client(self) -> Any: ...


class GrantGate:
    """Finds a request's visitor address behind `trusted_hops` proxies (see the module docstring)."""

    def __init__(self, trusted_hops: int) -> None:
        if trusted_hops < 0:
            raise ValueError("trusted_hops must be 0 or more")
        self.trusted_hops = trusted_hops

    def address(self, request: HasHeaders) -> str:
        """The address to count a new visitor of `request` under."""
        client = getattr(request, "client", None)
        peer = getattr(client, "host", None) if client is not None else None
        return visitor_address(request.headers, peer, self.trusted_hops)


def forwarded_for(headers: Any) -> list[str]:
    """Every `X-Forwarded-For` entry, in order, across repeated headers."""
    if hasattr(headers, "getlist"):
        values = list(headers.getlist("x-forwarded-for"))
    elif isinstance(headers, Mapping):
        values = [str(headers.get("x-forwarded-for", ""))]
    else:
        values = []
    return [entry.strip() for value in values for entry in str(value).split(",") if entry.strip()]


def visitor_address(headers: Any, peer: str | None, trusted_hops: int) -> str:
    """The visitor's address of a request's headers and TCP peer (see `client_address`)."""
    return client_address(forwarded_for(headers), peer, trusted_hops)


def client_address(forwarded: list[str], peer: str | None, trusted_hops: int) -> str:
    """The visitor: the `trusted_hops`-th forwarded entry from the right, else the TCP peer."""
    if trusted_hops > 0 and len(forwarded) >= trusted_hops:
        chosen = _normalised(forwarded[-trusted_hops])
        if chosen is not None:
            return chosen
    return _normalised(peer or "") or UNKNOWN


def _normalised(text: str) -> str | None:
    """An IPv4 address as is, an IPv6 one as its /64 network; None if `text` is not an address."""
    try:
        ip = ipaddress.ip_address(text.strip().strip("[]"))
    except ValueError:
        return None
    if isinstance(ip, ipaddress.IPv6Address):
        if ip.ipv4_mapped is not None:
            return str(ip.ipv4_mapped)
        return str(ipaddress.IPv6Network(f"{ip}/64", strict=False))
    return str(ip)
