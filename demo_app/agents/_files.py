"""A tool's file argument (`data:` URI or https link) made into an upload the API accepts.

MCP clients cannot use Gradio's `/upload`, so a tool takes each file as text: a `data:` URI
(decoded, its size bounded before decoding) or an https link (fetched through `fetch_link`).
Either way the bytes land where Gradio's uploads land and meet the same checks as an upload:
the per-file size limit, the uploader's hourly and the disk quota (`UploadQuota`), Gradio's
upload set (so `UploadPolicy` accepts the file and the cache sweeper removes it on the uploads'
schedule), then the job's own checks of the picture and the sound. Nothing else is read: no
path, no other scheme.

A link's size is known only once fetched (within the cap), so it is counted against the quota
then, and deleted if the quota refuses it.
"""

from __future__ import annotations

import asyncio
import mimetypes
import secrets
import shutil
from collections.abc import MutableSet
from pathlib import Path
from typing import Any

import httpx
from gradio.data_classes import FileData

from demo_app.agents._links import fetch_link
from demo_app.replicate import data_url_size_bound, decode_data_url
from demo_app.ui import Refused
from demo_app.uploads import MIB, UploadQuota

MAX_SUFFIX_CHARS = 6


class ToolFiles:
    """Receives tool file arguments into Gradio's upload folder, as uploads."""

    def __init__(
        self,
        folder: str | Path,
        uploaded: MutableSet[str],
        quota: UploadQuota,
        *,
        max_bytes: int,
        fetch_deadline_s: float,
    ) -> None:
        self._folder = Path(folder)
        self._uploaded = uploaded
        self._quota = quota
        self._max_bytes = max_bytes
        self._deadline_s = fetch_deadline_s

    async def receive(self, value: Any, what: str, address: str | None) -> dict[str, Any]:
        """A Gradio file dict of the received file, or `Refused` with what to send instead."""
        text = value.strip() if isinstance(value, str) else ""
        head = text[:8].lower()
        if not head.startswith(("data:", "https://")):
            raise Refused(
                f"Give the {what} as a data: URI (data:<type>;base64,<bytes>) or an https:// link to a "
                "public file; file paths and other links are not accepted.",
                title="Missing input",
            )
        folder = self._folder / f"tool-{secrets.token_hex(16)}"
        try:
            if head.startswith("data:"):
                path = await self._decoded(text, what, folder, address)
            else:
                path = await self._fetched(text, what, folder, address)
        except BaseException:
            shutil.rmtree(folder, ignore_errors=True)
            raise
        self._uploaded.add(str(path))
        return FileData(path=str(path), orig_name=path.name).model_dump()

    async def _decoded(self, url: str, what: str, folder: Path, address: str | None) -> Path:
        if data_url_size_bound(url) > self._max_bytes + 3:
            raise self._too_large(what)
        try:
            mime, content = await asyncio.to_thread(decode_data_url, url)
        except ValueError:
            raise Refused(
                f"The {what}'s data: URI could not be decoded; send data:<type>;base64,<the file's bytes>.",
                title="Missing input",
            ) from None
        if len(content) > self._max_bytes:
            raise self._too_large(what)
        self._admit(address, len(content))
        path = folder / f"{what}{_suffix_of_type(mime)}"
        await asyncio.to_thread(_write, path, content)
        return path

    async def _fetched(self, url: str, what: str, folder: Path, address: str | None) -> Path:
        await asyncio.to_thread(folder.mkdir, parents=True)
        path = folder / f"{what}{_suffix_of_link(url)}"
        size = await fetch_link(url, path, what=what, max_bytes=self._max_bytes, deadline_s=self._deadline_s)
        self._admit(address, size)
        return path

    def _admit(self, address: str | None, size: int) -> None:
        refusal = self._quota.admit(address, size)
        if refusal is not None:
            raise Refused(refusal, title="Upload limit")

    def _too_large(self, what: str) -> Refused:
        return Refused(
            f"The {what} is larger than the {self._max_bytes / MIB:g} MB a file may be; send a smaller one.",
            title="File too large",
        )


def _write(path: Path, content: bytes) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(content)


def _suffix_of_type(mime: str) -> str:
    """A name's suffix for a MIME type (the media checks read the content, not the name)."""
    return _safe(mimetypes.guess_extension(mime.lower()) or "")


def _suffix_of_link(url: str) -> str:
    try:
        return _safe(Path(httpx.URL(url).path).suffix)
    except httpx.InvalidURL:
        return ""


def _safe(suffix: str) -> str:
    suffix = suffix.lower()
    return suffix if len(suffix) <= MAX_SUFFIX_CHARS and suffix[1:].isalnum() else ""
