"""The Compare tab's layout, and the comparison's videos in History: components only, no events.

A comparison has at most `MAX_MODELS` panels; each is laid out once, hidden until a comparison
fills it.
"""

from __future__ import annotations

from dataclasses import dataclass

import gradio as gr

from demo_app.catalog import current_offer
from demo_app.jobs import MAX_MODELS, MIN_MODELS
from demo_app.presenters import ELAPSED_CLOCK_JS, STATUS_CSS
from demo_app.ui._compare_view import COMPARE_CSS
from demo_app.ui._samples import sample_examples
from demo_app.uploads import UploadPolicy

RESULTS_ID = "compare-results"
HISTORY_RESULTS_ID = "history-compare"


@dataclass(frozen=True)
class ComparePanel:
    """One model's place in a comparison: its status (hold, progress, elapsed, cost) and its video."""

    column: gr.Column
    status: gr.HTML
    video: gr.Video


@dataclass(frozen=True)
class CompareTab:
    """The same face and voice for two or three models, and their results side by side."""

    tab: gr.Tab
    image: gr.Image
    audio: gr.Audio
    models: gr.CheckboxGroup
    estimate: gr.Markdown
    start: gr.Button
    cancel: gr.Button
    summary: gr.HTML
    play: gr.Button
    panels: tuple[ComparePanel, ...]
    group_id: gr.State


@dataclass(frozen=True)
class HistoryComparison:
    """A comparison's videos, shown in History when its row is clicked."""

    row: gr.Row
    videos: tuple[gr.Video, ...]
    play: gr.Button


def compare_tab(uploads: UploadPolicy) -> CompareTab:
    """The Compare tab; its sample files become uploads the policy accepts, as on Create."""
    offer = current_offer()
    with gr.Tab("Compare", id="compare") as tab:
        gr.Markdown(
            f"Send the same face and voice to {MIN_MODELS} or {MAX_MODELS} models at once. Each holds its "
            "own estimate and is charged only if it succeeds; the results play side by side."
        )
        with gr.Row():
            with gr.Column(scale=1, min_width=300):
                image = gr.Image(
                    label="Face image", type="filepath", image_mode=None, height=240, elem_id="compare-face"
                )
            with gr.Column(scale=1, min_width=300):
                audio = gr.Audio(label="Voice (audio clip)", type="filepath", elem_id="compare-voice")
                sample_examples(image, audio, uploads)
        models = gr.CheckboxGroup(
            choices=[(spec.label, model_id) for model_id, spec in offer.models.items()],
            value=list(offer.models)[:MIN_MODELS],
            label=f"Models to compare ({MIN_MODELS} or {MAX_MODELS}, each with its default options)",
            elem_id="compare-models",
        )
        estimate = gr.Markdown("Add a face image and an audio clip.", elem_id="compare-estimate")
        with gr.Row():
            start = gr.Button("Compare", variant="primary", interactive=False, elem_id="compare-start")
            cancel = gr.Button("Cancel all", variant="stop", visible=False, elem_id="compare-cancel")
        summary = gr.HTML("", elem_id="compare-summary")
        play = gr.Button("▶ Play all together", visible=False, elem_id="compare-play")
        with gr.Row(elem_id=RESULTS_ID):
            panels = tuple(_panel(index) for index in range(MAX_MODELS))
        group_id = gr.State(None)
    return CompareTab(tab, image, audio, models, estimate, start, cancel, summary, play, panels, group_id)


def _panel(index: int) -> ComparePanel:
    with gr.Column(visible=False, min_width=280, elem_id=f"compare-panel-{index}") as column:
        status = gr.HTML(
            "",
            css_template=STATUS_CSS + COMPARE_CSS,
            js_on_load=ELAPSED_CLOCK_JS,
            elem_id=f"compare-status-{index}",
        )
        video = gr.Video(label="Result", interactive=False, height=300, elem_id=f"compare-video-{index}")
    return ComparePanel(column, status, video)


def history_comparison() -> HistoryComparison:
    """The videos of a comparison picked in History (call inside the History tab)."""
    with gr.Row(visible=False, elem_id=HISTORY_RESULTS_ID) as row:
        videos = tuple(
            gr.Video(label="Video", interactive=False, height=300, visible=False) for _ in range(MAX_MODELS)
        )
    play = gr.Button("▶ Play all together", visible=False, elem_id="history-compare-play")
    return HistoryComparison(row, videos, play)
