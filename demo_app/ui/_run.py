"""The run panel as a sequence of frames: one per job snapshot, sending only what changed.

A visitor's browser gets a new frame when the status, progress or logs change; outputs that did
not change travel as `gr.skip()`, and a frame where nothing changed is not sent. The elapsed time
alone never makes a frame: the browser keeps it ticking from the last one (`ELAPSED_CLOCK_JS`).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Hashable
from dataclasses import replace
from typing import Any

import gradio as gr

from demo_app.jobs import RETRYABLE_STATUSES, JobSnapshot, JobStatus
from demo_app.presenters import log_text, status_html

RUN_FIELDS = ("job", "status", "logs", "video", "download", "generate", "cancel", "retry", "balance")
"""The order of the run panel's outputs in every event that drives it."""

_UNSET = object()


class RunFrames:
    """Turns a job's snapshots into run-panel frames, remembering what the browser already shows."""

    def __init__(self, balance_html: Callable[[], Awaitable[str]]) -> None:
        self._balance_html = balance_html
        self._shown: dict[str, Hashable] = {}
        self._status: JobStatus | None = None

    async def frame(self, snap: JobSnapshot) -> tuple[Any, ...] | None:
        """The outputs for `snap`, or None when the browser already shows all of it."""
        running = not snap.terminal
        video = snap.video_path if snap.status is JobStatus.SUCCEEDED else None
        wanted: dict[str, Hashable] = {
            "job": snap.job_id,
            # Judged at no elapsed time: the clock alone is no reason for a frame.
            "status": status_html(replace(snap, elapsed_s=0.0)),
            "logs": log_text(snap),
            "video": video,
            "download": video,
            # A run's first frame turns Generate off (a double click starts one job); the live
            # estimate, asked once the job has started, turns it on again within the job limit.
            "generate": False,
            "cancel": running,
            "retry": snap.status in RETRYABLE_STATUSES,
        }
        if snap.status is not self._status:
            # Holds and charges happen at status changes only: the balance is asked for then.
            self._status = snap.status
            wanted["balance"] = await self._balance_html()
        else:
            wanted["balance"] = self._shown.get("balance")
        changed = {name for name in RUN_FIELDS if self._shown.get(name, _UNSET) != wanted[name]}
        if not changed:
            return None
        self._shown.update(wanted)
        sent = wanted | {"status": status_html(snap)}
        return tuple(_update(name, sent[name]) if name in changed else gr.skip() for name in RUN_FIELDS)


def _update(name: str, value: Hashable) -> Any:
    """The Gradio value or component update that shows `value` in the output `name`."""
    if name == "download":
        path = value if isinstance(value, str) else None
        return gr.DownloadButton(value=path, visible=path is not None)
    if name == "generate":
        return gr.Button(interactive=bool(value))
    if name == "cancel":
        return gr.Button(value="Cancel", visible=bool(value), interactive=True)
    if name == "retry":
        return gr.Button(visible=bool(value))
    return value


def idle_frame() -> tuple[Any, ...]:
    """Leaves the run panel as it is (nothing to resume)."""
    return tuple(gr.skip() for _ in RUN_FIELDS)
