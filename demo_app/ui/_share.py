"""History's share and manifest controls: the selected job's manifest as a .json download, and
its share link (Share shows the address, Stop sharing ends it).

The address is the app's public one when it is known (`public_url`, or the Space's), else the
one the visitor's browser used to reach the page.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import re
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import gradio as gr
from gradio.utils import get_upload_folder

from demo_app.arguments import BadArgument, job_id_text
from demo_app.jobs import JobNotFinished, JobNotFound, JobStatus
from demo_app.services import Services
from demo_app.settings import Settings
from demo_app.shares import CannotShare, share_path
from demo_app.ui._handlers import ServicesSource
from demo_app.ui._sentences import refusal, speaks

HOST_SHAPE = re.compile(r"[A-Za-z0-9.:\[\]-]{1,255}")


def share_url(settings: Settings, headers: Mapping[str, str], token: str) -> str:
    """The share link's address: the app's public address, else the host the visitor reached."""
    path = share_path(token)
    if settings.webhook_base_url is not None:
        return settings.webhook_base_url + path
    host = _first(headers.get("x-forwarded-host")) or _first(headers.get("host"))
    if host is None or not HOST_SHAPE.fullmatch(host):
        return path
    scheme = "https" if _first(headers.get("x-forwarded-proto")) == "https" else "http"
    return f"{scheme}://{host}{path}"


def _first(value: str | None) -> str | None:
    """The first of a header's comma-separated values (proxies append theirs)."""
    return value.split(",")[0].strip() or None if value else None


async def write_manifest(manifest: dict[str, Any], job_id: str) -> str:
    """The manifest as a .json file in Gradio's cache, in a folder named by its content: clicking
    the row again rewrites the same small file, so there is at most one per finished job (Gradio
    serves its own copy; this one the cache sweeper removes as an orphan after a restart)."""
    text = json.dumps(manifest, indent=2)
    folder = Path(get_upload_folder()) / f"manifest-{hashlib.sha256(text.encode()).hexdigest()[:32]}"
    path = folder / f"manifest-{job_id}.json"

    def write() -> None:
        folder.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")

    await asyncio.to_thread(write)
    return str(path)


class ShareHandlers:
    """The History tab's manifest download and share buttons for the row the visitor clicked."""

    def __init__(self, handle: ServicesSource, settings: Settings) -> None:
        self._handle = handle
        self._settings = settings

    @speaks
    async def selected(self, owner: str | None, evt: gr.SelectData, request: gr.Request) -> tuple[Any, ...]:
        """The clicked job, its manifest (once it finished) and its share controls."""
        row = evt.row_value if isinstance(evt.row_value, Sequence) else None
        if owner is None or not row:
            return (None, gr.DownloadButton(visible=False), *_controls(None, shareable=False))
        services = await self._handle.get()
        try:
            job_id = job_id_text(row[-1])
            snap = services.jobs.snapshot(owner, job_id)
            manifest = services.jobs.manifest(owner, job_id)
        except (JobNotFound, JobNotFinished, BadArgument):
            return (None, gr.DownloadButton(visible=False), *_controls(None, shareable=False))
        path = await write_manifest(manifest, job_id)
        share = await services.shares.link_of(owner, job_id)
        shareable = snap.status is JobStatus.SUCCEEDED and snap.video_path is not None
        link = share_url(self._settings, dict(request.headers), share.token) if share is not None else None
        return (job_id, gr.DownloadButton(value=path, visible=True), *_controls(link, shareable=shareable))

    @speaks
    async def share(self, owner: str | None, job_id: str | None, request: gr.Request) -> tuple[Any, ...]:
        """Make (or show) the selected job's share link."""
        services, owner, job_id = await self._selection(owner, job_id)
        try:
            share = await services.shares.share(owner, job_id)
        except (JobNotFound, CannotShare) as exc:
            raise refusal(str(exc), title="Cannot share") from None
        return _controls(share_url(self._settings, dict(request.headers), share.token), shareable=True)

    @speaks
    async def unshare(self, owner: str | None, job_id: str | None) -> tuple[Any, ...]:
        """Stop the selected job's share link: its page and video stop answering at once."""
        services, owner, job_id = await self._selection(owner, job_id)
        try:
            await services.shares.unshare(owner, job_id)
        except JobNotFound as exc:
            raise refusal(str(exc), title="Cannot stop sharing") from None
        return _controls(None, shareable=True)

    async def _selection(self, owner: str | None, job_id: str | None) -> tuple[Services, str, str]:
        if owner is None or job_id is None:
            raise refusal("Click a job in the table first.", title="No job chosen")
        return await self._handle.get(), owner, job_id_text(job_id)


def _controls(link: str | None, *, shareable: bool) -> tuple[Any, Any, Any]:
    """Share, Stop sharing and the link, as the job's share state says."""
    return (
        gr.Button(visible=shareable and link is None),
        gr.Button(visible=link is not None),
        gr.Textbox(value=link or "", visible=link is not None),
    )
