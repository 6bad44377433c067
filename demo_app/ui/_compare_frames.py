"""The Compare tab's results as frames: one per change of the comparison, sending only what changed.

As on the Create tab, the elapsed time alone never makes a frame (each panel's clock ticks in the
browser) and outputs that did not change travel as `gr.skip()`.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Hashable, Mapping
from dataclasses import replace
from typing import Any

import gradio as gr

from demo_app.jobs import MAX_MODELS, ComparisonSnapshot, JobStatus
from demo_app.ui._compare_view import member_html, summary_html

TOP_FIELDS = ("group", "summary", "start", "cancel", "play")
PANEL_FIELDS = ("column", "status", "video")
FIELDS = (
    *TOP_FIELDS,
    *(f"{field}{index}" for index in range(MAX_MODELS) for field in PANEL_FIELDS),
    "balance",
)
"""The order of the comparison's outputs in every event that drives them."""

_UNSET = object()


class CompareFrames:
    """Turns a comparison's snapshots into frames, remembering what the browser already shows."""

    def __init__(self, titles: Mapping[str, str], balance_html: Callable[[], Awaitable[str]]) -> None:
        self._titles = titles
        self._balance_html = balance_html
        self._shown: dict[str, Hashable] = {}
        self._statuses: tuple[JobStatus, ...] = ()

    async def frame(self, comparison: ComparisonSnapshot) -> tuple[Any, ...] | None:
        """The outputs for `comparison`, or None when the browser already shows all of it."""
        members = comparison.members
        wanted: dict[str, Hashable] = {
            "group": comparison.group_id,
            "summary": summary_html(comparison, self._titles),
            "start": comparison.terminal,
            "cancel": not comparison.terminal,
            "play": any(m.status is JobStatus.SUCCEEDED and m.video_path for m in members),
        }
        sent: dict[str, Hashable] = {}
        for index in range(MAX_MODELS):
            member = members[index] if index < len(members) else None
            wanted[f"column{index}"] = member is not None
            if member is None:
                wanted[f"status{index}"], wanted[f"video{index}"] = "", None
                continue
            # Judged at no elapsed time: the clock alone is no reason for a frame.
            wanted[f"status{index}"] = member_html(replace(member, elapsed_s=0.0), self._titles)
            sent[f"status{index}"] = member_html(member, self._titles)
            wanted[f"video{index}"] = member.video_path if member.status is JobStatus.SUCCEEDED else None
        statuses = tuple(m.status for m in members)
        if statuses != self._statuses:
            # Holds and charges happen at status changes only: the balance is asked for then.
            self._statuses = statuses
            wanted["balance"] = await self._balance_html()
        else:
            wanted["balance"] = self._shown.get("balance")
        changed = {name for name in FIELDS if self._shown.get(name, _UNSET) != wanted[name]}
        if not changed:
            return None
        self._shown.update(wanted)
        values = wanted | sent
        return tuple(_update(name, values[name]) if name in changed else gr.skip() for name in FIELDS)


def _update(name: str, value: Hashable) -> Any:
    """The Gradio value or component update that shows `value` in the output `name`."""
    if name == "start":
        return gr.Button(interactive=bool(value))
    if name == "cancel":
        return gr.Button(value="Cancel all", visible=bool(value), interactive=True)
    if name == "play":
        return gr.Button(visible=bool(value))
    if name.startswith("column"):
        return gr.Column(visible=bool(value))
    return value
