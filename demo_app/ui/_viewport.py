"""Keeping what just changed in view, in the browser alone (js-only events, no server call).

The log box follows its newest line: Gradio's own autoscroll judges "at the bottom" before the
box grows to its full height, so a frame that adds several lines at once (the last ones of a
run) leaves it short of the end. After Generate or Try again on a small screen, the run panel
sits below the fold; it is scrolled into view so the visitor sees that something started.
"""

from __future__ import annotations

from typing import Any

import gradio as gr

FOLLOW_LOG_JS = """
() => {
  const last = () => {
    const box = document.querySelector('#logs textarea');
    if (box) box.scrollTop = box.scrollHeight;
  };
  requestAnimationFrame(() => requestAnimationFrame(last));
}
"""
"""Scrolls the log box to its end once the new value is drawn and the box has its new height."""

SHOW_RUN_PANEL_JS = """
(...inputs) => {
  const panel = document.querySelector('#job-status');
  if (panel) {
    const box = panel.getBoundingClientRect();
    if (box.top < 0 || box.top > window.innerHeight * 0.6) panel.scrollIntoView({block: 'start'});
  }
  return inputs;
}
"""
"""Brings the run panel's top into the upper part of the screen when it is not there already."""


def wire_viewport(logs: gr.Textbox, starts: list[Any]) -> None:
    """The log box follows its newest line; each trigger in `starts` brings the run panel into view."""
    logs.change(None, None, None, js=FOLLOW_LOG_JS, **_browser_only("follow_log"))
    gr.on(starts, None, None, None, js=SHOW_RUN_PANEL_JS, **_browser_only("show_run_panel"))


def _browser_only(name: str) -> dict[str, Any]:
    """A js-only event: the browser never calls the server for it."""
    return {
        "api_name": f"page_{name}",
        "api_visibility": "private",
        "queue": False,
        "show_progress": "hidden",
    }
