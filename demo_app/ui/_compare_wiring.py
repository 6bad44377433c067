"""The Compare tab's events and the comparison's videos in History (settings as `_wiring`'s)."""

from __future__ import annotations

from typing import Any

import gradio as gr

from demo_app.ui._compare_handlers import CompareHandlers
from demo_app.ui._compare_layout import HISTORY_RESULTS_ID, RESULTS_ID
from demo_app.ui._compare_view import play_together_js
from demo_app.ui._layout import Page
from demo_app.ui._wiring import _page_event, _raw_event


def wire_compare(demo: gr.Blocks, page: Page, handlers: CompareHandlers) -> None:
    """Connect the Compare tab and History's comparison videos (call inside `demo`)."""
    c = page.compare
    if c is None:
        return
    quote_inputs = [page.owner, c.image, c.audio, c.models]
    quote_outputs = [c.estimate, c.start]
    gr.on(
        [c.image.change, c.audio.change, c.models.change, c.tab.select],
        handlers.quote,
        quote_inputs,
        quote_outputs,
        trigger_mode="always_last",
        **_raw_event("compare_quote"),
    )
    outputs: list[Any] = [c.group_id, c.summary, c.start, c.cancel, c.play]
    for panel in c.panels:
        outputs += [panel.column, panel.status, panel.video]
    outputs.append(page.balance)
    run = c.start.click(handlers.start, quote_inputs, outputs, **_raw_event("compare"))
    run.then(handlers.quote, quote_inputs, quote_outputs, **_raw_event("compare_quote_after_run"))
    c.cancel.click(handlers.cancel, [page.owner, c.group_id], [c.cancel], **_page_event("compare_cancel"))
    c.play.click(None, None, None, js=play_together_js(RESULTS_ID), **_page_event("compare_play"))
    h = page.history.comparison
    if h is not None:
        page.history.table.select(
            handlers.history_videos,
            [page.owner],
            [h.row, *h.videos, h.play],
            **_page_event("history_compare"),
        )
        h.play.click(None, None, None, js=play_together_js(HISTORY_RESULTS_ID), **_page_event("history_play"))
