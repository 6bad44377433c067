"""The "Several clips" tab: one face and up to 20 clips for a visitor signed in with Hugging Face.

Its layout (`batch_tab`) and its events (`wire_batches`); what the events do is in `_batch_handlers`.
An anonymous visitor sees only the sentence asking them to sign in.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import gradio as gr

from demo_app.batches import MAX_ITEMS
from demo_app.catalog import current_offer

ITEM_HEADERS = ["#", "Clip", "Status", "Credits", "Note"]
SIGN_IN = "Sign in with Hugging Face (top right) to run several clips at once."


@dataclass(frozen=True)
class BatchTab:
    """The sign-in sentence, the form, the per-item table, Cancel and the zip download."""

    tab: gr.Tab
    signed_out: gr.Markdown
    form: gr.Column
    face: gr.Image
    clips: gr.File
    model: gr.Dropdown
    start: gr.Button
    cancel: gr.Button
    status: gr.Markdown
    table: gr.Dataframe
    download: gr.DownloadButton
    batch_id: gr.State


def batch_tab() -> BatchTab:
    """The tab (call inside the page's `gr.Tabs`); the form stays hidden until sign-in is known."""
    offer = current_offer()
    with gr.Tab("Several clips", id="batch") as tab:
        batch_id = gr.State(None)
        signed_out = gr.Markdown(SIGN_IN, elem_id="batch-sign-in")
        with gr.Column(visible=False, elem_id="batch-form") as form:
            gr.Markdown(
                f"One face and up to {MAX_ITEMS} clips: every clip is checked before anything is held, "
                "then each one runs as its own job (held as it starts, charged only on success)."
            )
            with gr.Row():
                face = gr.Image(label="Face image", type="filepath", height=220, elem_id="batch-face")
                clips = gr.File(
                    label=f"Audio clips (up to {MAX_ITEMS})",
                    file_count="multiple",
                    file_types=["audio"],
                    elem_id="batch-clips",
                )
            model = gr.Dropdown(
                choices=[(spec.label, model_id) for model_id, spec in offer.models.items()],
                value=offer.default,
                label="Model",
                elem_id="batch-model",
            )
            with gr.Row():
                start = gr.Button("Start", variant="primary", elem_id="batch-start")
                cancel = gr.Button("Cancel", variant="stop", visible=False, elem_id="batch-cancel")
            status = gr.Markdown("", elem_id="batch-status")
            table = gr.Dataframe(
                headers=ITEM_HEADERS, datatype="str", interactive=False, elem_id="batch-items"
            )
            download = gr.DownloadButton("Download all (zip)", visible=False, elem_id="batch-download")
    return BatchTab(
        tab, signed_out, form, face, clips, model, start, cancel, status, table, download, batch_id
    )


def frame_outputs(tab: BatchTab) -> list[Any]:
    """What following a batch updates, in the order of `_batch_handlers.frame`."""
    return [tab.batch_id, tab.status, tab.table, tab.start, tab.cancel, tab.download]
