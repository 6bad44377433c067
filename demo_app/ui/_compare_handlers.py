"""What the Compare tab's events do, and the comparison's videos in History.

Like the Create tab's handlers these only watch: the job manager owns every member job, so a
closed tab or a reload leaves the comparison and its credits untouched. Every event can be
called by anyone with any arguments, so each speaks in sentences and takes files only through
the upload policy.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Sequence
from pathlib import Path
from typing import Any

import gradio as gr

from demo_app.arguments import BadArgument, job_id_text, model_text
from demo_app.jobs import (
    MAX_MODELS,
    MIN_MODELS,
    ComparisonSnapshot,
    JobNotFound,
    JobRefused,
    JobStatus,
    watch_comparison,
)
from demo_app.presenters import balance_html
from demo_app.services import Services
from demo_app.ui._compare_frames import CompareFrames
from demo_app.ui._compare_view import quote_text
from demo_app.ui._handlers import TITLES, ServicesSource
from demo_app.ui._latest import LatestCalls, tab_of
from demo_app.ui._sentences import refusal, speaks
from demo_app.uploads import NotAnUpload, UploadPolicy


class CompareHandlers:
    """The Compare tab's handlers, bound to the services and the upload policy."""

    def __init__(self, handle: ServicesSource, uploads: UploadPolicy) -> None:
        self._handle = handle
        self._uploads = uploads
        self._quotes = LatestCalls()

    @speaks
    async def quote(
        self, request: gr.Request, owner: str | None, image: Any, audio: Any, models: Any
    ) -> tuple[Any, Any]:
        """Each model's hold and their sum, and Compare enabled only when all of it could start;
        an answer that a newer call of the same tab has overtaken changes nothing (`_latest`)."""
        answered = await self._quotes.answer(tab_of(request), self._quote(owner, image, audio, models))
        return answered if answered is not None else (gr.skip(), gr.skip())

    async def _quote(self, owner: str | None, image: Any, audio: Any, models: Any) -> tuple[str, Any]:
        chosen = _models(models)
        if owner is None:
            return "Add a face image and an audio clip.", gr.Button(interactive=False)
        if not MIN_MODELS <= len(chosen) <= MAX_MODELS:
            return f"Choose {MIN_MODELS} or {MAX_MODELS} models to compare.", gr.Button(interactive=False)
        image_path, audio_path = self._upload(image, "face image"), self._upload(audio, "audio clip")
        services = await self._handle.get()
        quotes = [await services.jobs.quote(owner, model, image_path, audio_path) for model in chosen]
        available = (await services.ledger.balance(owner)).available
        text = quote_text(chosen, quotes, available, TITLES)
        if services.jobs.open_jobs(owner) >= services.settings.max_jobs_per_owner:
            text = "A job is running: wait for it to finish or cancel it, then compare."
        return text, gr.Button(interactive=text.startswith("≈"))

    @speaks
    async def start(
        self, owner: str | None, image: Any, audio: Any, models: Any
    ) -> AsyncIterator[tuple[Any, ...]]:
        """Start the comparison and follow every member to its end."""
        if owner is None:
            raise refusal("The page is still loading; press Compare again in a second.", "Cannot start")
        image_path, audio_path = self._upload(image, "face image"), self._upload(audio, "audio clip")
        if not image_path or not audio_path:
            raise refusal("Add a face image and an audio clip first.", "Missing input")
        services = await self._handle.get()
        try:
            first = await services.jobs.start_comparison(owner, image_path, audio_path, _models(models))
        except JobRefused as exc:
            raise refusal(str(exc), "Cannot start") from None
        frames = CompareFrames(TITLES, lambda: _balance_html(services, owner))
        frame = await frames.frame(first)
        if frame is not None:
            yield frame
        async for comparison in watch_comparison(
            lambda job_id: services.jobs.subscribe(owner, job_id), first
        ):
            frame = await frames.frame(comparison)
            if frame is not None:
                yield frame

    @speaks
    async def cancel(self, owner: str | None, group_id: str | None) -> AsyncIterator[Any]:
        """Cancel every member still running; each returns its own hold."""
        if owner is None or group_id is None:
            yield gr.Button(visible=False)
            return
        yield gr.Button(value="Canceling…", interactive=False)
        services = await self._handle.get()
        try:
            comparison = services.jobs.comparison(owner, job_id_text(group_id))
        except (JobNotFound, BadArgument) as exc:
            raise refusal(str(exc), "Cannot cancel") from None
        running = [m.job_id for m in comparison.members if not m.terminal]
        await asyncio.gather(*(services.jobs.cancel(owner, job_id) for job_id in running))
        yield gr.Button(value="Cancel all", visible=False, interactive=True)

    @speaks
    async def history_videos(self, owner: str | None, evt: gr.SelectData) -> list[Any]:
        """The videos of the comparison whose History row was clicked (hidden for a single job)."""
        row = evt.row_value if isinstance(evt.row_value, Sequence) else None
        comparison = await self._comparison(owner, row[-1] if row else None)
        if comparison is None:
            return [gr.Row(visible=False), *_history_videos([]), gr.Button(visible=False)]
        shown = []
        for member in comparison.members:
            path = member.video_path if member.status is JobStatus.SUCCEEDED else None
            exists = path is not None and await asyncio.to_thread(Path(path).is_file)
            shown.append((TITLES.get(member.model, member.model), path if exists else None))
        playable = any(path for _title, path in shown)
        return [gr.Row(visible=True), *_history_videos(shown), gr.Button(visible=playable)]

    async def _comparison(self, owner: str | None, group_id: Any) -> ComparisonSnapshot | None:
        if owner is None or group_id is None:
            return None
        services = await self._handle.get()
        try:
            return services.jobs.comparison(owner, job_id_text(group_id))
        except (JobNotFound, BadArgument):
            return None

    def _upload(self, value: Any, what: str) -> str | None:
        try:
            return self._uploads.path_of(value, what)
        except NotAnUpload:
            raise refusal(
                f"Choose the {what} again: the server no longer has the file on the page.",
                "Choose the file again",
            ) from None


def _models(value: Any) -> list[str]:
    """The models ticked, as text (anything else is refused in a sentence)."""
    if not isinstance(value, list) or len(value) > 2 * MAX_MODELS:
        raise BadArgument(f"Choose {MIN_MODELS} or {MAX_MODELS} models to compare.", title="Cannot start")
    return [model_text(model) for model in value]


def _history_videos(shown: Sequence[tuple[str, str | None]]) -> list[Any]:
    """One update per video place: the model's name and its video, or hidden."""
    updates = []
    for index in range(MAX_MODELS):
        if index < len(shown):
            title, path = shown[index]
            label = title if path else f"{title} (no video)"
            updates.append(gr.Video(value=path, label=label, visible=True))
        else:
            updates.append(gr.Video(value=None, visible=False))
    return updates


async def _balance_html(services: Services, owner: str) -> str:
    return balance_html(await services.ledger.balance(owner))
