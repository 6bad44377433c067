"""The page's layout: the header and one builder per tab, each returning the components it made.

Nothing here reacts to anything; `_wiring` connects these components to the handlers.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import gradio as gr
from gradio.helpers import Examples

from demo_app.catalog import current_offer
from demo_app.presenters import ELAPSED_CLOCK_JS, STATUS_CSS, idle_status_html, model_info
from demo_app.services import engine_label
from demo_app.settings import Settings
from demo_app.ui._admin_tab import AdminTab, admin_tab
from demo_app.ui._batch_tab import BatchTab, batch_tab
from demo_app.ui._compare_layout import CompareTab, HistoryComparison, compare_tab, history_comparison
from demo_app.ui._notify import notify_toggle
from demo_app.ui._options import ModelInputs
from demo_app.ui._preflight import PreflightPanel, preflight_panel
from demo_app.ui._viewport import narrow_tables
from demo_app.uploads import UploadPolicy, is_file_dict

ASSETS = Path(__file__).resolve().parents[2] / "assets"
SAMPLE_FACE = ASSETS / "sample-face.png"
SAMPLE_VOICE = ASSETS / "sample-voice.wav"
BROWSER_KEY_STORAGE = "lipsync-studio-visitor"
HISTORY_HEADERS = ["When", "Model", "Status", "Cost", "Job"]
HOLD_HEADERS = ["Since", "Amount", "Job"]
SHARE_INFO = "Anyone with this link can watch the video; not your inputs, credits or other jobs."
STATEMENT_HEADERS = ["When", "Entry", "Details", "Change", "Held change", "Balance", "Available"]

BALANCE_CSS = """
display: flex; flex-wrap: wrap; gap: 16px; align-items: baseline;
.ls-amount { font-size: 1.25em; font-weight: 700; }
.ls-sub { opacity: 0.8; }
"""


@dataclass(frozen=True)
class CreateTab:
    """The inputs, the live estimate and the run panel."""

    image: gr.Image
    audio: gr.Audio
    model: gr.Dropdown
    about_model: gr.Markdown
    model_inputs: ModelInputs
    estimate: gr.Markdown
    generate: gr.Button
    cancel: gr.Button
    retry: gr.Button
    status: gr.HTML
    logs: gr.Textbox
    video: gr.Video
    download: gr.DownloadButton
    preflight: PreflightPanel
    estimate_asked: gr.State
    """A fresh token each time the estimate must be asked again for a moment no input marks (a run
    ended): its change is one of the estimate's triggers."""


@dataclass(frozen=True)
class ShareBox:
    """The clicked job's manifest download and its share link."""

    job_id: gr.State
    manifest: gr.DownloadButton
    share: gr.Button
    unshare: gr.Button
    link: gr.Textbox


@dataclass(frozen=True)
class HistoryTab:
    """The visitor's jobs and the video of the row clicked."""

    tab: gr.Tab
    table: gr.Dataframe
    refresh: gr.Button
    video: gr.Video
    download: gr.DownloadButton
    sharing: ShareBox
    comparison: HistoryComparison | None = None


@dataclass(frozen=True)
class CreditsTab:
    """The balance, open holds, statement and the visitor's API key."""

    tab: gr.Tab
    summary: gr.HTML
    holds: gr.Dataframe
    statement: gr.Dataframe
    refresh: gr.Button
    api_key: gr.Textbox


def header(settings: Settings) -> gr.HTML:
    """Title, engine and the balance (returned); Sign in with Hugging Face only on a Space."""
    with gr.Row(equal_height=True):
        with gr.Column(scale=3):
            gr.Markdown(
                "# Lipsync Studio\nTurn one face image and one audio clip into a lip-synced talking video."
            )
            gr.Markdown(f"**Engine:** {engine_label(settings)}", elem_id="engine")
        with gr.Column(scale=2, min_width=240):
            balance = gr.HTML("Balance: loading…", css_template=BALANCE_CSS, elem_id="balance")
            if settings.space_id:
                gr.LoginButton(size="sm")
    return balance


def create_tab(uploads: UploadPolicy) -> CreateTab:
    """The Create tab; the sample files become uploads the policy accepts."""
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
                label="Voice (audio clip)", type="filepath", sources=["upload", "microphone"], elem_id="voice"
            )
            preflight = preflight_panel()
            examples = gr.Examples(
                examples=[[str(SAMPLE_FACE), str(SAMPLE_VOICE)]],
                inputs=[image, audio],
                label="Try the sample face and voice",
            )
            uploads.allow_examples(_example_files(examples))
            model, about_model, model_inputs = _model_choice()
        with gr.Column(scale=1, min_width=360):
            estimate = gr.Markdown("Add a face image and an audio clip.", elem_id="estimate")
            with gr.Row():
                generate = gr.Button("Generate", variant="primary", interactive=False, elem_id="generate")
                cancel = gr.Button("Cancel", variant="stop", visible=False, elem_id="cancel")
                retry = gr.Button("Try again", visible=False, elem_id="retry")
            status = gr.HTML(
                idle_status_html(), css_template=STATUS_CSS, js_on_load=ELAPSED_CLOCK_JS, elem_id="job-status"
            )
            notify_toggle()
            narrow_tables()
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
            estimate_asked = gr.State(None)
    return CreateTab(
        image=image,
        audio=audio,
        model=model,
        about_model=about_model,
        model_inputs=model_inputs,
        estimate=estimate,
        generate=generate,
        cancel=cancel,
        retry=retry,
        status=status,
        logs=logs,
        video=video,
        download=download,
        preflight=preflight,
        estimate_asked=estimate_asked,
    )


