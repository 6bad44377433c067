"""Keeping what just changed in view, in the browser alone (no server call).

The log box follows its newest line: Gradio's own autoscroll judges "at the bottom" before the
box grows to its full height, so a frame that adds several lines at once (the last ones of a
run) leaves it short of the end. After Generate or Try again on a small screen, the run panel
sits below the fold; it is scrolled into view so the visitor sees that something started
(`SHOW_RUN_PANEL_JS`, given to those events).
"""

from __future__ import annotations

import json
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
    if (box.top < 0 || box.top > window.innerHeight / 2) panel.scrollIntoView({block: 'start'});
  }
  return inputs;
}
"""
"""Brings the run panel's top into the upper half of the screen when it is not there already.

It runs as the `js` of the Generate and Try again events themselves, before their handler, and
hands the inputs on unchanged: a separate js-only event on the same click would wait in the
browser until the run's handler ends (the browser runs a trigger's events one after another)."""


NARROW_TABLES_CSS = """
@media (max-width: 640px) {
  #history table, #holds table, #statement table {
    table-layout: fixed !important; width: 100% !important; min-width: 0 !important;
  }
  #history :is(th, td), #holds :is(th, td), #statement :is(th, td) {
    width: auto !important; min-width: 0 !important; max-width: none !important;
  }
  #history :is(th, td) *, #holds :is(th, td) *, #statement :is(th, td) * {
    white-space: normal !important; overflow-wrap: anywhere !important; text-overflow: clip !important;
    overflow: visible !important; min-width: 0 !important;
    font-size: 12px; padding-left: 1px; padding-right: 1px;
  }
}
"""
"""On a phone every column of History and the Credits tables shares the screen's width and wraps
its text, instead of the table running off the right edge with its scroll bar hidden."""

NARROW_TABLES_JS = f"""
if (!document.getElementById('ls-narrow-tables')) {{
  const style = document.createElement('style');
  style.id = 'ls-narrow-tables';
  style.textContent = {json.dumps(NARROW_TABLES_CSS)};
  document.head.appendChild(style);
}}
"""


def narrow_tables() -> gr.HTML:
    """An empty block whose script gives the page its narrow-screen table rules (page-wide CSS:
    a block's own `css_template` is scoped to that block)."""
    return gr.HTML("", js_on_load=NARROW_TABLES_JS, elem_id="narrow-tables")


def wire_viewport(logs: gr.Textbox) -> None:
    """The log box follows its newest line."""
    logs.change(None, None, None, js=FOLLOW_LOG_JS, **_browser_only("follow_log"))


def _browser_only(name: str) -> dict[str, Any]:
    """A js-only event: the browser never calls the server for it."""
    return {
        "api_name": f"page_{name}",
        "api_visibility": "private",
        "queue": False,
        "show_progress": "hidden",
        "concurrency_limit": None,
    }
