"""The page's events: which component change calls which handler, with which inputs and outputs.

Every page event is hidden from the API, shows no progress overlay (the run panel is the
progress) and is never queued behind another visitor (`_page_event`).
"""

from __future__ import annotations

from typing import Any

import gradio as gr
from gradio.events import Dependency

from demo_app.ui._admin_handlers import AdminHandlers
from demo_app.ui._admin_tab import AdminUnlock
from demo_app.ui._batch_handlers import BatchHandlers
from demo_app.ui._batch_tab import BatchTab, frame_outputs
from demo_app.ui._handlers import PageHandlers
from demo_app.ui._layout import Page
from demo_app.ui._share import ShareHandlers
from demo_app.ui._viewport import SHOW_RUN_PANEL_JS, wire_viewport


def wire(demo: gr.Blocks, page: Page, handlers: PageHandlers) -> None:
    """Connect every event of `page` (call inside `demo`, the Blocks that holds it)."""
    _wire_load(demo, page, handlers)
    _wire_create(page, handlers)
    _wire_history(page, handlers)
    _wire_credits(page, handlers)
    wire_viewport(page.create.logs)


def _run_outputs(page: Page) -> list[Any]:
    """The run panel, in the order of `_run.RUN_FIELDS`."""
    c = page.create
    return [page.job_id, c.status, c.logs, c.video, c.download, c.generate, c.cancel, c.retry, page.balance]


def _quote_inputs(page: Page) -> list[Any]:
    """The estimate follows the options too: a price may follow one (a resolution, a mode)."""
    c = page.create
    return [page.owner, c.model, c.image, c.audio, *c.preflight.inputs, *c.model_inputs.inputs]


def _credits_outputs(page: Page) -> list[Any]:
    c = page.credits
    return [c.summary, c.holds, c.statement, page.balance]


def _wire_load(demo: gr.Blocks, page: Page, handlers: PageHandlers) -> None:
    """On load: admit the visitor, then resume their running job and fill the tabs."""
    identity = [page.browser_key, page.owner, page.credits.api_key, page.balance]
    loaded = demo.load(handlers.load, [page.browser_key], identity, **_page_event("load"))
    resumed = loaded.success(handlers.resume, [page.owner], _run_outputs(page), **_page_event("resume"))
    _ask_estimate_after(resumed, page, handlers, "resume")
    loaded.success(
        handlers.about_model, [page.create.model], [page.create.about_model], **_page_event("about_on_load")
    )
    loaded.success(handlers.history, [page.owner], [page.history.table], **_page_event("history_on_load"))
    loaded.success(handlers.credits, [page.owner], _credits_outputs(page), **_page_event("credits_on_load"))


def _wire_create(page: Page, handlers: PageHandlers) -> None:
    """The live estimate, the model's options, Generate / Try again and Cancel.

    The estimate and Generate have ONE writer: the event "quote", fired by every change the
    estimate depends on (the visitor known, a job started, a run ended, the files, the model, the
    options and choices). With `always_last` the browser never runs it twice at once: a change
    while it runs asks once more when it ends, with the inputs of that moment. So the last answer
    shown is always the one for the latest inputs (two separate events could finish out of order).
    """
    c = page.create
    option_changes = [component.change for component in c.model_inputs.components]
    moments = [page.owner.change, page.job_id.change, c.estimate_asked.change]
    gr.on(
        [*moments, c.image.change, c.audio.change, c.model.change, *option_changes, *c.preflight.triggers],
        handlers.preflight,
        _quote_inputs(page),
        [c.estimate, c.generate, *c.preflight.outputs],
        trigger_mode="always_last",
        **_raw_event("quote"),
    )
    c.model.change(
        handlers.choose_model,
        [c.model],
        [c.about_model, *c.model_inputs.outputs],
        queue=False,
        **_page_event("choose_model"),
    )
    generated = c.generate.click(
        handlers.generate,
        [page.owner, c.image, c.audio, c.model, *c.preflight.inputs, *c.model_inputs.inputs],
        _run_outputs(page),
        # Another click while a job runs starts another (within the owner's limit); the run
        # panel then follows the newest job and the older event stops (`PageHandlers._follow`).
        trigger_mode="multiple",
        js=SHOW_RUN_PANEL_JS,
        **_raw_event("generate"),
    )
    retried = c.retry.click(
        handlers.retry,
        [page.owner, page.job_id, c.image, c.audio, c.model, *c.preflight.inputs, *c.model_inputs.inputs],
        _run_outputs(page),
        trigger_mode="multiple",
        js=SHOW_RUN_PANEL_JS,
        **_raw_event("retry"),
    )
    for name, run in (("run", generated), ("retry", retried)):
        _ask_estimate_after(run, page, handlers, name)
        run.then(
            handlers.history, [page.owner], [page.history.table], **_page_event(f"history_after_{name}")
        )
    c.cancel.click(handlers.cancel, [page.owner, page.job_id], [c.cancel], **_page_event("cancel"))
    page.job_id.change(
        handlers.history, [page.owner], [page.history.table], **_page_event("history_on_start")
    )


