"""The Gradio app: the page (layout, then wiring) and the API, over one visitors service."""

from __future__ import annotations

import gradio as gr

from demo_app.admin import AdminAccess, AdminDesk
from demo_app.credits import Ledger
from demo_app.settings import Settings
from demo_app.ui import _layout
from demo_app.ui._admin_handlers import AdminHandlers
from demo_app.ui._admin_tab import admin_unlock
from demo_app.ui._api import ApiEndpoints
from demo_app.ui._api_compare import CompareEndpoints
from demo_app.ui._batch_api import BatchEndpoints
from demo_app.ui._batch_handlers import BatchHandlers
from demo_app.ui._compare_handlers import CompareHandlers
from demo_app.ui._compare_wiring import wire_compare
from demo_app.ui._handlers import PageHandlers, ServicesSource
from demo_app.ui._share import ShareHandlers
from demo_app.ui._wiring import wire, wire_admin, wire_batches, wire_sharing
from demo_app.uploads import UploadPolicy
from demo_app.visitors import KeyRing, Visitors, visitors_from


def build_ui(
    handle: ServicesSource, settings: Settings, uploads: UploadPolicy, visitors: Visitors | None = None
) -> gr.Blocks:
    """The visitor's page and the researchers' API, wired to the services behind `handle`;
    file arguments are accepted only as `uploads` allows (this Blocks' uploads and examples).
    Both admit visitors through `visitors` (by default the one `settings` describe)."""
    visitors = visitors if visitors is not None else visitors_of(settings, handle)
    with gr.Blocks(title="Lipsync Studio") as demo:
        uploads.track(demo.upload_file_set)
        page = _layout.page(settings, uploads)
        wire(demo, page, PageHandlers(handle, visitors, page.create.model_inputs, uploads))
        wire_sharing(page, ShareHandlers(handle, settings))
        wire_compare(demo, page, CompareHandlers(handle, uploads))
        desk = AdminHandlers(AdminDesk(handle.get), AdminAccess.from_settings(settings))
        wire_admin(demo, page, admin_unlock(settings), desk)
        ApiEndpoints(handle, visitors, uploads).register()
        CompareEndpoints(handle, visitors, uploads).register()
        if page.batches is not None:
            wire_batches(demo, page.batches, BatchHandlers(handle, uploads))
        BatchEndpoints(handle, visitors, uploads).register()
    return demo


def visitors_of(settings: Settings, handle: ServicesSource) -> Visitors:
    """The visitors service of `settings`, opening accounts in the ledger of the opened services."""

    async def ledger() -> Ledger:
        return (await handle.get()).ledger

    async def keys() -> KeyRing:
        return (await handle.get()).keys

    return visitors_from(settings, ledger, keys)
