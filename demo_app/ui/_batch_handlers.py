"""What the "Several clips" tab does: start a batch for the signed-in visitor, follow it item by
item (woken by its changes, never on a timer), cancel it, and offer the zip once it finished.

The owner is the Hugging Face account of the request's session, never a value the page sends.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import gradio as gr

from demo_app.arguments import model_text
from demo_app.batches import Batches, BatchRefused, BatchView, ItemView, pairs_of, shown_name
from demo_app.money import format_credits
from demo_app.ui._batch_tab import SIGN_IN
from demo_app.ui._handlers import ServicesSource
from demo_app.ui._sentences import refusal, speaks
from demo_app.uploads import NotAnUpload, UploadPolicy
from demo_app.visitors import HF_PREFIX

Frame = tuple[Any, ...]


class BatchHandlers:
    """The tab's handlers, bound to the services and the upload policy."""

    def __init__(self, handle: ServicesSource, uploads: UploadPolicy) -> None:
        self._handle = handle
        self._uploads = uploads

    @speaks
    async def show(self, profile: gr.OAuthProfile | None) -> AsyncIterator[Frame]:
        """On load: the form for a signed-in visitor (else the sign-in sentence), then their
        newest batch followed to its end, so a reloaded page picks it up again."""
        yield gr.Markdown(visible=profile is None), gr.Column(visible=profile is not None), *idle()
        if profile is None:
            return
        batches, owner = await self._batches(), HF_PREFIX + profile.username
        latest = await batches.latest(owner)
        if latest is not None:
            async for view in batches.watch(owner, latest.batch_id):
                yield gr.skip(), gr.skip(), *await frame(batches, owner, view)

    @speaks
    async def start(
        self, face: Any, clips: Any, model: str, profile: gr.OAuthProfile | None
    ) -> AsyncIterator[Frame]:
        """Check the whole batch (a modal names the first bad clip), then follow it to its end."""
        owner = _owner(profile)
        face_path = self._upload(face, "Add a face image.")
        values = clips if isinstance(clips, list) else []
        paths = [self._upload(value, "Add the audio clips again.") for value in values]
        names = [shown_name(str(value.get("orig_name") or value.get("path"))) for value in values]
        batches = await self._batches()
        yield checking()
        try:
            started = await batches.start(owner, pairs_of([face_path], paths, names), model_text(model), {})
        except BatchRefused as exc:
            raise refusal(str(exc), title="Cannot start") from None
        async for view in batches.watch(owner, started.batch_id):
            yield await frame(batches, owner, view)

    @speaks
    async def cancel(self, batch_id: str | None, profile: gr.OAuthProfile | None) -> str:
        """Cancel the batch the tab follows (its follower then shows the end)."""
        owner = _owner(profile)
        if batch_id:
            await (await self._batches()).cancel(owner, batch_id)
        return "Canceling…"

    async def _batches(self) -> Batches:
        services = await self._handle.get()
        assert services.batches is not None
        return services.batches

    def _upload(self, value: Any, missing: str) -> str:
        try:
            path = self._uploads.path_of(value, "file")
        except NotAnUpload:
            path = None
        if path is None:
            raise refusal(missing, title="Missing input")
        return path


def checking() -> Frame:
    """While every clip is checked (a few seconds for twenty): nothing to show yet but the news."""
    return None, "Checking every clip…", [], gr.Button(interactive=False), gr.Button(visible=False), gr.skip()


def idle() -> Frame:
    """The tab before any batch: no table, Start enabled."""
    return (
        None,
        "",
        [],
        gr.Button(interactive=True),
        gr.Button(visible=False),
        gr.DownloadButton(visible=False),
    )


async def frame(batches: Batches, owner: str, view: BatchView) -> Frame:
    """The batch as the tab shows it; the zip is offered once it finished with a video."""
    archive = await batches.results(owner, view.batch_id) if view.finished and view.succeeded else None
    return (
        view.batch_id,
        _summary(view),
        [_row(item) for item in view.items],
        gr.Button(interactive=view.finished),
        gr.Button(visible=not view.finished),
        gr.DownloadButton(value=str(archive) if archive else None, visible=archive is not None),
    )


def _summary(view: BatchView) -> str:
    done = sum(item.status not in RUNNING for item in view.items)
    if not view.finished:
        return f"**Running:** {done} of {len(view.items)} clips done."
    ended = "Canceled" if view.canceled else "Finished"
    return f"**{ended}:** {view.succeeded} of {len(view.items)} clips succeeded."


RUNNING = {"waiting", "queued", "uploading", "starting", "processing", "downloading"}


def _row(item: ItemView) -> list[str]:
    if item.charged is not None:
        credits = format_credits(item.charged)
    elif item.held:
        credits = f"{format_credits(item.held)} held"
    else:
        credits = ""
    return [str(item.number), item.clip, item.status, credits, item.error or ""]


def _owner(profile: gr.OAuthProfile | None) -> str:
    if profile is None:
        raise refusal(SIGN_IN, title="Sign in first")
    return HF_PREFIX + profile.username