def _model_choice() -> tuple[gr.Dropdown, gr.Markdown, ModelInputs]:
    """The model menu, a line about the chosen model, and its prompt and options."""
    offer = current_offer()
    model = gr.Dropdown(
        choices=[(spec.label, model_id) for model_id, spec in offer.models.items()],
        value=offer.default,
        label="Model",
        elem_id="model",
    )
    about_model = gr.Markdown(model_info(offer.default), elem_id="model-info")
    return model, about_model, ModelInputs(offer.models, offer.default)


def history_tab() -> HistoryTab:
    """The History tab."""
    with gr.Tab("History", id="history") as tab:
        gr.Markdown("Your jobs, newest first. Click a row to watch its video.")
        # Wrapped cells: on a phone every column fits the screen instead of running off its edge.
        table = gr.Dataframe(
            headers=HISTORY_HEADERS, datatype="str", interactive=False, wrap=True, elem_id="history"
        )
        refresh = gr.Button("Refresh", size="sm")
        video = gr.Video(label="Video", interactive=False, height=420, elem_id="history-video")
        download = gr.DownloadButton("Download video", visible=False)
        sharing = share_box()
        comparison = history_comparison()
    return HistoryTab(tab, table, refresh, video, download, sharing, comparison)


def share_box() -> ShareBox:
    """The clicked job's manifest and share controls (hidden until a row is clicked)."""
    job_id = gr.State(None)
    with gr.Row():
        manifest = gr.DownloadButton(
            "Download manifest (.json)", visible=False, size="sm", elem_id="history-manifest"
        )
        share = gr.Button("Share", visible=False, size="sm", elem_id="history-share")
        unshare = gr.Button(
            "Stop sharing", visible=False, size="sm", variant="stop", elem_id="history-unshare"
        )
    link = gr.Textbox(
        label="Share link",
        info=SHARE_INFO,
        lines=2,
        visible=False,
        interactive=False,
        buttons=["copy"],
        elem_id="history-share-link",
    )
    return ShareBox(job_id, manifest, share, unshare, link)


def credits_tab() -> CreditsTab:
    """The Credits tab."""
    with gr.Tab("Credits", id="credits") as tab:
        summary = gr.HTML("", elem_id="credits-summary")
        gr.Markdown("**Open holds** (credits set aside for jobs still running)")
        holds = gr.Dataframe(headers=HOLD_HEADERS, interactive=False, wrap=True, elem_id="holds")
        gr.Markdown("**Statement** (every change to your credits, oldest first)")
        statement = gr.Dataframe(headers=STATEMENT_HEADERS, interactive=False, wrap=True, elem_id="statement")
        refresh = gr.Button("Refresh", size="sm")
        api_key = gr.Textbox(
            label="Your API key",
            info="Pass it as the first argument of every API call (see the README). Keep it private: "
            "it spends your credits.",
            interactive=False,
            buttons=["copy"],
            elem_id="api-key",
        )
    return CreditsTab(tab, summary, holds, statement, refresh, api_key)


def _example_files(examples: Examples) -> list[str]:
    """The copies of the example files that Gradio made in its cache, which the sample button sends."""
    return [
        value["path"]
        for processed in examples.non_none_processed_examples.values()
        for value in processed
        if is_file_dict(value)
    ]


@dataclass(frozen=True)
class Page:
    """Every component the events read or write, with the visitor's per-tab state."""

    owner: gr.State
    job_id: gr.State
    browser_key: gr.BrowserState
    balance: gr.HTML
    create: CreateTab
    history: HistoryTab
    credits: CreditsTab
    compare: CompareTab | None = None
    admin: AdminTab | None = None
    """The owner's desk, hidden from everyone but admins."""
    batches: BatchTab | None = None


def page(settings: Settings, uploads: UploadPolicy) -> Page:
    """The whole page (call inside `with gr.Blocks():`); the browser keeps the visitor's key."""
    owner = gr.State(None)
    job_id = gr.State(None)
    browser_key = gr.BrowserState(
        None, storage_key=BROWSER_KEY_STORAGE, secret=settings.browser_state_secret.get_secret_value()
    )
    balance = header(settings)
    admin_state = gr.State(None)
    # Wrap rather than hide: on a phone every tab stays one tap away.
    with gr.Tabs(overflow_behavior="wrap"):
        create = create_tab(uploads)
        compare = compare_tab(uploads)
        history = history_tab()
        credits = credits_tab()
        batches = batch_tab()
        admin = admin_tab(STATEMENT_HEADERS, admin_state)
    return Page(owner, job_id, browser_key, balance, create, history, credits, compare, admin, batches)
