"""The Admin tab (hidden until an admin is known) and, where nobody can sign in, its unlock box.

Only the layout: `_wiring.wire_admin` connects it to `_admin_handlers`.
"""

from __future__ import annotations

from dataclasses import dataclass

import gradio as gr

from demo_app.settings import Settings
from demo_app.ui._admin_text import FAILURE_HEADERS, RUNNING_HEADERS


@dataclass(frozen=True)
class AdminTab:
    """The desk's components and the session's admin (an `Admin`, set only by the handlers)."""

    tab: gr.Tab
    admin: gr.State
    who: gr.Markdown
    spend: gr.HTML
    running: gr.Dataframe
    failures: gr.Dataframe
    refresh: gr.Button
    job_id: gr.Textbox
    cancel: gr.Button
    owner: gr.Textbox
    show: gr.Button
    summary: gr.HTML
    statement: gr.Dataframe
    credits: gr.Number
    reason: gr.Textbox
    grant: gr.Button
    take: gr.Button
    message: gr.Markdown


@dataclass(frozen=True)
class AdminUnlock:
    """Where the admin key opens the desk (self-hosted pages without Hugging Face sign-in)."""

    key: gr.Textbox
    name: gr.Textbox
    unlock: gr.Button
    message: gr.Markdown


def admin_tab(statement_headers: list[str], admin: gr.State) -> AdminTab:
    """The Admin tab, invisible; call inside the page's `gr.Tabs()`, with the session's admin
    state made outside it (a block among the tabs that is not a tab breaks their selection)."""
    with gr.Tab("Admin", id="admin", visible=False) as tab:
        who = gr.Markdown("", elem_id="admin-who")
        spend = gr.HTML("", elem_id="admin-spend")
        gr.Markdown("**Running jobs** (every visitor's; pick a row, then Cancel)")
        running = gr.Dataframe(headers=RUNNING_HEADERS, interactive=False, elem_id="admin-running")
        with gr.Row(equal_height=True):
            job_id = gr.Textbox(label="Job id", max_length=64, scale=3, elem_id="admin-job")
            cancel = gr.Button("Cancel job", variant="stop", scale=1, elem_id="admin-cancel")
        gr.Markdown("**Recent failures** (failed or timed out, newest first)")
        failures = gr.Dataframe(headers=FAILURE_HEADERS, interactive=False, elem_id="admin-failures")
        refresh = gr.Button("Refresh", size="sm", elem_id="admin-refresh")
        gr.Markdown("**A visitor's credits**")
        with gr.Row(equal_height=True):
            owner = gr.Textbox(
                label="Owner id",
                placeholder="hf:alice or browser:…",
                max_length=200,
                scale=3,
                elem_id="admin-owner",
            )
            show = gr.Button("Show statement", scale=1, elem_id="admin-show")
        with gr.Row(equal_height=True):
            credits = gr.Number(label="Credits", precision=0, minimum=1, scale=1, elem_id="admin-credits")
            reason = gr.Textbox(
                label="Reason (the visitor reads it)", max_length=200, scale=3, elem_id="admin-reason"
            )
        with gr.Row():
            grant = gr.Button("Grant credits", variant="primary", elem_id="admin-grant")
            take = gr.Button("Take credits", elem_id="admin-take")
        message = gr.Markdown("", elem_id="admin-message")
        summary = gr.HTML("", elem_id="admin-summary")
        statement = gr.Dataframe(headers=statement_headers, interactive=False, elem_id="admin-statement")
    return AdminTab(
        tab=tab,
        admin=admin,
        who=who,
        spend=spend,
        running=running,
        failures=failures,
        refresh=refresh,
        job_id=job_id,
        cancel=cancel,
        owner=owner,
        show=show,
        summary=summary,
        statement=statement,
        credits=credits,
        reason=reason,
        grant=grant,
        take=take,
        message=message,
    )


def admin_unlock(settings: Settings) -> AdminUnlock | None:
    """The unlock box, only where nobody signs in with Hugging Face (no Space) and a key is set.

    On a Space admins sign in: a key box there would let every visitor try keys, and a
    Hugging Face name is what the ledger should record."""
    if settings.space_id or settings.admin_key is None:
        return None
    with gr.Accordion("Owner's desk", open=False, elem_id="admin-unlock"):
        with gr.Row(equal_height=True):
            key = gr.Textbox(label="Admin key", type="password", max_length=200, elem_id="admin-key")
            name = gr.Textbox(label="Your name (for the ledger)", max_length=40, elem_id="admin-name")
            unlock = gr.Button("Open the Admin tab", elem_id="admin-open")
        message = gr.Markdown("", elem_id="admin-unlock-message")
    return AdminUnlock(key, name, unlock, message)
