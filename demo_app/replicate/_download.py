"""Copy one output file to disk, safely: capped, streamed, and never half-written under `dest`.

Bytes go to a hidden temp file beside `dest` (same file system, so the final `os.replace` is
atomic), are fsynced, then renamed; on any failure the temp file is removed. The cap is checked
against `Content-Length` before reading and against the decoded bytes while reading, so a lying
or compressed response cannot fill the disk. Redirects are followed by hand, at most
`MAX_REDIRECTS`, each target first approved by the `RedirectPolicy` (see `_redirects`).
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import secrets
from collections.abc import AsyncIterator
from pathlib import Path
from typing import BinaryIO

import httpx

from ._files import data_url_size_bound, decode_data_url
from ._problem import error_from_response
from ._redirects import MAX_REDIRECTS, RedirectPolicy
from ._transport import translated_errors
from .errors import OutputTooLarge, OutputUnavailable, UnexpectedResponse, UnsafeRedirect

CHUNK_BYTES = 256 * 1024
GONE_STATUSES = frozenset({404, 410})


def _too_large(max_bytes: int) -> OutputTooLarge:
    return OutputTooLarge(
        f"The result file is larger than the {_size(max_bytes)} allowed, so it was not kept. "
        "Try a shorter input.",
        max_bytes=max_bytes,
    )


def _size(n: int) -> str:
    return f"{n / 1_000_000:.1f} MB" if n >= 100_000 else f"{n} bytes"


def _temp_beside(dest: Path) -> Path:
    return dest.with_name(f".{dest.name}.{secrets.token_hex(6)}.part")


def _finish(handle: BinaryIO, temp: Path, dest: Path) -> None:
    handle.flush()
    os.fsync(handle.fileno())
    handle.close()
    os.replace(temp, dest)


async def save_data_url(url: str, dest: Path, *, max_bytes: int) -> int:
    """Decode a `data:` output (sync-mode responses) to `dest`; returns the byte count."""
    if data_url_size_bound(url) > max_bytes + 3:
        raise _too_large(max_bytes)
    try:
        _, content = decode_data_url(url)
    except ValueError as exc:
        raise UnexpectedResponse("Replicate sent a result that could not be decoded. Try again.") from exc
    if len(content) > max_bytes:
        raise _too_large(max_bytes)
    await asyncio.to_thread(_write_all, content, dest)
    return len(content)


def _write_all(content: bytes, dest: Path) -> None:
    temp = _temp_beside(dest)
    try:
        with temp.open("wb") as handle:
            handle.write(content)
            _finish(handle, temp, dest)
    finally:
        temp.unlink(missing_ok=True)


@contextlib.asynccontextmanager
async def _get_following(
    http: httpx.AsyncClient, url: str, policy: RedirectPolicy
) -> AsyncIterator[httpx.Response]:
    """GET `url` streamed, following redirects the policy approves (the token stays on the API's host)."""
    request = http.build_request("GET", url, headers={"Accept": "*/*"})
    for _ in range(MAX_REDIRECTS + 1):
        response = await http.send(request, stream=True, follow_redirects=False)
        if response.next_request is None:
            try:
                yield response
            finally:
                await response.aclose()
            return
        await response.aclose()
        request = response.next_request
        await policy.check(request.url)
    raise UnsafeRedirect(f"The result file was redirected more than {MAX_REDIRECTS} times; nothing was kept.")


async def stream_to_file(
    http: httpx.AsyncClient,
    url: str,
    dest: Path,
    *,
    max_bytes: int,
    secret: str | None,
    policy: RedirectPolicy,
) -> int:
    """One attempt at fetching `url` into `dest`; returns the byte count."""
    what = f"download {httpx.URL(url).path}"
    temp = _temp_beside(dest)
    try:
        with translated_errors(what):
            async with _get_following(http, url, policy) as response:
                if response.status_code in GONE_STATUSES:
                    raise OutputUnavailable(
                        f"The result file is no longer available (HTTP {response.status_code}); "
                        "outputs are deleted after a while. Run the prediction again."
                    )
                if response.status_code >= 400:
                    content = await response.aread()
                    raise error_from_response(
                        response.status_code, response.headers, content, secret=secret
                    )
                declared = response.headers.get("content-length", "")
                if declared.isdigit() and int(declared) > max_bytes:
                    raise _too_large(max_bytes)
                written = 0
                with temp.open("wb") as handle:
                    async for chunk in response.aiter_bytes(CHUNK_BYTES):
                        written += len(chunk)
                        if written > max_bytes:
                            raise _too_large(max_bytes)
                        handle.write(chunk)
                    await asyncio.to_thread(_finish, handle, temp, dest)
        return written
    finally:
        temp.unlink(missing_ok=True)
