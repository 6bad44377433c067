"""Fetching a tool's https input through the guard of output downloads: public, capped, timed.

A link is followed only as far as `RedirectPolicy` allows an output download: the link and
every redirect must be `https` on a host whose every address is public (no loopback, private,
link-local or reserved address), at most five redirects. The body is streamed to disk and cut
at the cap (`stream_to_file`), and the whole fetch has a deadline. The HTTP client carries no
credentials and reads no proxy settings from the environment, and no origin is trusted.

Limit, as for outputs: the connection resolves the name again after the check, so a name that
changes its answer in between (DNS rebinding) is not caught here.
"""

from __future__ import annotations

import asyncio
from pathlib import Path

import httpx

from demo_app.replicate import (
    OutputTooLarge,
    OutputUnavailable,
    RedirectPolicy,
    ReplicateError,
    UnsafeRedirect,
    stream_to_file,
)
from demo_app.ui import Refused
from demo_app.uploads import MIB

NO_TRUSTED_ORIGIN = ("", "", 0)
"""The policy's "own origin", which no link has: every host is judged."""
IO_TIMEOUT_S = 10.0


async def fetch_link(url: str, dest: Path, *, what: str, max_bytes: int, deadline_s: float) -> int:
    """Fetch `url` into `dest` (the byte count), or refuse with a sentence naming `what`."""
    policy = RedirectPolicy(NO_TRUSTED_ORIGIN)
    try:
        async with asyncio.timeout(deadline_s):
            await policy.check(httpx.URL(url))
            async with httpx.AsyncClient(timeout=IO_TIMEOUT_S, trust_env=False) as http:
                return await stream_to_file(http, url, dest, max_bytes=max_bytes, secret=None, policy=policy)
    except (TimeoutError, httpx.InvalidURL, ReplicateError) as exc:
        raise Refused(_sentence(exc, what, max_bytes, deadline_s), title="Cannot fetch the file") from None


def _sentence(exc: Exception, what: str, max_bytes: int, deadline_s: float) -> str:
    """What the caller should do about a failed fetch."""
    instead = "send a public https link or a data: URI"
    if isinstance(exc, TimeoutError):
        return f"The {what} link did not deliver within {deadline_s:g} s; {instead}."
    if isinstance(exc, httpx.InvalidURL):
        return f"The {what} link is not a valid https URL; {instead}."
    if isinstance(exc, UnsafeRedirect):
        why = "a private address, or not https"
        return f"The {what} link leads to a host this app does not fetch from ({why}); {instead}."
    if isinstance(exc, OutputTooLarge):
        return f"The {what} is larger than the {max_bytes / MIB:g} MB a file may be; send a smaller one."
    if isinstance(exc, OutputUnavailable):
        return f"The {what} link answered that the file is gone; check the link, or {instead}."
    return f"The {what} could not be fetched from its link; check that it is public, or {instead}."
