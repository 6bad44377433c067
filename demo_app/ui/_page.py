"""The page: layout first, then wiring. Nothing here computes; handlers ask the services."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import gradio as gr
from gradio.helpers import Examples

from demo_app.catalog import CATALOG, DEFAULT_MODEL
from demo_app.grants import GrantGate
from demo_app.identity import KeyRing
from demo_app.presenters import STATUS_CSS, idle_status_html, model_info
from demo_app.services import engine_label
from demo_app.settings import Settings
from demo_app.ui._api import ApiEndpoints
from demo_app.ui._handlers import PageHandlers, ServicesSource
from demo_app.ui._options import ModelInputs
from demo_app.uploads import UploadPolicy, is_file_dict

ASSETS = Path(__file__).resolve().parents[2] / "assets"
SAMPLE_FACE = ASSETS / "sample-face.png"
SAMPLE_VOICE = ASSETS / "sample-voice.wav"
BROWSER_KEY_STORAGE = "lipsync-studio-visitor"
HISTORY_HEADERS = ["When", "Model", "Status", "Cost", "Job"]
HOLD_HEADERS = ["Since", "Amount", "Job"]
STATEMENT_HEADERS = ["When", "Entry", "Details", "Change", "Held change", "Balance", "Available"]

BALANCE_CSS = """
display: flex; flex-wrap: wrap; gap: 16px; align-items: baseline;
.ls-amount { font-size: 1.25em; font-weight: 700; }
.ls-sub { opacity: 0.8; }
"""


def build_ui(handle: ServicesSource, settings: Settings, uploads: UploadPolicy) -> gr.Blocks:
    """The visitor's page and the researchers' API, wired to the services behind `handle`;
    file arguments are accepted only as `uploads` allows (this Blocks' uploads and examples)."""
    if settings.api_key_secret is not None:
        keys = KeyRing(settings.api_key_secret.get_secret_value().encode())
    else:
        keys = KeyRing.from_file(settings.data_dir / "api-key-secret")
    with gr.Blocks(title="Lipsync Studio") as demo:
        uploads.track(demo.upload_file_set)
        owner = gr.State(None)
        job_id = gr.State(None)
        browser_key = gr.BrowserState(
            None,
            storage_key=BROWSER_KEY_STORAGE,
            secret=settings.browser_state_secret.get_secret_value(),
        )

        # ---- header ------------------------------------------------------------------
        with gr.Row(equal_height=True):
            with gr.Column(scale=3):
                gr.Markdown(
                    "# Lipsync Studio\nTurn one face image and one audio clip into a lip-synced "
                    "talking video."
                )
                gr.Markdown(f"**Engine:** {engine_label(settings)}", elem_id="engine")
            with gr.Column(scale=2, min_width=240):
                balance = gr.HTML("Balance: loading…", css_template=BALANCE_CSS, elem_id="balance")
                if os.getenv("SPACE_ID"):
                    gr.LoginButton(size="sm")

        with gr.Tabs():
            # ---- create --------------------------------------------------------------
            with gr.Tab("Create", id="create"), gr.Row():
                with gr.Column(scale=1, min_width=360):
                    image = gr.Image(
                        label="Face image",
                        type="filepath",
                        image_mode=None,
                        sources=["upload", "webcam", "clipboard"],
                        height=300,
                        elem_id="face",
                    )
                    audio = gr.Audio(
                        label="Voice (audio clip)",
                        type="filepath",
                        sources=["upload", "microphone"],
                        elem_id="voice",
                    )
                    examples = gr.Examples(
                        examples=[[str(SAMPLE_FACE), str(SAMPLE_VOICE)]],
                        inputs=[image, audio],
                        label="Try the sample face and voice",
                    )
                    uploads.allow_examples(_example_files(examples))
                    model = gr.Dropdown(
                        choices=[(spec.title, model_id) for model_id, spec in CATALOG.items()],
                        value=DEFAULT_MODEL,
                        label="Model",
                        elem_id="model",
                    )
                    about_model = gr.Markdown(model_info(DEFAULT_MODEL), elem_id="model-info")
                    model_inputs = ModelInputs(CATALOG, DEFAULT_MODEL)
                with gr.Column(scale=1, min_width=360):
                    estimate = gr.Markdown("Add a face image and an audio clip.", elem_id="estimate")
                    with gr.Row():
                        generate = gr.Button(
                            "Generate", variant="primary", interactive=False, elem_id="generate"
                        )
                        cancel = gr.Button("Cancel", variant="stop", visible=False, elem_id="cancel")
                        retry = gr.Button("Try again", visible=False, elem_id="retry")
                    status = gr.HTML(idle_status_html(), css_template=STATUS_CSS, elem_id="job-status")
                    logs = gr.Textbox(
                        label="Model log (latest lines)",
                        lines=4,
                        max_lines=8,
                        interactive=False,
                        autoscroll=True,
                        elem_id="logs",
                    )
                    video = gr.Video(label="Result", interactive=False, height=420, elem_id="result")
                    download = gr.DownloadButton("Download video", visible=False, elem_id="download")

            # ---- history ----------------------------------------------------------------
            with gr.Tab("History", id="history") as history_tab:
                gr.Markdown("Your jobs, newest first. Click a row to watch its video.")
                history = gr.Dataframe(
                    headers=HISTORY_HEADERS,
                    datatype="str",
                    interactive=False,
                    elem_id="history",
                )
                refresh_history = gr.Button("Refresh", size="sm")
                history_video = gr.Video(
                    label="Video", interactive=False, height=420, elem_id="history-video"
                )
                history_download = gr.DownloadButton("Download video", visible=False)

            # ---- credits -----------------------------------------------------------------
            with gr.Tab("Credits", id="credits") as credits_tab:
                credits_summary = gr.HTML("", elem_id="credits-summary")
                gr.Markdown("**Open holds** (credits set aside for jobs still running)")
                holds = gr.Dataframe(headers=HOLD_HEADERS, interactive=False, elem_id="holds")
                gr.Markdown("**Statement** (every change to your credits, oldest first)")
                statement = gr.Dataframe(headers=STATEMENT_HEADERS, interactive=False, elem_id="statement")
                refresh_credits = gr.Button("Refresh", size="sm")
                api_key = gr.Textbox(
                    label="Your API key",
                    info="Pass it as the first argument of every API call (see the README). Keep it private: "
                    "it spends your credits.",
                    interactive=False,
                    buttons=["copy"],
                    elem_id="api-key",
                )

        # ---- wiring ------------------------------------------------------------------------
        grants = GrantGate(settings.trusted_proxy_hops)
        handlers = PageHandlers(handle, keys, model_inputs, grants, uploads)
        run_outputs = [job_id, status, logs, video, download, generate, cancel, retry, balance]
        quote_inputs = [owner, model, image, audio]
        credits_outputs = [credits_summary, holds, statement, balance]
        loaded = demo.load(
            handlers.load, [browser_key], [browser_key, owner, api_key, balance], **_page_event("load")
        )
        loaded.success(handlers.resume, [owner], run_outputs, **_page_event("resume"))
        loaded.success(handlers.history, [owner], [history], **_page_event("history_on_load"))
        loaded.success(handlers.credits, [owner], credits_outputs, **_page_event("credits_on_load"))
        loaded.success(handlers.quote, quote_inputs, [estimate, generate], **_raw_event("quote_on_load"))

        gr.on(
            [image.change, audio.change, model.change],
            handlers.quote,
            quote_inputs,
            [estimate, generate],
            trigger_mode="always_last",
            **_raw_event("quote"),
        )
        model.change(
            handlers.choose_model,
            [model],
            [about_model, *model_inputs.outputs],
            queue=False,
            **_page_event("choose_model"),
        )
        run = gr.on(
            [generate.click, retry.click],
            handlers.generate,
            [owner, image, audio, model, *model_inputs.inputs],
            run_outputs,
            **_raw_event("generate"),
        )
        run.then(handlers.quote, quote_inputs, [estimate, generate], **_raw_event("quote_after_run"))
        run.then(handlers.history, [owner], [history], **_page_event("history_after_run"))
        cancel.click(handlers.cancel, [owner, job_id], [cancel], **_page_event("cancel"))
        job_id.change(handlers.history, [owner], [history], **_page_event("history_on_start"))

        gr.on(
            [history_tab.select, refresh_history.click],
            handlers.history,
            [owner],
            [history],
            **_page_event("history"),
        )
        history.select(
            handlers.history_video, [owner], [history_video, history_download], **_page_event("history_video")
        )
        gr.on(
            [credits_tab.select, refresh_credits.click],
            handlers.credits,
            [owner],
            credits_outputs,
            **_page_event("credits"),
        )

        ApiEndpoints(handle, keys, uploads).register()
    return demo


def _example_files(examples: Examples) -> list[str]:
    """The copies of the example files that Gradio made in its cache, which the sample button sends."""
    return [
        value["path"]
        for processed in examples.non_none_processed_examples.values()
        for value in processed
        if is_file_dict(value)
    ]


def _page_event(name: str) -> dict[str, Any]:
    """Settings of every page event: hidden from the API (its names stay free for the API's own),
    no progress overlay (the run panel is the progress), and never queued behind another visitor."""
    return {
        "api_name": f"page_{name}",
        "api_visibility": "private",
        "show_progress": "hidden",
        "concurrency_limit": None,
    }


def _raw_event(name: str) -> dict[str, Any]:
    """A page event whose handler gets the uploads as sent: our media checks judge every file and
    explain a bad one in a sentence, where Gradio's own image decoding would fail with a bare error."""
    return _page_event(name) | {"preprocess": False}