def _ask_estimate_after(event: Dependency, page: Page, handlers: PageHandlers, name: str) -> None:
    """When `event` (a run, or the resumed job's) ends, the owner may start another: the estimate
    is asked again through its own event, never answered by a second writer."""
    event.then(
        handlers.ask_estimate, None, [page.create.estimate_asked], **_page_event(f"estimate_after_{name}")
    )


def _wire_history(page: Page, handlers: PageHandlers) -> None:
    """The History tab: refreshed when shown, a row's video when clicked."""
    h = page.history
    shown = [h.tab.select, h.refresh.click]
    gr.on(shown, handlers.history, [page.owner], [h.table], **_page_event("history"))
    video = [h.video, h.download]
    h.table.select(handlers.history_video, [page.owner], video, **_page_event("history_video"))


def wire_sharing(page: Page, handlers: ShareHandlers) -> None:
    """History's manifest and share controls follow the row clicked; Share and Stop sharing act on it."""
    s = page.history.sharing
    controls = [s.share, s.unshare, s.link]
    picked = [s.job_id, s.manifest, *controls]
    page.history.table.select(handlers.selected, [page.owner], picked, **_page_event("history_pick"))
    s.share.click(handlers.share, [page.owner, s.job_id], controls, **_page_event("share"))
    s.unshare.click(handlers.unshare, [page.owner, s.job_id], controls, **_page_event("unshare"))


def _wire_credits(page: Page, handlers: PageHandlers) -> None:
    """The Credits tab: refreshed when shown."""
    c = page.credits
    gr.on(
        [c.tab.select, c.refresh.click],
        handlers.credits,
        [page.owner],
        _credits_outputs(page),
        **_page_event("credits"),
    )


def wire_admin(demo: gr.Blocks, page: Page, unlock: AdminUnlock | None, handlers: AdminHandlers) -> None:
    """The Admin tab: shown on load to a signed-in admin (or after the key unlocks it), filled
    when shown; every event's handler checks its caller again."""
    a = page.admin
    assert a is not None
    overview = [a.spend, a.running, a.failures]
    if handlers.anyone_signs_in:
        demo.load(handlers.check, None, [a.tab, a.admin, a.who], **_page_event("admin_check"))
    if unlock is not None:
        opened = unlock.unlock.click(
            handlers.unlock,
            [unlock.key, unlock.name],
            [a.tab, a.admin, a.who, unlock.message, unlock.key],
            **_page_event("admin_unlock"),
        )
        opened.success(handlers.overview, [a.admin], overview, **_page_event("admin_after_unlock"))
    gr.on([a.tab.select, a.refresh.click], handlers.overview, [a.admin], overview, **_page_event("admin"))
    a.running.select(handlers.pick, [a.admin], [a.job_id], **_page_event("admin_pick"))
    a.cancel.click(
        handlers.cancel, [a.admin, a.job_id], [a.message, *overview[1:]], **_page_event("admin_cancel")
    )
    statement = [a.summary, a.statement]
    a.show.click(
        handlers.statement, [a.admin, a.owner], [*statement, a.message], **_page_event("admin_statement")
    )
    change = [a.admin, a.owner, a.credits, a.reason]
    a.grant.click(handlers.grant, change, [a.message, *statement], **_page_event("admin_grant"))
    a.take.click(handlers.take, change, [a.message, *statement], **_page_event("admin_take"))
def wire_batches(demo: gr.Blocks, tab: BatchTab, handlers: BatchHandlers) -> None:
    """The "Several clips" tab: shown to signed-in visitors on load (with their newest batch),
    Start follows the new batch, Cancel stops it."""
    demo.load(handlers.show, [], [tab.signed_out, tab.form, *frame_outputs(tab)], **_page_event("batch_show"))
    tab.start.click(
        handlers.start,
        [tab.face, tab.clips, tab.model],
        frame_outputs(tab),
        trigger_mode="once",
        **_raw_event("batch_start"),
    )
    tab.cancel.click(handlers.cancel, [tab.batch_id], [tab.status], **_page_event("batch_cancel"))


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
